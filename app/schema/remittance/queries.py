"""The billing office's work queues and the imported files, as paged lists with filters (billing.read)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Annotated

import strawberry

from app.db.queries import claim_batches
from app.db.queries import remittance as queries
from app.errors import BadInput
from app.ids import decode_id
from app.operations.common import facilities_seen
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.pagination import page_args
from app.schema.permissions import scoped
from app.schema.remittance.types import ClaimBatch, EdiFile, EdiKind, FilingDeadline, SessionQueueItem

ClaimType = Annotated["Claim", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily

MAX_HOURS = 24 * 366
MAX_WITHIN_DAYS = 3660


def _payer(payer_id: strawberry.ID | None):
    return decode_id(payer_id, "Payer") if payer_id else None


@strawberry.type
class RemittanceQuery:
    @strawberry.field(
        **scoped(Scope.BILLING_READ),
        description="Imported X12 files, newest first (for callers of every facility: a file answers claims of any).",
    )
    async def edi_files(
        self, info: Info, kind: EdiKind | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[EdiFile]:
        window = page_args(first, after)
        rows, total = await info.context.loaders.run(
            partial(
                queries.edi_files_page,
                kind=kind.value if kind else None,
                every_facility=info.context.principal.all_facilities,
                window=window,
            )
        )
        return Connection.from_page(rows, window, total)

    @strawberry.field(**scoped(Scope.BILLING_READ), description="The daily submissions' 837P batches, newest first.")
    async def claim_batches(
        self, info: Info, payer_id: strawberry.ID | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[ClaimBatch]:
        window = page_args(first, after)
        rows, total = await info.context.loaders.run(
            partial(
                claim_batches.batches_page,
                facility_ids=facilities_seen(info.context.principal),
                payer_id=_payer(payer_id),
                window=window,
            )
        )
        return Connection.from_page(rows, window, total)

    @strawberry.field(
        **scoped(Scope.BILLING_READ),
        description="Claims the payer rejected (999 or 277CA), with its reason in payerReason; newest first.",
    )
    async def rejected_claims(
        self, info: Info, payer_id: strawberry.ID | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[ClaimType]:
        window = page_args(first, after)
        rows, total = await info.context.loaders.run(
            partial(
                queries.rejected_claims_page,
                among=facilities_seen(info.context.principal),
                payer_id=_payer(payer_id),
                window=window,
            )
        )
        return Connection.from_page(rows, window, total)

    @strawberry.field(
        **scoped(Scope.BILLING_READ),
        description="Claims the payer denied (835), by CARC (denialCarc), or of one CARC; newest first within it.",
    )
    async def denied_claims(
        self,
        info: Info,
        carc: str | None = None,
        payer_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ClaimType]:
        window = page_args(first, after)
        rows, total = await info.context.loaders.run(
            partial(
                queries.denied_claims_page,
                among=facilities_seen(info.context.principal),
                payer_id=_payer(payer_id),
                carc=carc.strip() if carc else None,
                window=window,
            )
        )
        return Connection.from_page(rows, window, total)

    @strawberry.field(
        **scoped(Scope.BILLING_READ),
        description="Sessions still awaiting finalization `hoursAfterEnd` hours (or more) after they ended.",
    )
    async def sessions_awaiting_finalization(
        self, info: Info, hours_after_end: float = 0, first: int | None = None, after: str | None = None
    ) -> Connection[SessionQueueItem]:
        if not 0 <= hours_after_end <= MAX_HOURS:
            raise BadInput(f"hoursAfterEnd must be between 0 and {MAX_HOURS}")
        window = page_args(first, after)
        now = info.context.now()
        rows, total = await info.context.loaders.run(
            partial(
                queries.sessions_awaiting_page,
                among=facilities_seen(info.context.principal),
                ended_before=now - timedelta(hours=hours_after_end),
                window=window,
            )
        )
        return Connection.from_page([_item(row, now) for row in rows], window, total)

    @strawberry.field(
        **scoped(Scope.BILLING_READ),
        description="Sessions the finalization deadline closed with no one on the roster marked (not the same as "
        "everyone marked absent).",
    )
    async def sessions_closed_unmarked(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[SessionQueueItem]:
        window = page_args(first, after)
        now = info.context.now()
        rows, total = await info.context.loaders.run(
            partial(queries.sessions_closed_unmarked_page, among=facilities_seen(info.context.principal), window=window)
        )
        return Connection.from_page([_item(row, now) for row in rows], window, total)

    @strawberry.field(
        **scoped(Scope.BILLING_READ),
        description="Claims the payer does not hold yet (drafts, uncorrected rejections) within `withinDays` of "
        "the payer's timely-filing limit, counted from the date of service; fewest days left first.",
    )
    async def claims_nearing_filing_limit(
        self, info: Info, within_days: int = 30, first: int | None = None, after: str | None = None
    ) -> Connection[FilingDeadline]:
        if not 0 <= within_days <= MAX_WITHIN_DAYS:
            raise BadInput(f"withinDays must be between 0 and {MAX_WITHIN_DAYS}")
        window = page_args(first, after)
        rows, total = await info.context.loaders.run(
            partial(
                queries.claims_near_filing_limit_page,
                among=facilities_seen(info.context.principal),
                now=info.context.now(),
                within_days=within_days,
                window=window,
            )
        )
        items = [
            FilingDeadline(service_date=service_date, limit_days=limit_days, days_left=days_left, claim_id=claim.id)
            for claim, service_date, days_left, limit_days in rows
        ]
        return Connection.from_page(items, window, total)


def _item(row, now) -> SessionQueueItem:
    return SessionQueueItem(
        ended_at=row.ends_at,
        hours_since_end=round((now - row.ends_at).total_seconds() / 3600, 2),
        session_id=row.id,
    )
