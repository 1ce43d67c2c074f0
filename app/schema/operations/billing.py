"""Billing operations: accept warnings, run the pipeline, submit claims."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.resolvers import billing as ops
from app.schema.billing import BillingPreview, Claim
from app.schema.enums import BillingIssueCode
from app.schema.permissions import scoped
from app.schema.sessions import GroupSession


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
