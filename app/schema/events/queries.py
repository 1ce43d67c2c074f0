"""The integration-event feed for integrators, in commit order, limited to the caller's facilities."""

from __future__ import annotations

import base64

import strawberry

from app.db.queries import events as queries
from app.errors import BadInput
from app.operations.common import facilities_seen
from app.rules.remittance import CLAIM_EVENTS
from app.rules.scopes import Scope
from app.schema.connection import Connection, Edge, PageInfo
from app.schema.context import Info
from app.schema.events.types import IntegrationEvent
from app.schema.pagination import page_args
from app.schema.permissions import scoped

CURSOR_PREFIX = "e:"


def encode_event_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{event_id}".encode()).decode()


def decode_event_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError(cursor)
        event_id = int(text[len(CURSOR_PREFIX) :])
    except (ValueError, UnicodeDecodeError):
        raise BadInput("Malformed cursor") from None
    if event_id < 0:
        raise BadInput("Malformed cursor")
    return event_id


def hidden_event_types(principal) -> tuple[str, ...]:
    """The payer's answers carry amounts and denial reasons: only billing.read sees them on the feed."""
    return () if principal.has_scope(Scope.BILLING_READ) else CLAIM_EVENTS


@strawberry.type
class EventsQuery:
    @strawberry.field(**scoped(Scope.EVENTS_READ), description="Integration events in commit order.")
    async def integration_events(
        self, info: Info, after: str | None = None, first: int | None = None
    ) -> Connection[IntegrationEvent]:
        """Keyset pages over the outbox: ids are handed out in commit order, so `after` never skips a
        commit that lands later with a smaller id."""
        limit = page_args(first, None).limit
        after_id = decode_event_cursor(after) if after else 0
        async with info.context.db() as db:
            rows, total = await queries.events_after(
                db,
                after_id,
                limit + 1,
                facilities_seen(info.context.principal),
                hidden_event_types(info.context.principal),
            )
        edges = [Edge(cursor=encode_event_cursor(row.id), node=row) for row in rows[:limit]]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > limit,
                has_previous_page=after_id > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )
