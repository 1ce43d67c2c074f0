"""Billing types: the live preview, charges and claims."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.db import models
from app.ids import encode_id
from app.schema.enums import BillingIssueCode, ChargeStatus, ClaimFrequency, ClaimStatus, IssueSeverity
from app.schema.node import Node
from app.schema.permissions import scoped
from app.schema.reference import GroupSizeBand, Patient, Payer, load_patient, load_payer

if TYPE_CHECKING:
    from app.schema.sessions import GroupSession


@strawberry.type
class BillingIssue:
    code: BillingIssueCode
    severity: IssueSeverity
    message: str
    accepted: bool
    participant_ids: list[strawberry.ID]


@strawberry.type
class BillingPreview:
    billable_count: int
    state: str
    band: GroupSizeBand | None
    present_supervisors: int
    max_participants_per_supervisor: int | None
    issues: list[BillingIssue]
    ready_to_bill: bool
    payer_pk: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Null when no participant has an active primary coverage.")
    async def payer(self, info: Info) -> Payer | None:
        if self.payer_pk is None:
            return None
        return await load_payer(info, self.payer_pk)


@strawberry.type
class Charge(Node):
    id: strawberry.ID
    service_date: date
    procedure_code: str
    modifiers: list[str]
    units: int
    amount: Decimal
    status: ChargeStatus
    created_at: datetime
    voided_at: datetime | None
    row: strawberry.Private[models.Charge]

    @strawberry.field(**scoped("clinical.group-session.read"))
    async def session(self, info: Info) -> Annotated["GroupSession", strawberry.lazy("app.schema.sessions")]:
        from app.schema.sessions import GroupSession

        return GroupSession.from_row(await info.context.loaders.by_id(models.GroupSession).load(self.row.session_id))

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        return await load_patient(info, self.row.patient_id)

    @classmethod
    def from_row(cls, row: models.Charge) -> "Charge":
        return cls(
            id=strawberry.ID(encode_id("Charge", row.id)),
            service_date=row.service_date,
            procedure_code=row.procedure_code,
            modifiers=list(row.modifiers or []),
            units=row.units,
            amount=row.amount,
            status=ChargeStatus(row.status),
            created_at=row.created_at,
            voided_at=row.voided_at,
            row=row,
        )


@strawberry.type
class Claim(Node):
    id: strawberry.ID
    claim_number: str
    status: ClaimStatus
    frequency: ClaimFrequency
    total_amount: Decimal
    edi837: str | None
    submitted_at: datetime | None
    row: strawberry.Private[models.Claim]

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        return await load_patient(info, self.row.patient_id)

    @strawberry.field
    async def payer(self, info: Info) -> Payer:
        return await load_payer(info, self.row.payer_id)

    @strawberry.field
    async def original_claim(self, info: Info) -> "Claim | None":
        if self.row.original_claim_id is None:
            return None
        return Claim.from_row(await info.context.loaders.by_id(models.Claim).load(self.row.original_claim_id))

    @strawberry.field
    async def charges(self, info: Info) -> list[Charge]:
        from app.resolvers.billing import claim_charges

        return await claim_charges(info, self.row.id)

    @strawberry.field(description="The scrubber's findings: the same issues the preview showed.")
    def validation(self) -> list[BillingIssue]:
        return [
            BillingIssue(
                code=BillingIssueCode(i["code"]),
                severity=IssueSeverity(i["severity"]),
                message=i["message"],
                accepted=i.get("accepted", False),
                participant_ids=[strawberry.ID(p) for p in i.get("participantIds", [])],
            )
            for i in self.row.validation or []
        ]

    @classmethod
    def from_row(cls, row: models.Claim) -> "Claim":
        return cls(
            id=strawberry.ID(encode_id("Claim", row.id)),
            claim_number=row.claim_number,
            status=ClaimStatus(row.status),
            frequency=ClaimFrequency(row.frequency),
            total_amount=row.total_amount,
            edi837=row.edi837,
            submitted_at=row.submitted_at,
            row=row,
        )


async def patient_charges(info: Info, patient_pk: uuid.UUID) -> list[Charge]:
    if not info.context.principal.has_scope("billing.read"):
        return []
    loader = info.context.loaders.children(models.Charge.patient_id, models.Charge.created_at)
    return [Charge.from_row(r) for r in await loader.load(patient_pk)]
