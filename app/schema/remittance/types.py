"""The payer's answers in GraphQL: an imported file, what it changed, the postings of a charge, PLB adjustments,
and the rows of the billing office's work queues."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from app.db import models
from app.ids import encode_id
from app.operations import remittance as ops
from app.rules.remittance import BillingQueue as BillingQueueRule
from app.rules.remittance import EdiKind as EdiKindRule
from app.rules.remittance import allowed_difference as difference_of_allowed
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import ClaimStatus
from app.schema.loaders import billing, reference, remittance, sessions
from app.schema.permissions import scoped

ClaimType = Annotated["Claim", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily

EdiKind = strawberry.enum(
    EdiKindRule,
    name="EdiKind",
    description="An answer from the payer: ACKNOWLEDGMENT is a 999, CLAIM_ACKNOWLEDGMENT a 277CA, REMITTANCE an 835.",
)


BillingQueueEnum = strawberry.enum(
    BillingQueueRule, name="BillingQueue", description="The billing office's work queues."
)


@strawberry.type(description="A code the payer sent (CARC as group-reason, e.g. CO-45, or a RARC) with its text.")
class PayerReason:
    code: str
    text: str


def _reasons(values: list) -> list[PayerReason]:
    return [PayerReason(code=v["code"], text=v["text"]) for v in values or []]


@strawberry.type(description="PLB: money withheld from (positive) or added to (negative) a remittance.")
class ProviderAdjustment:
    trace_number: str
    provider_id: str
    fiscal_period_end: date
    reason: str
    reason_text: str
    reference: str
    amount: Decimal


@strawberry.type(description="One transaction set a 999 answers (005010X231A1 AK2 to IK5).")
class TransactionSetResult:
    group_control_number: str = strawberry.field(description="AK102: the GS06 of our 837P.")
    transaction_set: str = strawberry.field(description="AK201: 837.")
    control_number: str = strawberry.field(description="AK202: the ST02 of our 837P (one claim in a batch).")
    code: str = strawberry.field(description="IK501: A accepted, E accepted with errors, R rejected.")
    text: str
    accepted: bool = strawberry.field(description="A or E: the claims in it stay SUBMITTED, for the 277CA.")
    errors: list[str] = strawberry.field(description="IK5 syntax errors, IK3 segments and IK4 elements, in words.")


@strawberry.type(description="An X12 file from the payer, imported once (by its content's SHA-256).")
class EdiFile:
    kind: EdiKind
    name: str | None
    source: str = strawberry.field(description="api, cli or inbox.")
    control_number: str = strawberry.field(description="ISA13.")
    sender_id: str = strawberry.field(description="ISA06: the payer or clearinghouse.")
    production: bool = strawberry.field(description="ISA15: false for a test file (T).")
    content_hash: str
    imported_at: datetime
    summary: JSON = strawberry.field(
        description="Claims moved, by claim number; anything left unchanged and why; the total paid (billing.read).",
        **scoped(Scope.BILLING_READ),
    )
    text: str = strawberry.field(
        description="The file as it was imported (billing.read).", **scoped(Scope.BILLING_READ)
    )

    @strawberry.field
    def id(file: strawberry.Parent[models.EdiFile]) -> strawberry.ID:
        return strawberry.ID(encode_id("EdiFile", file.id))

    @strawberry.field(
        description="A 999's result for each transaction set it answers (accepted with errors, IK5 E, included); "
        "null for a 277CA or an 835.",
        **scoped(Scope.BILLING_READ),
    )
    def transaction_set_results(file: strawberry.Parent[models.EdiFile]) -> list[TransactionSetResult] | None:
        results = ops.acknowledgment_results(file)
        if results is None:
            return None
        return [
            TransactionSetResult(
                group_control_number=r.group_control_number, transaction_set=r.transaction_set,
                control_number=r.control_number, code=r.code, text=r.text, accepted=r.accepted, errors=list(r.errors),
            )
            for r in results
        ]  # fmt: skip

    @strawberry.field(**scoped(Scope.BILLING_READ))
    async def provider_adjustments(file: strawberry.Parent[models.EdiFile], info: Info) -> list[ProviderAdjustment]:
        return await remittance.provider_adjustments(info).load(file.id)


@strawberry.type(description="One claim the import moved along its path.")
class ClaimChange:
    before: ClaimStatus
    after: ClaimStatus
    reason: str | None = strawberry.field(
        description="The payer's reason (a rejection's, a denial's): billing.read.", **scoped(Scope.BILLING_READ)
    )

    @strawberry.field
    async def claim(change: strawberry.Parent[ops.ClaimChange], info: Info) -> ClaimType:
        return await billing.claims(info).load(change.claim_id)


@strawberry.type(description="What importing one file did; `duplicate`: it was imported before and nothing changed.")
class EdiImport:
    duplicate: bool
    file: EdiFile
    changes: list[ClaimChange]


@strawberry.type(description="An 835 service line posted to its charge (005010X221A1 loop 2110).")
class Posting:
    procedure_code: str
    service_date: date | None
    payer_claim_number: str
    claim_status_code: str = strawberry.field(description="CLP02: 1 processed, 4 denied, 22 a reversal...")
    charged: Decimal
    paid: Decimal
    contractual: Decimal = strawberry.field(description="CAS CO: the contractual adjustment.")
    patient_responsibility: Decimal = strawberry.field(description="CAS PR: deductible, coinsurance, copay.")
    other_adjustments: Decimal = strawberry.field(description="CAS OA and PI.")
    allowed: Decimal | None = strawberry.field(description="AMT*B6, when the payer sends it.")
    expected: Decimal | None = strawberry.field(
        description="The contracted amount: the payer's rate the charge was built from (the charge's expectedAmount)."
    )
    underpaid_by: Decimal = strawberry.field(description="How much less than `expected` the payer allowed.")
    reversal: bool
    paid_on: date

    @strawberry.field(description="The payer allowed less than the contracted amount (`expected`).")
    def underpaid(line: strawberry.Parent[models.RemittanceLine]) -> bool:
        return line.underpaid_by > 0

    @strawberry.field(
        description="What the payer allowed (AMT*B6, else paid plus the patient's share) less the contracted amount: "
        "negative an underpayment, positive more than the contract; null for a denial, a reversal, or no contract."
    )
    def allowed_difference(line: strawberry.Parent[models.RemittanceLine]) -> Decimal | None:
        return difference_of_allowed(
            line.paid, line.patient_responsibility, line.allowed, line.expected, reversal=line.reversal
        )

    @strawberry.field(description="Every CAS reason, as group-CARC with its text.")
    def adjustments(line: strawberry.Parent[models.RemittanceLine]) -> list[PayerReason]:
        return _reasons(line.adjustments)

    @strawberry.field(description="The CARCs that deny (not the contract's, not the patient's share).")
    def denial_reasons(line: strawberry.Parent[models.RemittanceLine]) -> list[PayerReason]:
        return _reasons(line.denial_reasons)

    @strawberry.field(description="RARC remarks (LQ*HE, MOA).")
    def remarks(line: strawberry.Parent[models.RemittanceLine]) -> list[PayerReason]:
        return _reasons(line.remarks)


@strawberry.type(description="A session in a work queue.")
class SessionQueueItem:
    ended_at: datetime
    hours_since_end: float

    session_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def session(self, info: Info) -> GroupSessionType:
        return await sessions.sessions(info).load(self.session_id)


@strawberry.type(description="A claim the payer does not hold yet, against its timely-filing limit.")
class FilingDeadline:
    service_date: date
    limit_days: int = strawberry.field(description="The payer's limit, in days from the date of service.")
    days_left: int = strawberry.field(description="Negative once the limit has passed.")

    claim_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def claim(self, info: Info) -> ClaimType:
        return await billing.claims(info).load(self.claim_id)


@strawberry.type(
    description="The first message is a SNAPSHOT (read the lists); then one CHANGED per change of the queues "
    "watched: read them again. Ids only."
)
class BillingQueueUpdate:
    kind: str = strawberry.field(description="SNAPSHOT, CHANGED, or RESYNC after an interruption (read every list).")
    queues: list[BillingQueueEnum]
    at: datetime
    claim_id: strawberry.ID | None
    session_id: strawberry.ID | None


PayerType = Annotated["Payer", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily


@strawberry.type(description="A daily submission's 837P: one facility's claims to one payer in one interchange.")
class ClaimBatch:
    control_number: int = strawberry.field(description="ISA13 and GS06: what the payer's 999 answers in AK102.")
    production: bool = strawberry.field(description="ISA15: false for a test file (T).")
    claim_count: int
    file_name: str = strawberry.field(description="Its name in the outbox folder (GS_EDI_OUTBOX).")
    text: str = strawberry.field(
        **scoped(Scope.BILLING_READ), description="The 837P itself (its amounts need billing.read)."
    )
    created_at: datetime

    @strawberry.field
    def id(batch: strawberry.Parent[models.ClaimBatch]) -> strawberry.ID:
        return strawberry.ID(encode_id("ClaimBatch", batch.id))

    @strawberry.field
    async def payer(batch: strawberry.Parent[models.ClaimBatch], info: Info) -> PayerType:
        return await reference.payers(info).load(batch.payer_id)

    @strawberry.field(description="Its claims, in transaction-set order.")
    async def claims(batch: strawberry.Parent[models.ClaimBatch], info: Info) -> list[ClaimType]:
        return await remittance.claims_of_batches(info).load(batch.id)


@strawberry.type(description="A claim the daily submission left a DRAFT, and why.")
class HeldClaim:
    reason: str
    claim_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def claim(self, info: Info) -> ClaimType:
        return await billing.claims(info).load(self.claim_id)


@strawberry.type
class ClaimSubmission:
    batches: list[ClaimBatch]
    held: list[HeldClaim]
