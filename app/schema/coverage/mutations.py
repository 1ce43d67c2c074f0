"""Coverage changes: eligibility checks, prior authorizations, a payer's coverage rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from app.ids import decode_id
from app.operations import authorizations as auth_ops
from app.operations import eligibility as ops
from app.operations import program_billing as program_ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.coverage.types import (
    AuthorizationUnitKind,
    EligibilityCheck,
    PayerCoverageRule,
    PayerProgram,
    PriorAuthorization,
)
from app.schema.enums import GroupType
from app.schema.permissions import scoped


@strawberry.input(description="A prior authorization: the payer's number, what it covers, how much and when.")
class PriorAuthorizationInput:
    number: str
    service_codes: list[str] = strawberry.field(default_factory=list, description="HCPCS/CPT codes it covers.")
    program: GroupType | None = strawberry.field(default=None, description="Or the program it covers (IOP, PHP).")
    unit_kind: AuthorizationUnitKind = strawberry.field(description="UNITS billed, or DAYS billed.")
    authorized: int
    starts_on: date
    ends_on: date

    def spec(self) -> auth_ops.AuthorizationSpec:
        return auth_ops.AuthorizationSpec(
            self.number,
            tuple(self.service_codes),
            self.program.value if self.program else None,
            self.unit_kind,
            self.authorized,
            self.starts_on,
            self.ends_on,
        )


@strawberry.input(description="How a payer bills a program per diem.")
class PayerProgramInput:
    program: GroupType = strawberry.field(description="IOP or PHP.")
    procedure_code: str
    modifiers: list[str] = strawberry.field(default_factory=list)
    rate: Decimal
    minimum_hours: Decimal = strawberry.field(description="Hours present that day, overlaps counted once.")
    sessions_bill_too: bool = False


@strawberry.type
class CoverageMutation:
    @strawberry.mutation(
        **scoped(Scope.BILLING_WRITE),
        description="Ask the patient's primary payer (a 270) whether they are covered on the date; keeps its 271.",
    )
    async def check_eligibility(self, info: Info, patient_id: strawberry.ID, service_date: date) -> EligibilityCheck:
        return await ops.check_eligibility(
            await info.context.transaction(),
            info.context.principal,
            ops.exchange_of(info.context.services),
            decode_id(patient_id, "Patient"),
            service_date,
        )

    @strawberry.mutation(
        **scoped(Scope.BILLING_WRITE),
        description="Check every roster member with a primary coverage on the session's day.",
    )
    async def check_session_eligibility(self, info: Info, session_id: strawberry.ID) -> list[EligibilityCheck]:
        return await ops.check_session_eligibility(
            await info.context.transaction(),
            info.context.principal,
            ops.exchange_of(info.context.services),
            decode_id(session_id, "GroupSession"),
        )

    @strawberry.mutation(**scoped(Scope.BILLING_WRITE))
    async def create_prior_authorization(
        self, info: Info, patient_id: strawberry.ID, payer_id: strawberry.ID, input: PriorAuthorizationInput
    ) -> PriorAuthorization:
        return await auth_ops.create_authorization(
            await info.context.transaction(),
            info.context.principal,
            decode_id(patient_id, "Patient"),
            decode_id(payer_id, "Payer"),
            input.spec(),
        )

    @strawberry.mutation(**scoped(Scope.BILLING_WRITE))
    async def update_prior_authorization(
        self, info: Info, authorization_id: strawberry.ID, input: PriorAuthorizationInput
    ) -> PriorAuthorization:
        return await auth_ops.update_authorization(
            await info.context.transaction(),
            info.context.principal,
            decode_id(authorization_id, "PriorAuthorization"),
            input.spec(),
        )

    @strawberry.mutation(**scoped(Scope.BILLING_WRITE), description="Nothing more draws from it.")
    async def cancel_prior_authorization(self, info: Info, authorization_id: strawberry.ID) -> PriorAuthorization:
        return await auth_ops.cancel_authorization(
            await info.context.transaction(), info.context.principal, decode_id(authorization_id, "PriorAuthorization")
        )

    @strawberry.mutation(**scoped(Scope.REFERENCE_WRITE), description="What is not given stays.")
    async def set_payer_coverage_rule(
        self,
        info: Info,
        payer_id: strawberry.ID,
        eligibility_required: bool | None = None,
        authorization_required: bool | None = None,
        expiring_days: int | None = None,
        expiring_units: int | None = None,
    ) -> PayerCoverageRule:
        return await auth_ops.set_coverage_rule(
            await info.context.transaction(),
            info.context.principal,
            decode_id(payer_id, "Payer"),
            eligibility_required=eligibility_required,
            authorization_required=authorization_required,
            expiring_days=expiring_days,
            expiring_units=expiring_units,
        )

    @strawberry.mutation(**scoped(Scope.REFERENCE_WRITE), description="Bill a program per diem at this payer.")
    async def set_payer_program(self, info: Info, payer_id: strawberry.ID, input: PayerProgramInput) -> PayerProgram:
        spec = program_ops.ProgramSpec(
            input.program.value,
            input.procedure_code,
            tuple(input.modifiers),
            input.rate,
            input.minimum_hours,
            input.sessions_bill_too,
        )
        return await program_ops.set_payer_program(
            await info.context.transaction(), info.context.principal, decode_id(payer_id, "Payer"), spec
        )
