"""Billing types: the preview and its issues wrap the rules' values; charges and claims wrap rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from app.db import models
from app.ids import encode_id, payload_uuid
from app.rules import billing as rules
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import (
    BillingIssueCode,
    ChargeStatus,
    ClaimFrequency,
    ClaimStatus,
    IssueSeverity,
)
from app.schema.loaders import billing, reference, remittance, sessions
from app.schema.node import Node, global_id, rows_of
from app.schema.permissions import scoped

GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
GroupSizeBandType = Annotated["GroupSizeBand", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
PatientType = Annotated["Patient", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
PayerType = Annotated["Payer", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
PostingType = Annotated["Posting", strawberry.lazy("app.schema.remittance.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class BillingIssue:
    """A finding of the preview or the claim scrubber (app.rules.billing.BillingIssue)."""

    code: BillingIssueCode
    severity: IssueSeverity
    message: str
    accepted: bool

    @strawberry.field
    def participant_ids(issue: strawberry.Parent[rules.BillingIssue]) -> list[strawberry.ID]:
        # A claim validated before the rules spoke UUIDs stored the global ids themselves.
        return [
            strawberry.ID(encode_id("RosterEntry", payload_uuid(pk, "RosterEntry"))) for pk in issue.roster_entry_ids
        ]


@strawberry.type
class BillingPreview:
    """What the claim scrubber will say (app.rules.billing.Preview)."""

    billable_count: int
    state: str
    band: GroupSizeBandType | None
    present_supervisors: int
    max_participants_per_supervisor: int | None
    issues: list[BillingIssue]
    ready_to_bill: bool

    @strawberry.field(description="Null when no participant has an active primary coverage.")
    async def payer(preview: strawberry.Parent[rules.Preview], info: Info) -> PayerType | None:
        return await reference.payers(info).load(preview.payer_id) if preview.payer_id is not None else None


@strawberry.type(description="One price of a facility's fee schedule.")
class FacilityFee:
    procedure_code: str
    modifiers: list[str]
    amount: Decimal


@strawberry.type(description="One STC composite of a 277CA (005010X214 STC01, STC10, STC11).")
class ClaimStatusCode:
    category: str = strawberry.field(description="The claim status category (507): A1, A2 accepted; A3, A6, A7...")
    code: str = strawberry.field(description="The claim status code (508).")
    entity: str = strawberry.field(description="The entity it is about (98), e.g. IL the subscriber; empty if none.")
    text: str


@strawberry.type
class Charge(Node):
    id: strawberry.ID = global_id("Charge")
    service_date: date
    procedure_code: str
    modifiers: list[str]
    place_of_service: str = strawberry.field(
        description="11 in the room; 02 or 10 by telehealth (10: the patient at home)."
    )
    units: int
    amount: Decimal = strawberry.field(
        description="Billed: the facility's fee for the code and modifiers (its fee schedule), the same to every "
        "payer; the payer's band rate where the schedule has no price for the code."
    )
    expected_amount: Decimal | None = strawberry.field(
        description="The payer's contracted rate (its group-size band's), what the facility expects to be paid; "
        "null for a self-pay charge."
    )
    status: ChargeStatus
    created_at: datetime
    voided_at: datetime | None
    per_diem: bool = strawberry.field(description="A program day's per-diem line (IOP, PHP), not the session's own.")

    @strawberry.field(**scoped(Scope.SESSION_READ))
    async def session(charge: strawberry.Parent[models.Charge], info: Info) -> GroupSessionType:
        return await sessions.sessions(info).load(charge.session_id)

    @strawberry.field
    async def patient(charge: strawberry.Parent[models.Charge], info: Info) -> PatientType:
        return await reference.patients(info).load(charge.patient_id)

    @strawberry.field(description="What the payer's 835s posted to this charge: paid, adjusted, left to the patient.")
    async def postings(charge: strawberry.Parent[models.Charge], info: Info) -> list[PostingType]:
        return await remittance.lines_by_charge(info).load(charge.id)

    @strawberry.field(description="The payer billed; null for a self-pay charge (the patient's own responsibility).")
    async def payer(charge: strawberry.Parent[models.Charge], info: Info) -> PayerType | None:
        return await reference.payers(info).load(charge.payer_id) if charge.payer_id is not None else None

    @strawberry.field(
        description="The member had no primary coverage on the service date: the patient owes the charge, "
        "and no claim is made for it."
    )
    def self_pay(charge: strawberry.Parent[models.Charge]) -> bool:
        return charge.payer_id is None

    is_type_of = rows_of(models.Charge)


@strawberry.type
class Claim(Node):
    id: strawberry.ID = global_id("Claim")
    claim_number: str
    status: ClaimStatus
    frequency: ClaimFrequency
    # Amounts and the payer's reasons need billing.read, wherever the claim is reached (an import's or a
    # submission's answer to a billing.write token included).
    total_amount: Decimal = strawberry.field(**scoped(Scope.BILLING_READ))
    edi837: str | None = strawberry.field(
        **scoped(Scope.BILLING_READ),
        description="The 837P sent (X12 005010X222A1), set once submitted; it carries the amounts, so it needs billing.read.",
    )
    submitted_at: datetime | None
    per_diem: bool = strawberry.field(description="Carries a program day's per-diem line.")
    payer_claim_number: str | None = strawberry.field(
        description="The payer's claim control number, from its 277CA or 835; every later void or "
        "replacement carries it in REF*F8."
    )

    payer_reason: str | None = strawberry.field(
        description="Why the payer rejected (999 or 277CA status codes) or denied (CARC and RARC with their text) it.",
        **scoped(Scope.BILLING_READ),
    )
    denial_carc: str | None = strawberry.field(
        description="The CARC a denial is filed under (197, 16, 50...).", **scoped(Scope.BILLING_READ)
    )
    answered_at: datetime | None = strawberry.field(description="When the payer's last answer moved its status.")
    status_category: str | None = strawberry.field(
        description="The last 277CA's STC01 status category (A1, A2 accepted; A3, A6, A7, A8 rejected).",
        **scoped(Scope.BILLING_READ),
    )

    @strawberry.field(
        description="Every status composite of the last 277CA (STC01, STC10, STC11), with its text.",
        **scoped(Scope.BILLING_READ),
    )
    def status_codes(claim: strawberry.Parent[models.Claim]) -> list[ClaimStatusCode]:
        return [ClaimStatusCode(**code) for code in claim.status_codes or []]

    @strawberry.field(
        description="Every 835 service line posted for this claim, reversals included.", **scoped(Scope.BILLING_READ)
    )
    async def postings(claim: strawberry.Parent[models.Claim], info: Info) -> list[PostingType]:
        return await remittance.lines_by_claim(info).load(claim.id)

    @strawberry.field
    async def patient(claim: strawberry.Parent[models.Claim], info: Info) -> PatientType:
        return await reference.patients(info).load(claim.patient_id)

    @strawberry.field
    async def payer(claim: strawberry.Parent[models.Claim], info: Info) -> PayerType:
        return await reference.payers(info).load(claim.payer_id)

    @strawberry.field
    async def original_claim(claim: strawberry.Parent[models.Claim], info: Info) -> Claim | None:
        if claim.original_claim_id is None:
            return None
        return await billing.claims(info).load(claim.original_claim_id)

    @strawberry.field(**scoped(Scope.BILLING_READ))
    async def charges(claim: strawberry.Parent[models.Claim], info: Info) -> list[Charge]:
        return await billing.charges_of_claims(info).load(claim.id)

    @strawberry.field(description="The scrubber's findings: the same issues the preview showed.")
    def validation(claim: strawberry.Parent[models.Claim]) -> list[BillingIssue]:
        return [rules.BillingIssue.from_json(issue) for issue in claim.validation or []]

    is_type_of = rows_of(models.Claim)
