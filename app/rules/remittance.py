"""What the payer's answers mean for our claims: which file is which, the status each answer moves a claim to,
what each service line of an 835 posts to its charge, and the reasons a billing office reads.

The guides: 005010X231A1 (999: IK5/AK9 accept or reject a transaction set), 005010X214 (277CA: STC01 category
A1/A2 accepts, A3/A6/A7/A8 reject; REF*1K the payer's claim control number), 005010X221A1 (835: CLP02 the
claim's status, 4 denied and 22 a reversal; CAS groups CO, PR, OA, PI with their CARC; LQ*HE and MOA the RARC;
PLB the provider-level adjustments)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.errors import BadInput
from app.rules.claims import ClaimStatus
from app.rules.edi import edi999
from app.rules.edi.carc import adjustment_reason_text
from app.rules.edi.codes import TRANSACTION_SET_ERRORS, describe
from app.rules.edi.edi277 import ClaimAcknowledgment
from app.rules.edi.edi835 import (
    CONTRACTUAL,
    PATIENT_RESPONSIBILITY,
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from app.rules.edi.edi999 import TransactionSetResponse
from app.rules.edi.rarc import remark_text
from app.rules.edi.x12 import Interchange, Place, X12Error

ZERO = Decimal(0)


class EdiKind(StrEnum):
    ACKNOWLEDGMENT = "999"  # 005010X231A1
    CLAIM_ACKNOWLEDGMENT = "277CA"  # 005010X214
    REMITTANCE = "835"  # 005010X221A1


# ST01 and the guide each kind is read with.
KINDS: dict[str, tuple[EdiKind, str]] = {
    "999": (EdiKind.ACKNOWLEDGMENT, "005010X231A1"),
    "277": (EdiKind.CLAIM_ACKNOWLEDGMENT, "005010X214"),
    "835": (EdiKind.REMITTANCE, "005010X221A1"),
}


def content_hash(text: str) -> str:
    """The file's identity for importing once: SHA-256 of its bytes with line ends made one kind, so a file that
    went through a Windows machine on its way is still the same file."""
    normalized = text.replace("\r\n", "\n").strip("\ufeff \t\r\n")
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def kind_of(interchange: Interchange) -> EdiKind:
    """Which answer the file is: every transaction set of one kind we read (999, 277CA, 835), else refused."""
    found = {t.id for t in interchange.transactions}
    if not found:
        raise X12Error("the interchange holds no transaction set", Place("ISA", 1, 1))
    if len(found) > 1:
        raise X12Error(
            f"one file is one kind of answer; this one mixes {', '.join(sorted(found))}",
            interchange.transactions[0].header,
        )
    (set_id,) = found
    if set_id not in KINDS:
        raise X12Error(
            f"a {set_id} is not an answer this service reads (999, 277CA or 835)", interchange.transactions[0].header
        )
    return KINDS[set_id][0]


class BillingQueue(StrEnum):
    """The billing office's work queues."""

    REJECTED = "REJECTED"  # claims the payer rejected (999, 277CA), with its reason
    DENIED = "DENIED"  # claims the payer denied (835), by CARC
    AWAITING_FINALIZATION = "AWAITING_FINALIZATION"  # ended sessions held by a BLOCKING issue
    CLOSED_UNMARKED = "CLOSED_UNMARKED"  # sessions the deadline closed with no one marked
    TIMELY_FILING = "TIMELY_FILING"  # claims the payer does not hold yet, against its filing limit


def queues_of_move(before: str, after: str) -> tuple[BillingQueue, ...]:
    """The queues a claim enters or leaves when its status moves."""
    found = []
    statuses = {ClaimStatus(before), ClaimStatus(after)}
    if ClaimStatus.REJECTED in statuses:
        found += [BillingQueue.REJECTED, BillingQueue.TIMELY_FILING]
    if ClaimStatus.DENIED in statuses:
        found.append(BillingQueue.DENIED)
    if ClaimStatus.DRAFT in statuses:
        found.append(BillingQueue.TIMELY_FILING)
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------- statuses


# Where each answer may move a claim from. An answer that comes for a claim in another status (a 277CA after
# the 835 that paid it, a reversal of a claim never paid) changes nothing but is kept in the file's record.
# A reversal (CLP02 22) is most often followed by the corrected payment, a new CLP for the same claim in the same
# 835 or a later one (005010X221A1 section 1.10.2.8, Reversals and Corrections): it moves the REVERSED claim on.
_ADJUDICATED = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED, ClaimStatus.DENIED, ClaimStatus.REVERSED})
ANSWERED_FROM: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.ACCEPTED: frozenset({ClaimStatus.SUBMITTED}),
    ClaimStatus.REJECTED: frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED}),
    ClaimStatus.PAID: _ADJUDICATED,
    ClaimStatus.PARTIALLY_PAID: _ADJUDICATED,
    ClaimStatus.DENIED: frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED, ClaimStatus.REVERSED}),
    ClaimStatus.REVERSED: frozenset({ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED}),
}

# The integration feed's event for each status an answer sets.
EVENT_OF_STATUS: dict[ClaimStatus, str] = {
    ClaimStatus.ACCEPTED: "claim_accepted",
    ClaimStatus.REJECTED: "claim_rejected",
    ClaimStatus.PAID: "claim_paid",
    ClaimStatus.PARTIALLY_PAID: "claim_paid",
    ClaimStatus.DENIED: "claim_denied",
    ClaimStatus.REVERSED: "claim_reversed",
}
CLAIM_EVENTS = tuple(dict.fromkeys(EVENT_OF_STATUS.values()))


def moves(current: str, to: ClaimStatus) -> bool:
    return ClaimStatus(current) in ANSWERED_FROM[to]


def rejection_kept(current: str, to: ClaimStatus, payer_claim_number: str | None) -> bool:
    """A rejection (999, 277CA) of a claim we replaced or voided before the payer answered it moves nothing, but
    is kept with the claim (its reason): the payer never held it, so nothing is to be replaced or voided
    (app.rules.claims.rejected_by_payer)."""
    return (
        to is ClaimStatus.REJECTED
        and ClaimStatus(current) in (ClaimStatus.REPLACED, ClaimStatus.VOIDED)
        and not payer_claim_number
    )


def status_of_payment(payment: ClaimPayment) -> ClaimStatus:
    """CLP02 22 reverses; CLP02 4, or nothing paid and nothing left to the patient, denies; a claim some of whose
    lines were paid and others not is PARTIALLY_PAID; anything else the payer paid is PAID."""
    if payment.reversal:
        return ClaimStatus.REVERSED
    if payment.denied or (payment.paid == ZERO and payment.patient_responsibility == ZERO):
        return ClaimStatus.DENIED
    lines = payment.services
    if lines and any(s.paid == ZERO and not _patient_share(s.adjustments) for s in lines):
        return ClaimStatus.PARTIALLY_PAID
    return ClaimStatus.PARTIALLY_PAID if _denial_adjustments(payment.all_adjustments) else ClaimStatus.PAID


def _patient_share(adjustments: Sequence[Adjustment]) -> Decimal:
    return sum((a.amount for a in adjustments if a.group == PATIENT_RESPONSIBILITY), ZERO)


# CARC 45 (charge exceeds the fee schedule) and its kin are the contract, not a denial.
CONTRACT_REASONS = frozenset({"45", "42", "59", "94", "131", "253"})


def _denial_adjustments(adjustments: Sequence[Adjustment]) -> list[Adjustment]:
    return [a for a in adjustments if a.group != PATIENT_RESPONSIBILITY and a.reason not in CONTRACT_REASONS]


def rejection_of_999(response: TransactionSetResponse) -> str:
    """A rejected transaction set's reason as the billing office reads it: IK5's code, then each segment and
    element error with its position."""
    parts = [f"999 {response.code}: {response.text}"]
    for error in response.segment_errors:
        where = f"{error.segment_id} at position {error.position}" + (f" (loop {error.loop})" if error.loop else "")
        parts.append(f"{where}: {error.text}")
        parts += [f"element {e.position}: {e.text}" for e in error.elements]
    return "; ".join(parts)


@dataclass(frozen=True)
class SetResult:
    """One transaction set a 999 answers (005010X231A1 AK2..IK5): accepted (A), accepted with errors (E) or
    rejected (R), with each error in words."""

    group_control_number: str  # AK102: the GS06 we sent
    transaction_set: str  # AK201
    control_number: str  # AK202: the ST02 we sent
    code: str  # IK501
    text: str
    errors: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return self.code in edi999.ACCEPTING


def set_results(acknowledgments: Sequence[edi999.ImplementationAcknowledgment]) -> tuple[SetResult, ...]:
    """Each transaction set's result, as a 999 gives it: an accepted-with-errors set (IK5 E) is accepted (the
    claims stay SUBMITTED) and its errors are kept for the billing office to read."""
    out = []
    for acknowledgment in acknowledgments:
        for response in acknowledgment.responses:
            errors = [f"IK5 {code}: {describe(TRANSACTION_SET_ERRORS, code)}" for code in response.syntax_errors]
            for error in response.segment_errors:
                where = f"{error.segment_id} at position {error.position}" + (
                    f" (loop {error.loop})" if error.loop else ""
                )
                errors.append(f"{where}: {error.text}")
                errors += [f"{where}, element {e.position}: {e.text}" for e in error.elements]
            out.append(
                SetResult(
                    acknowledgment.group_control_number, response.transaction_set, response.control_number,
                    response.code, response.text, tuple(errors),
                )
            )  # fmt: skip
    return tuple(out)


def reason_of_277(claim: ClaimAcknowledgment) -> str:
    """STC01 (and STC10, STC11) in words, with the payer's free text (STC12)."""
    text = " ".join(s.text for s in claim.statuses)
    return f"{text} {claim.message}".strip() if claim.message else text


def status_codes_of_277(claim: ClaimAcknowledgment) -> list[dict[str, str]]:
    """Every STC composite of a claim's 277CA (STC01, STC10, STC11) as the claim keeps it: category, status
    code, the entity it is about, and the whole in words."""
    return [{"category": s.category, "code": s.code, "entity": s.entity, "text": s.text} for s in claim.statuses]


# ---------------------------------------------------------------- posting


@dataclass(frozen=True)
class Reason:
    code: str  # CO-197, or a RARC (N290)
    text: str


@dataclass(frozen=True)
class LinePosting:
    """One service line (or a claim paid without lines) as it posts to its charge."""

    procedure_code: str
    service_date: date | None
    charged: Decimal
    paid: Decimal
    contractual: Decimal  # CAS CO
    patient_responsibility: Decimal  # CAS PR
    other_adjustments: Decimal  # CAS OA, PI (and 4010's CR)
    allowed: Decimal | None  # AMT*B6, when the payer sends it
    adjustments: tuple[Reason, ...]  # every CAS reason, as group-CARC with its text
    denial_reasons: tuple[Reason, ...]  # the CAS reasons that are not the contract or the patient's share
    remarks: tuple[Reason, ...]  # RARC (LQ*HE, MOA) with their text
    expected: Decimal | None  # the contracted amount for the charge (its expected amount: the payer's rate)
    underpaid_by: Decimal  # the contracted amount less what the payer allowed, when it allowed less
    reversal: bool

    @property
    def underpaid(self) -> bool:
        return self.underpaid_by > ZERO


def _reasons(adjustments: Sequence[Adjustment]) -> tuple[Reason, ...]:
    return tuple(Reason(a.code, f"{a.group_text}: {adjustment_reason_text(a.reason)}") for a in adjustments)


def _remarks(remarks: Sequence[str]) -> tuple[Reason, ...]:
    return tuple(Reason(r, remark_text(r)) for r in remarks)


def _sum(adjustments: Sequence[Adjustment], *groups: str, exclude: bool = False) -> Decimal:
    return sum(((a.amount) for a in adjustments if (a.group in groups) != exclude), ZERO)


def post_line(  # noqa: PLR0917 - the columns of one 835 line, in the guide's order
    procedure_code: str,
    service_date: date | None,
    charged: Decimal,
    paid: Decimal,
    adjustments: Sequence[Adjustment],
    remarks: Sequence[str],
    allowed: Decimal | None,
    expected: Decimal | None,
    *,
    reversal: bool,
) -> LinePosting:
    """A line's money in the columns a billing office keeps. Underpaid: the payer adjudicated the line (paid it,
    or left it to the patient) and allowed less than the contracted amount (`expected`, the payer's rate the
    charge was built from, not the facility's fee billed); denials and reversals are never underpayments."""
    contractual = _sum(adjustments, CONTRACTUAL)
    patient = _sum(adjustments, PATIENT_RESPONSIBILITY)
    other = _sum(adjustments, CONTRACTUAL, PATIENT_RESPONSIBILITY, exclude=True)
    denials = _denial_adjustments(adjustments)
    difference = allowed_difference(paid, patient, allowed, expected, reversal=reversal)
    shortfall = max(ZERO, -difference) if difference is not None else ZERO
    return LinePosting(
        procedure_code, service_date, charged, paid, contractual, patient, other, allowed, _reasons(adjustments),
        _reasons(denials), _remarks(remarks), expected, shortfall, reversal,
    )  # fmt: skip


def allowed_difference(
    paid: Decimal, patient: Decimal, allowed: Decimal | None, expected: Decimal | None, *, reversal: bool
) -> Decimal | None:
    """What the payer allowed less the contracted amount: negative when it allowed less (an underpayment),
    positive when more. What it allowed is the line's AMT*B6 when the 835 sends it (005010X221A1 loop 2110,
    Service Supplemental Amount B6), else what it paid plus the patient's share (CAS PR). None when there is
    nothing to compare: no contracted amount, a reversal (CLP02 22), or a line it neither paid nor left to the
    patient (a denial)."""
    if expected is None or reversal or (paid <= ZERO and patient <= ZERO):
        return None
    return (allowed if allowed is not None else paid + patient) - expected


def post_service(service: ServicePayment, expected: Decimal | None, *, reversal: bool) -> LinePosting:
    day = service.service_dates[0] if service.service_dates else None
    return post_line(
        service.procedure_code, day, service.charge, service.paid, service.adjustments, service.remarks,
        service.allowed, expected, reversal=reversal,
    )  # fmt: skip


def post_claim(payment: ClaimPayment, expected: Sequence[Decimal | None]) -> tuple[LinePosting, ...]:
    """Every line of a CLP: its SVC loops (claim-level CAS and MOA remarks go on the first line), or, when the
    payer sent no lines, one posting for the whole claim. `expected` is the contracted amount per line."""
    reversal = payment.reversal
    if not payment.services:
        day = payment.statement_period[0] if payment.statement_period else None
        return (
            post_line(
                "", day, payment.charge, payment.paid, payment.adjustments, payment.remarks, None,
                expected[0] if expected else None, reversal=reversal,
            ),
        )  # fmt: skip
    postings = []
    for index, service in enumerate(payment.services):
        posting = post_service(service, expected[index] if index < len(expected) else None, reversal=reversal)
        if index == 0 and (payment.adjustments or payment.remarks):
            claim_level = post_line(
                "", None, ZERO, ZERO, payment.adjustments, payment.remarks, None, None, reversal=reversal
            )
            patient = posting.patient_responsibility + claim_level.patient_responsibility
            difference = allowed_difference(posting.paid, patient, posting.allowed, posting.expected, reversal=reversal)
            posting = LinePosting(
                posting.procedure_code, posting.service_date, posting.charged, posting.paid,
                posting.contractual + claim_level.contractual, patient,
                posting.other_adjustments + claim_level.other_adjustments, posting.allowed,
                posting.adjustments + claim_level.adjustments, posting.denial_reasons + claim_level.denial_reasons,
                posting.remarks + claim_level.remarks, posting.expected,
                max(ZERO, -difference) if difference is not None else ZERO, reversal,
            )  # fmt: skip
        postings.append(posting)
    return tuple(postings)


def denial_reason(postings: Sequence[LinePosting]) -> str | None:
    """A denied claim's reason as the queue shows it: its first denial CARC with its text, and its remarks."""
    reasons = [r for p in postings for r in p.denial_reasons]
    remarks = [r for p in postings for r in p.remarks]
    if not reasons:
        return None
    first = reasons[0]
    text = f"{first.code}: {first.text}"
    if remarks:
        text += " (" + "; ".join(f"{r.code}: {r.text}" for r in dict.fromkeys(remarks)) + ")"
    return text


def carc_of(postings: Sequence[LinePosting]) -> str | None:
    """The CARC a denial queue files the claim under (197 for CO-197)."""
    reasons = [r for p in postings for r in p.denial_reasons]
    return reasons[0].code.split("-", 1)[1] if reasons else None


# ---------------------------------------------------------------- posting once


def _key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def payer_of(remittance: Remittance) -> str:
    """The payer an 835 comes from, as its own header names it (005010X221A1 TRN03, the payer's identifier, and
    1000A N1*PR with its id), not the envelope, which a clearinghouse re-sending the file changes."""
    return f"{remittance.payer_trace_id}:{remittance.payer.id or remittance.payer.name}"


def payment_key(remittance: Remittance, payment: ClaimPayment) -> str:
    """One claim payment's identity, whatever envelope (ISA13, GS06, file) brings it: the payer, the check or EFT
    trace (TRN02), our claim (CLP01), its status (CLP02), the payer's claim number (CLP07) and the amounts
    (CLP03-05). A reversal and the corrected payment that follows it (1.10.2.8) differ in CLP02 or CLP07 and
    the amounts: each is its own payment."""
    return _key(
        "CLP", payer_of(remittance), remittance.trace_number, payment.claim_number, payment.status,
        payment.payer_claim_number, payment.charge, payment.paid, payment.patient_responsibility,
    )  # fmt: skip


def adjustment_key(remittance: Remittance, index: int, adjustment: ProviderAdjustment) -> str:
    """One PLB adjustment's identity: the payer, the trace (TRN02), its place among the remittance's adjustments
    and its columns (PLB01, PLB02, PLB03-1, PLB03-2 and the amount)."""
    return _key(
        "PLB", payer_of(remittance), remittance.trace_number, index, adjustment.provider_id,
        adjustment.fiscal_period_end, adjustment.reason, adjustment.reference, adjustment.amount,
    )  # fmt: skip


# ---------------------------------------------------------------- timely filing


def hour_crossed(ended_at: datetime, last: datetime, now: datetime) -> bool:
    """A session awaiting finalization passed a whole number of hours since its end between two sweeps: a
    sessionsAwaitingFinalization(hoursAfterEnd: N) list with a whole N may have gained it (it never loses one by
    time alone: it leaves the queue when billed)."""
    if now <= last or now <= ended_at:
        return False
    hour = timedelta(hours=1)
    return (now - ended_at) // hour > max(last - ended_at, timedelta(0)) // hour


def day_changed(last: datetime, now: datetime, zone: str) -> bool:
    """The facility's calendar turned a day between two sweeps: every claim's days left to file went down by one
    (claimsNearingFilingLimit counts them on the facility's calendar)."""
    tz = ZoneInfo(zone)
    return now > last and now.astimezone(tz).date() != last.astimezone(tz).date()


def filing_days_left(service_date: date, limit_days: int, today: date) -> int:
    """Days left to file a claim for a date of service under the payer's limit (counted from that date)."""
    return limit_days - (today - service_date).days


def check_file_name(name: str) -> str:
    cleaned = name.strip()
    if len(cleaned) > 255:
        raise BadInput("A file name is at most 255 characters")
    return cleaned
