"""Billing changes: accept a warning, run billing for a session, submit a claim."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from app.ids import decode_id
from app.operations import billing as ops
from app.rules.scopes import Scope
from app.schema.billing.types import BillingPreview, Claim
from app.schema.context import Info
from app.schema.enums import BillingIssueCode, Modality
from app.schema.inputs import given
from app.schema.permissions import scoped

GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
FacilityType = Annotated["Facility", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily


@strawberry.input
class FacilityFeeInput:
    procedure_code: str
    modifiers: list[str] = strawberry.field(default_factory=list)
    amount: Decimal


@strawberry.input(description="What a claim-level correction changes; only the fields given change.")
class ClaimCorrectionInput:
    modality: Modality | None = strawberry.UNSET
    patient_at_home: bool | None = strawberry.UNSET
    arrived_at: datetime | None = strawberry.UNSET
    departed_at: datetime | None = strawberry.UNSET
    member_id: str | None = strawberry.UNSET


@strawberry.type
class BillingMutation:
    @strawberry.mutation(
        **scoped(Scope.BILLING_WRITE),
        description="After lock: a forced, audited correction of a member's claim (modality, where the patient "
        "was, arrival and departure, the member id), with a required reason; the claim the payer holds is "
        "answered with a REPLACEMENT (or a VOID) by the same engine as attendance corrections; a claim the payer "
        "rejected (999, 277CA) was never adjudicated, so it is answered with a new ORIGINAL. A diagnosis or "
        "payer is corrected on the patient's record first, then sent with a correction giving no field. A "
        "per-diem day's claim is corrected the same way, on the day's last session (billed, not locked when it "
        "has no lines of its own).",
    )
    async def correct_claim(
        self, info: Info, claim_id: strawberry.ID, reason: str, input: ClaimCorrectionInput | None = None
    ) -> GroupSessionType:
        values = given(input) if input else {}
        return await ops.correct_claim(
            await info.context.transaction(),
            info.context.principal,
            decode_id(claim_id, "Claim"),
            ops.ClaimCorrection(**values),
            given=set(values),
            reason=reason,
        )

    @strawberry.mutation(
        **scoped(Scope.REFERENCE_WRITE),
        description="Replace the facility's fee schedule: one price per procedure code and modifiers, what every "
        "charge is billed at whoever pays (the payer's band rate is kept as the charge's expectedAmount). A code "
        "with no price is billed at the payer's band rate.",
    )
    async def set_facility_fee_schedule(
        self, info: Info, facility_id: strawberry.ID, fees: list[FacilityFeeInput]
    ) -> FacilityType:
        return await ops.set_fee_schedule(
            await info.context.transaction(),
            info.context.principal,
            decode_id(facility_id, "Facility"),
            [ops.FeeSpec(f.procedure_code, f.amount, tuple(f.modifiers)) for f in fees],
        )

    @strawberry.mutation(**scoped(Scope.ATTENDANCE_WRITE))
    async def accept_billing_issue(
        self, info: Info, session_id: strawberry.ID, code: BillingIssueCode, note: str
    ) -> BillingPreview:
        return await ops.accept_billing_issue(
            await info.context.transaction(), info.context.principal, decode_id(session_id, "GroupSession"), code, note
        )

    @strawberry.mutation(**scoped(Scope.BILLING_WRITE))
    async def run_billing(self, info: Info, session_id: strawberry.ID) -> GroupSessionType:
        return await ops.run_billing(
            await info.context.transaction(), info.context.principal, decode_id(session_id, "GroupSession")
        )

    @strawberry.mutation(**scoped(Scope.BILLING_WRITE))
    async def submit_claim(self, info: Info, claim_id: strawberry.ID) -> Claim:
        settings = info.context.services.settings
        contact = ops.SubmitterContact(settings.edi_contact_name, settings.edi_contact_phone)
        return await ops.submit_claim(
            await info.context.transaction(),
            info.context.principal,
            decode_id(claim_id, "Claim"),
            contact,
            production=settings.edi_production,
        )
