"""The simulated payer's answers, computed from the files alone: the same batch and policy always give the same
bytes (dates follow the batch's own, control numbers its ISA13)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.payer_sim.policy import CENT, Outcome, Policy
from app.rules.edi import edi277, edi835
from app.rules.edi.claims837 import ClaimBatch, SubmittedClaim, read_837p
from app.rules.edi.edi270 import EligibilityInquiry, read_270
from app.rules.edi.edi271 import Benefit, DatedQualifier, EligibilityResponse, RequestRejection, render_271
from app.rules.edi.edi277 import ClaimAcknowledgment, HealthCareClaimAcknowledgment, StatusCode, render_277ca
from app.rules.edi.edi835 import Adjustment, ClaimPayment, ProviderAdjustment, Remittance, ServicePayment, render_835
from app.rules.edi.edi999 import acknowledge_group, render_999
from app.rules.edi.x12 import Envelope, read_interchange

ZERO = Decimal(0)
ACKNOWLEDGED_AFTER = timedelta(hours=1)
PAID_AFTER = timedelta(days=14)
REVERSED_AFTER = timedelta(days=45)
# Control numbers of the answers: the batch's ISA13 under a different leading digit for each kind of answer.
ACKNOWLEDGMENT, CLAIM_ACKNOWLEDGMENT, REMITTANCE, REVERSAL, ELIGIBILITY = 1, 2, 3, 4, 5
DENIALS: dict[Outcome, tuple[str, tuple[str, ...]]] = {
    Outcome.DENIED_NO_AUTHORIZATION: ("197", ()),
    Outcome.DENIED_MISSING_INFORMATION: ("16", ("N290",)),
    Outcome.DENIED_NOT_MEDICALLY_NECESSARY: ("50", ()),
    Outcome.DENIED_COVERAGE_ENDED: ("27", ()),
}
VOID = "8"
# CLP06 knows the payer's product, not the 837's SBR09 commercial codes: those are paid as indemnity (15).
CLAIM_FILING_INDICATORS = frozenset({"12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB",
                                     "MC", "OF", "TV", "VA", "WC", "ZZ"})  # fmt: skip


@dataclass(frozen=True)
class PayerAnswers:
    acknowledgment: str  # the 999
    claim_acknowledgment: str  # the 277CA
    remittance: str | None  # the 835; None when no claim was adjudicated
    reversal: str | None  # the later 835 reversing PAID_THEN_REVERSED claims
    outcomes: Mapping[str, Outcome]  # what each claim (by CLM01) got
    payer_claim_numbers: Mapping[str, str]  # the REF*1K / CLP07 given to each accepted claim


def _envelope(batch_control: str, kind: int, sender: str, receiver: str, at: datetime, *, production: bool) -> Envelope:
    control = kind * 100_000_000 + int(batch_control) % 100_000_000
    return Envelope(sender, receiver, control, at, "", "", production=production)


def payer_claim_number(received: date, batch_control: str, index: int) -> str:
    """Julian date, batch and the claim's place in it: unique per claim, as a payer's ICN is."""
    return f"{received:%y%j}{int(batch_control) % 1_000_000:06d}{index:03d}"


def _acknowledgment(claim: SubmittedClaim, outcome: Outcome, on: date, icn: str) -> ClaimAcknowledgment:
    common = dict(
        claim_number=claim.claim_number, status_date=on, charge=claim.charge, service_dates=claim.service_dates,
        patient=claim.subscriber, billing_provider=claim.billing_provider,
    )  # fmt: skip
    if outcome is Outcome.REJECTED:
        return ClaimAcknowledgment(
            statuses=(StatusCode("A7", "164", "IL"),), action=edi277.REJECT, message="MEMBER ID NOT FOUND", **common
        )
    return ClaimAcknowledgment(
        statuses=(StatusCode("A2", "20", "PR"),), action=edi277.ACCEPT, payer_claim_number=icn, **common
    )


def _paid_lines(claim: SubmittedClaim, policy: Policy, *, below: bool = False) -> tuple[ServicePayment, ...]:
    """Each line allowed at the contract rate (CO-45 the rest), or `below_contract` of it; the claim's copay, or
    deductible, taken from the first lines' allowed amounts as PR-3 or PR-1."""
    deductible = claim.subscriber.member_id in policy.deductible_members
    share_left, reason = (policy.deductible, "1") if deductible else (policy.copay, "3")
    lines = []
    for line in claim.lines:
        allowed = policy.allowed(line.charge, line.procedure_code, line.modifiers, line.units)
        if below:
            allowed = (allowed * policy.below_contract).quantize(CENT, ROUND_HALF_UP)
        share = min(share_left, allowed)
        share_left -= share
        adjustments = [Adjustment(edi835.CONTRACTUAL, "45", line.charge - allowed)] if line.charge != allowed else []
        if share:
            adjustments.append(Adjustment(edi835.PATIENT_RESPONSIBILITY, reason, share))
        lines.append(
            ServicePayment(
                line.procedure_code, line.modifiers, line.charge, allowed - share, line.units,
                (line.service_date, line.service_date), tuple(adjustments), allowed=allowed,
                line_control_number=line.line_control_number,
            )
        )  # fmt: skip
    return tuple(lines)


def _denied_lines(claim: SubmittedClaim, reason: str, remarks: tuple[str, ...]) -> tuple[ServicePayment, ...]:
    return tuple(
        ServicePayment(
            line.procedure_code, line.modifiers, line.charge, ZERO, line.units, (line.service_date, line.service_date),
            (Adjustment(edi835.CONTRACTUAL, reason, line.charge),), remarks, line_control_number=line.line_control_number,
        )
        for line in claim.lines
    )  # fmt: skip


def _payment(claim: SubmittedClaim, outcome: Outcome, policy: Policy, icn: str, received: date) -> ClaimPayment:
    if outcome in DENIALS:
        reason, remarks = DENIALS[outcome]
        services, status = _denied_lines(claim, reason, remarks), "4"
    else:
        services, status = _paid_lines(claim, policy, below=outcome is Outcome.PAID_BELOW_CONTRACT), "1"
    patient_share = sum(
        (a.amount for s in services for a in s.adjustments if a.group == edi835.PATIENT_RESPONSIBILITY), ZERO
    )
    return ClaimPayment(
        claim.claim_number, status, claim.charge, sum((s.paid for s in services), ZERO), patient_share,
        claim.filing_indicator if claim.filing_indicator in CLAIM_FILING_INDICATORS else "15", icn, claim.subscriber, claim.place_of_service, claim.frequency,
        services=services, received_on=received,
    )  # fmt: skip


def reversal_of(payment: ClaimPayment) -> ClaimPayment:
    """CLP02 22: the payment undone, every amount with its sign turned, the payer's claim number kept."""
    services = tuple(
        ServicePayment(
            s.procedure_code, s.modifiers, -s.charge, -s.paid, s.units, s.service_dates,
            tuple(Adjustment(a.group, a.reason, -a.amount, a.quantity) for a in s.adjustments),
            line_control_number=s.line_control_number,
        )
        for s in payment.services
    )  # fmt: skip
    return ClaimPayment(
        payment.claim_number, "22", -payment.charge, -payment.paid, -payment.patient_responsibility,
        payment.filing_indicator, payment.payer_claim_number, payment.patient, payment.facility_code,
        payment.frequency, services=services, received_on=payment.received_on,
    )  # fmt: skip


def _remittance(
    batch: ClaimBatch,
    policy: Policy,
    claims: tuple[ClaimPayment, ...],
    paid_on: date,
    *,
    trace: str,
    plb: tuple[ProviderAdjustment, ...] = (),
) -> Remittance:
    total = sum((c.paid for c in claims), ZERO) - sum((a.amount for a in plb), ZERO)
    # A check goes with money; a remittance that pays nothing (all denied, or a reversal) is a notice only.
    handling, method = ("I", "CHK") if total > 0 else ("H", "NON")
    return Remittance(
        handling, total, method, paid_on, trace, "1" + policy.payer_tax_id, policy.payer,
        batch.claims[0].billing_provider, claims, tuple(plb), paid_on, policy.payer_address, policy.payer_phone,
    )  # fmt: skip


def answer_claims(text: str, policy: Policy | None = None, first_turn: int = 0) -> PayerAnswers:
    """The 999, the 277CA and the 835s a payer sends for one 837P batch. `first_turn` is how many claims the
    run has seen before this batch (the policy's mix goes on across batches). A malformed batch raises X12Error."""
    policy = policy or Policy()
    batch = read_837p(text)
    interchange = batch.interchange
    received = interchange.created_at.date()
    answered_at = interchange.created_at + ACKNOWLEDGED_AFTER
    payer, us, control = policy.payer.id, interchange.sender_id, interchange.control_number

    def envelope(kind: int, at: datetime) -> Envelope:
        return _envelope(control, kind, payer, us, at, production=interchange.production)

    acknowledgment = render_999(
        envelope(ACKNOWLEDGMENT, answered_at), [acknowledge_group(g) for g in interchange.groups]
    )
    outcomes: dict[str, Outcome] = {}
    numbers: dict[str, str] = {}
    acknowledgments, payments = [], []
    for index, claim in enumerate(batch.claims, 1):
        outcome = policy.outcome(claim.claim_number, claim.subscriber.member_id, first_turn + index - 1)
        outcomes[claim.claim_number] = outcome
        icn = payer_claim_number(received, control, index)
        acknowledgments.append(_acknowledgment(claim, outcome, answered_at.date(), icn))
        if outcome is Outcome.REJECTED:
            continue
        numbers[claim.claim_number] = icn
        if claim.frequency != VOID:  # a void is acknowledged; what it reverses was paid in another batch
            payments.append(_payment(claim, outcome, policy, icn, received))
    status = HealthCareClaimAcknowledgment(
        policy.payer, batch.submitter, f"CA{control}", answered_at, f"R{control}", received, answered_at.date(),
        batch.reference, tuple(acknowledgments),
    )  # fmt: skip
    claim_acknowledgment = render_277ca(envelope(CLAIM_ACKNOWLEDGMENT, answered_at), [status])
    remittance = reversal = None
    if payments:
        paid_at = interchange.created_at + PAID_AFTER
        paid = _remittance(batch, policy, tuple(payments), paid_at.date(), trace=f"{control}01")
        remittance = render_835(envelope(REMITTANCE, paid_at), [paid])
        reversed_claims = tuple(
            reversal_of(p) for p in payments if outcomes[p.claim_number] is Outcome.PAID_THEN_REVERSED
        )
        if reversed_claims:
            reversed_at = interchange.created_at + REVERSED_AFTER
            # Nothing else is paid in this 835, so the recovery is carried forward (PLB FB) to bring BPR02 to 0.
            forward = tuple(
                ProviderAdjustment(paid.payee.id, date(reversed_at.year, 12, 31), "FB", c.payer_claim_number, c.paid)
                for c in reversed_claims
            )
            later = _remittance(batch, policy, reversed_claims, reversed_at.date(), trace=f"{control}02", plb=forward)
            reversal = render_835(envelope(REVERSAL, reversed_at), [later])
    return PayerAnswers(acknowledgment, claim_acknowledgment, remittance, reversal, outcomes, numbers)


# ---------------------------------------------------------------- eligibility


def _response(inquiry: EligibilityInquiry, policy: Policy, at: datetime) -> EligibilityResponse:
    member = inquiry.subscriber.member_id
    common = dict(
        reference=inquiry.reference, created_at=at, payer=inquiry.payer, provider=inquiry.provider,
        subscriber=inquiry.subscriber, trace_numbers=(inquiry.trace_number,), originator=inquiry.originator,
    )  # fmt: skip
    if member in policy.unknown_members:
        return EligibilityResponse(rejections=(RequestRejection("2100C", False, "75", "C"),), **common)
    year = inquiry.service_date.year
    if member in policy.inactive_members:
        ended = inquiry.service_date.replace(day=1) - timedelta(days=1)
        return EligibilityResponse(
            dates=(DatedQualifier("346", date(year - 1, 1, 1), date(year - 1, 1, 1)), DatedQualifier("347", ended, ended)),
            benefits=(Benefit("6", ("30",), "IND", policy.insurance_type),),
            date_of_birth=inquiry.date_of_birth, sex=inquiry.sex, **common,
        )  # fmt: skip
    asked = tuple(dict.fromkeys(("30", *inquiry.service_types)))
    behavioral = tuple(s for s in asked if s != "30") or ("MH",)
    benefits = [Benefit("1", asked, "IND", policy.insurance_type, policy.plan_name)]
    for service_type in behavioral:
        benefits += [
            Benefit("B", (service_type,), "IND", policy.insurance_type, "", "27", policy.copay, in_network="Y"),
            Benefit("A", (service_type,), "IND", policy.insurance_type, "", "27", None, Decimal("0.2"), in_network="N"),
        ]
    return EligibilityResponse(
        dates=(DatedQualifier("346", date(year, 1, 1), date(year, 1, 1)),
               DatedQualifier("347", date(year, 12, 31), date(year, 12, 31))),
        benefits=tuple(benefits), date_of_birth=inquiry.date_of_birth, sex=inquiry.sex, **common,
    )  # fmt: skip


def answer_inquiries(text: str, policy: Policy | None = None) -> str:
    """The 271 for a 270: active unless the policy names the member inactive (EB*6) or unknown (AAA 75)."""
    policy = policy or Policy()
    interchange = read_interchange(text)
    inquiries = read_270(text)
    at = interchange.created_at + timedelta(minutes=1)
    envelope = _envelope(
        interchange.control_number, ELIGIBILITY, policy.payer.id, interchange.sender_id, at,
        production=interchange.production,
    )  # fmt: skip
    return render_271(envelope, [_response(i, policy, at) for i in inquiries])
