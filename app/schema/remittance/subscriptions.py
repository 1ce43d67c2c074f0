"""The work queues kept live: one message per change of the queues a billing office watches."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from app.errors import NotFound
from app.ids import decode_id, encode_id
from app.live.publish import billing_channel
from app.rules.remittance import BillingQueue
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.permissions import scoped
from app.schema.remittance.types import BillingQueueEnum, BillingQueueUpdate


def _update(change: dict, wanted: set[BillingQueue], now: datetime) -> BillingQueueUpdate | None:
    if change.get("resync"):
        return BillingQueueUpdate(kind="RESYNC", queues=sorted(wanted), at=now, claim_id=None, session_id=None)
    queues = [BillingQueue(q) for q in change["queues"] if q in wanted]
    if not queues:
        return None
    return BillingQueueUpdate(
        kind="CHANGED",
        queues=queues,
        at=datetime.fromisoformat(change["at"]),
        claim_id=strawberry.ID(encode_id("Claim", change["claimId"])) if change.get("claimId") else None,
        session_id=strawberry.ID(encode_id("GroupSession", change["sessionId"])) if change.get("sessionId") else None,
    )


@strawberry.type
class RemittanceSubscription:
    @strawberry.subscription(
        **scoped(Scope.BILLING_READ),
        description="The facility's work queues (all of them unless `queues` names some): first a SNAPSHOT, then one "
        "CHANGED per change that adds to or takes from them, naming the claim or session (read the list again).",
    )
    async def billing_queue_updates(
        self, info: Info, facility_id: strawberry.ID, queues: list[BillingQueueEnum] | None = None
    ) -> AsyncGenerator[BillingQueueUpdate, None]:
        ctx = info.context
        pk = decode_id(facility_id, "Facility")
        if not ctx.principal.sees_facility(pk):
            raise NotFound("No Facility with that id")
        wanted = set(queues or BillingQueue)
        async with ctx.services.hub.watch(billing_channel(pk)) as watcher:
            yield BillingQueueUpdate(
                kind="SNAPSHOT", queues=sorted(wanted), at=ctx.now(), claim_id=None, session_id=None
            )
            async for change in watcher:
                # A RESYNC is a moment of its own. ctx.now() is one moment per set of loaders, and this
                # subscription reads no loader, so over HTTP it would still answer the snapshot's.
                update = _update(change, wanted, ctx.services.clock.now())
                if update is not None:
                    yield update
