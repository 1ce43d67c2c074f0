"""Billing operations: accept warnings, run the pipeline, submit claims."""
from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from app.db import models
from app.errors import Forbidden, NotFound
from app.ids import encode_id
from app.resolvers import billing as ops
from app.resolvers.common import visible_or_not_found
from app.schema.billing import BillingPreview, Charge, Claim
from app.schema.node import node_fetcher
from app.schema.enums import BillingIssueCode
from app.schema.permissions import scoped
from app.schema.sessions import GroupSession


@node_fetcher("Claim")
async def _claim_node(info: Info, pk: uuid.UUID) -> Claim:
    if not info.context.principal.has_scope("billing.read"):
        raise Forbidden("Missing scope billing.read")
    return Claim.from_row(await ops.get_claim(info.context, encode_id("Claim", pk)))


@node_fetcher("Charge")
async def _charge_node(info: Info, pk: uuid.UUID) -> Charge:
    if not info.context.principal.has_scope("billing.read"):
        raise Forbidden("Missing scope billing.read")
    row = await info.context.loaders.by_id(models.Charge).load(pk)
    if row is None:
        raise NotFound("No Charge with that id")
    session_row = await info.context.loaders.by_id(models.GroupSession).load(row.session_id)
    visible_or_not_found(info.context, session_row, "Charge")
    return Charge.from_row(row)


@strawberry.type
class BillingQuery:
    @strawberry.field(**scoped("billing.read"))
    async def claim(self, info: Info, id: strawberry.ID) -> Claim | None:
        return Claim.from_row(await ops.get_claim(info.context, id))


@strawberry.type
class BillingMutation:
    @strawberry.mutation(**scoped("clinical.attendance.write"))
    async def accept_billing_issue(
        self, info: Info, session_id: strawberry.ID, code: BillingIssueCode, note: str
    ) -> BillingPreview:
        return await ops.accept_billing_issue(info, session_id, code, note)

    @strawberry.mutation(**scoped("billing.write"))
    async def run_billing(self, info: Info, session_id: strawberry.ID) -> GroupSession:
        return GroupSession.from_row(await ops.run_billing(info.context, session_id))

    @strawberry.mutation(**scoped("billing.write"))
    async def submit_claim(self, info: Info, claim_id: strawberry.ID) -> Claim:
        return Claim.from_row(await ops.submit_claim(info.context, claim_id))
