"""Billing reads: a claim, and the claim and charge node fetchers."""

from __future__ import annotations

import uuid

import strawberry

from app.errors import NotFound
from app.ids import decode_id
from app.operations.billing import visible_claim
from app.operations.common import require_scope, visible_or_not_found
from app.rules.scopes import Scope
from app.schema.billing.types import Charge, Claim
from app.schema.context import Info
from app.schema.loaders import billing, sessions
from app.schema.permissions import scoped


async def claim_node(info: Info, pk: uuid.UUID) -> Claim:
    require_scope(info.context.principal, Scope.BILLING_READ)
    async with info.context.db() as db:
        return await visible_claim(db, info.context.principal, pk)


async def charge_node(info: Info, pk: uuid.UUID) -> Charge:
    require_scope(info.context.principal, Scope.BILLING_READ)
    charge = await billing.charges(info).load(pk)
    if charge is None:
        raise NotFound("No Charge with that id")
    session = await sessions.sessions(info).load(charge.session_id)
    visible_or_not_found(info.context.principal, session, "Charge")
    return charge


@strawberry.type
class BillingQuery:
    @strawberry.field(**scoped(Scope.BILLING_READ))
    async def claim(self, info: Info, id: strawberry.ID) -> Claim | None:
        return await claim_node(info, decode_id(id, "Claim"))
