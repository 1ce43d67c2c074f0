"""Coverage reads: a patient's eligibility checks and prior authorizations."""

from __future__ import annotations

import strawberry

from app.db import models
from app.db.queries import coverage as queries
from app.ids import decode_id
from app.operations.common import visible_or_not_found
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.coverage.types import EligibilityCheck, PriorAuthorization
from app.schema.permissions import scoped


@strawberry.type
class CoverageQuery:
    @strawberry.field(**scoped(Scope.BILLING_READ), description="The patient's eligibility checks, newest first.")
    async def eligibility_checks(self, info: Info, patient_id: strawberry.ID) -> list[EligibilityCheck]:
        pk = decode_id(patient_id, "Patient")
        async with info.context.db() as db:
            visible_or_not_found(info.context.principal, await db.get(models.Patient, pk), "Patient")
            return await queries.checks_page(db, pk)

    @strawberry.field(**scoped(Scope.BILLING_READ), description="The patient's prior authorizations, latest end first.")
    async def prior_authorizations(self, info: Info, patient_id: strawberry.ID) -> list[PriorAuthorization]:
        pk = decode_id(patient_id, "Patient")
        async with info.context.db() as db:
            visible_or_not_found(info.context.principal, await db.get(models.Patient, pk), "Patient")
            return (await queries.authorizations_page(db, [pk]))[0]
