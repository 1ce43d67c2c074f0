"""The 835 Health Care Claim Payment/Advice (005010X221A1): the payment or EFT, and per claim (CLP) what was paid,
adjusted (CAS: group and CARC, at claim and service-line level), left to the patient and remarked on (RARC),
reversals (CLP02 22) and provider-level adjustments (PLB). Read, written, and checked for balance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from app.rules.edi import codes
from app.rules.edi.carc import adjustment_reason_text
from app.rules.edi.rarc import remark_text
from app.rules.edi.x12 import (
    Address,
    Envelope,
    Grammar,
    Party,
    Person,
    Segment,
    TransactionSet,
    X12Error,
    amount_text,
    composite,
    day_text,
    read_interchange,
    render_interchange,
    required_segment,
    text,
    transactions_of,
    walk,
)

IMPLEMENTATION = "005010X221A1"
FUNCTIONAL_ID = "HP"
ZERO = Decimal(0)
CONTRACTUAL, PATIENT_RESPONSIBILITY, OTHER, PAYER_INITIATED = "CO", "PR", "OA", "PI"


@dataclass(frozen=True)
class Adjustment:
    """One reason of a CAS segment: group (CAS01), CARC, amount and units."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None

    @property
    def group_text(self) -> str:
        return codes.describe(codes.ADJUSTMENT_GROUPS, self.group)

    @property
    def reason_text(self) -> str:
        return adjustment_reason_text(self.reason)

    @property
    def code(self) -> str:
        """As a billing office says it: CO-45."""
        return f"{self.group}-{self.reason}"


@dataclass(frozen=True)
class ServicePayment:
    """2110: one service line as the payer adjudicated it."""

    procedure_code: str  # SVC01-2
    modifiers: tuple[str, ...]
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    units: Decimal = Decimal(1)  # SVC05 (1 when absent, as the guide says)
    service_dates: tuple[date, date] | None = None  # DTM*472, or DTM*150/151
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # LQ*HE: RARC
    allowed: Decimal | None = None  # AMT*B6
    line_control_number: str | None = None  # REF*6R
    submitted_procedure_code: str | None = None  # SVC06-2, when the payer paid another code than we billed

    @property
    def remark_texts(self) -> tuple[str, ...]:
        return tuple(remark_text(r) for r in self.remarks)


@dataclass(frozen=True)
class ClaimPayment:
    """2100: one claim as the payer adjudicated it."""

    claim_number: str  # CLP01: our CLM01
    status: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # CLP05 (0 when absent)
    filing_indicator: str  # CLP06: MC Medicaid, CI commercial...
    payer_claim_number: str  # CLP07
    patient: Person  # NM1*QC
    facility_code: str = ""  # CLP08: the place of service
    frequency: str = ""  # CLP09
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    services: tuple[ServicePayment, ...] = ()
    remarks: tuple[str, ...] = ()  # MOA03..MOA07: claim-level RARC
    statement_period: tuple[date, date] | None = None  # DTM*232/233
    received_on: date | None = None  # DTM*050

    @property
    def status_text(self) -> str:
        return codes.describe(codes.CLAIM_PAYMENT_STATUSES, self.status)

    @property
    def reversal(self) -> bool:
        return self.status == codes.REVERSAL

    @property
    def denied(self) -> bool:
        return self.status == codes.DENIED

    @property
    def all_adjustments(self) -> tuple[Adjustment, ...]:
        return self.adjustments + tuple(a for s in self.services for a in s.adjustments)


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB pair: an amount withheld from (positive) or added to (negative) the payment, not tied to a claim."""

    provider_id: str  # PLB01
    fiscal_period_end: date  # PLB02
    reason: str  # PLB03-1 and its pairs
    reference: str  # PLB03-2: e.g. the claim a recovery is for
    amount: Decimal

    @property
    def reason_text(self) -> str:
        return codes.describe(codes.PROVIDER_ADJUSTMENT_REASONS, self.reason)


@dataclass(frozen=True)
class Remittance:
    """One 835 transaction set."""

    handling: str  # BPR01: I remittance only, C payment with it, H notification only
    total_paid: Decimal  # BPR02
    method: str  # BPR04: CHK, ACH, NON
    paid_on: date  # BPR16
    trace_number: str  # TRN02: the check or EFT trace number
    payer_trace_id: str  # TRN03: 1 and the payer's TIN
    payer: Party  # 1000A N1*PR (id: REF*2U, or N104)
    payee: Party  # 1000B N1*PE (id: the NPI)
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    production_date: date | None = None  # DTM*405
    payer_address: Address | None = None
    payer_phone: str = ""  # the 1000A PER*BL technical contact
    payee_tax_id: str | None = None  # REF*TJ

    @property
    def handling_text(self) -> str:
        return codes.describe(codes.PAYMENT_HANDLING, self.handling)


# ---------------------------------------------------------------- reading

_DETAIL = {"LX": "2000", "PLB": "footer"}
GRAMMAR: Grammar = {
    "start": {"BPR": "header"},
    "header": {"TRN": "header", "CUR": "header", "REF": "header", "DTM": "header", "N1*PR": "1000A"},
    "1000A": {"N3": "1000A", "N4": "1000A", "REF": "1000A", "PER": "1000A", "N1*PE": "1000B"},
    "1000B": {"N3": "1000B", "N4": "1000B", "REF": "1000B", "RDM": "1000B", **_DETAIL},
    "2000": {"TS3": "2000", "TS2": "2000", "CLP": "2100"},
    "2100": {
        **{tag: "2100" for tag in ("CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY", "CLP")},
        "SVC": "2110",
        **_DETAIL,
    },
    "2110": {
        **{tag: "2110" for tag in ("DTM", "CAS", "REF", "AMT", "QTY", "LQ", "SVC")},
        "CLP": "2100",
        **_DETAIL,
    },
    "footer": {"PLB": "footer"},
}


def _adjustments(cas: Segment) -> tuple[Adjustment, ...]:
    group = cas.required(1)
    found = []
    for first in range(2, 20, 3):  # up to six reason/amount/quantity triplets
        if not cas[first]:
            if cas[first + 1]:
                raise X12Error(f"CAS{first + 1:02d} has an amount without its reason code", cas)
            continue
        found.append(Adjustment(group, cas[first], cas.amount(first + 1), cas.optional_amount(first + 2)))
    if not found:
        raise X12Error("CAS02 (the adjustment reason) is required", cas)
    return tuple(found)


def _provider_adjustments(plb: Segment) -> tuple[ProviderAdjustment, ...]:
    found = []
    for first in range(3, 15, 2):
        if not plb[first]:
            continue
        found.append(
            ProviderAdjustment(
                plb.required(1), plb.date(2), plb.component(first, 1), plb.component(first, 2), plb.amount(first + 1)
            )
        )
    if not found:
        raise X12Error("PLB03 (the adjustment reason) is required", plb)
    return tuple(found)


@dataclass
class _Service:
    svc: Segment
    dates: dict[str, date]
    adjustments: list[Adjustment]
    remarks: list[str]
    allowed: Decimal | None = None
    line_control_number: str | None = None

    def payment(self) -> ServicePayment:
        procedure = self.svc.components(1)
        if len(procedure) < 2 or not procedure[1]:
            raise X12Error("SVC01 needs a qualifier and a procedure code", self.svc)
        submitted = self.svc.components(6)
        first = self.dates.get("472") or self.dates.get("150")
        last = self.dates.get("472") or self.dates.get("151") or first
        return ServicePayment(
            procedure[1], tuple(m for m in procedure[2:6] if m), self.svc.amount(2), self.svc.amount(3),
            self.svc.optional_amount(5) or Decimal(1), (first, last) if first and last else None,
            tuple(self.adjustments), tuple(self.remarks), self.allowed, self.line_control_number,
            submitted[1] if len(submitted) > 1 else None,
        )  # fmt: skip


@dataclass
class _Claim:
    clp: Segment
    adjustments: list[Adjustment]
    services: list[ServicePayment]
    dates: dict[str, date]
    patient: Person | None = None
    remarks: tuple[str, ...] = ()
    service: _Service | None = None

    def close_service(self) -> None:
        if self.service is not None:
            self.services.append(self.service.payment())
        self.service = None

    def payment(self) -> ClaimPayment:
        self.close_service()
        clp = self.clp
        if self.patient is None:
            raise X12Error("the claim has no NM1*QC (patient name)", clp)
        start, end = self.dates.get("232"), self.dates.get("233")
        return ClaimPayment(
            clp.required(1), clp.required(2), clp.amount(3), clp.amount(4), clp.optional_amount(5) or ZERO,
            clp.required(6), clp.required(7), self.patient, clp[8], clp[9], tuple(self.adjustments),
            tuple(self.services), self.remarks, (start, end or start) if start else None, self.dates.get("050"),
        )  # fmt: skip


def read_835_transaction(transaction: TransactionSet) -> Remittance:
    bpr = trn = payer_n1 = payee_n1 = None
    header_dates: dict[str, date] = {}
    payer_refs: dict[str, str] = {}
    payee_refs: dict[str, str] = {}
    payer_address: Address | None = None
    street: Segment | None = None
    payer_phone = ""
    claims: list[ClaimPayment] = []
    claim: _Claim | None = None
    adjustments: list[ProviderAdjustment] = []

    def close_claim() -> None:
        nonlocal claim
        if claim is not None:
            claims.append(claim.payment())
        claim = None

    for loop, segment in walk(transaction, GRAMMAR, "start"):
        if segment.id in ("CLP", "LX", "PLB"):
            close_claim()
        match loop, segment.id:
            case "header", "BPR":
                bpr = segment
            case "header", "TRN":
                trn = segment
            case "header", "DTM":
                header_dates[segment.required(1)] = segment.date(2)
            case "1000A", "N1":
                payer_n1 = segment
            case "1000A", "N3":
                street = segment
            case "1000A", "N4":
                line = street[1] if street is not None else ""
                payer_address = Address(line, segment[1], segment[2], segment[3])
            case "1000A", "REF":
                payer_refs[segment.required(1)] = segment.required(2)
            case "1000A", "PER" if segment[1] == "BL":
                payer_phone = next((segment[n + 1] for n in (3, 5, 7) if segment[n] == "TE"), "")
            case "1000B", "N1":
                payee_n1 = segment
            case "1000B", "REF":
                payee_refs[segment.required(1)] = segment.required(2)
            case "2100", "CLP":
                claim = _Claim(segment, [], [], {})
            case "2100", "CAS" if claim is not None:
                claim.adjustments += _adjustments(segment)
            case "2100", "NM1" if claim is not None and segment[1] == "QC":
                claim.patient = Person(segment[3], segment[4], segment[9])
            case "2100", "MOA" if claim is not None:
                claim.remarks = tuple(segment[n] for n in range(3, 8) if segment[n])
            case "2100", "DTM" if claim is not None:
                claim.dates[segment.required(1)] = segment.date(2)
            case "2110", "SVC" if claim is not None:
                claim.close_service()
                claim.service = _Service(segment, {}, [], [])
            case "2110", "DTM" if claim is not None and claim.service is not None:
                claim.service.dates[segment.required(1)] = segment.date(2)
            case "2110", "CAS" if claim is not None and claim.service is not None:
                claim.service.adjustments += _adjustments(segment)
            case "2110", "LQ" if claim is not None and claim.service is not None and segment[1] == "HE":
                claim.service.remarks.append(segment.required(2))
            case "2110", "AMT" if claim is not None and claim.service is not None and segment[1] == "B6":
                claim.service.allowed = segment.amount(2)
            case "2110", "REF" if claim is not None and claim.service is not None and segment[1] == "6R":
                claim.service.line_control_number = segment.required(2)
            case "footer", "PLB":
                adjustments += _provider_adjustments(segment)
    close_claim()
    required_segment(trn, transaction, "TRN (the check or EFT trace number)")
    required_segment(payer_n1, transaction, "1000A N1*PR (payer)")
    required_segment(payee_n1, transaction, "1000B N1*PE (payee)")
    assert bpr is not None and trn is not None and payer_n1 is not None and payee_n1 is not None
    payer_id = payer_refs.get("2U") or payer_n1[4] or trn[3]
    return Remittance(
        bpr.required(1), bpr.amount(2), bpr.required(4), bpr.date(16), trn.required(2), trn.required(3),
        Party(payer_n1.required(2), payer_id), Party(payee_n1.required(2), payee_n1.required(4)), tuple(claims),
        tuple(adjustments), header_dates.get("405"), payer_address, payer_phone, payee_refs.get("TJ"),
    )  # fmt: skip


def read_835(text: str) -> tuple[Remittance, ...]:
    """Every 835 of the file; a malformed one raises X12Error naming the segment and line."""
    interchange = read_interchange(text)
    return tuple(read_835_transaction(t) for t in transactions_of(interchange, "835", IMPLEMENTATION))


def balance_problems(remittance: Remittance) -> list[str]:
    """The guide's balancing (section 1.10.2.1): each line's charge less its adjustments is its payment, each
    claim's charge less all its adjustments is its payment, and the claims' payments less the provider
    adjustments are the BPR total."""
    problems = []
    for claim in remittance.claims:
        for service in claim.services:
            adjusted = service.charge - sum((a.amount for a in service.adjustments), ZERO)
            if adjusted != service.paid:
                problems.append(
                    f"claim {claim.claim_number} line {service.procedure_code}: charge {service.charge} less"
                    f" adjustments is {adjusted}, paid {service.paid}"
                )
        adjusted = claim.charge - sum((a.amount for a in claim.all_adjustments), ZERO)
        if adjusted != claim.paid:
            problems.append(
                f"claim {claim.claim_number}: charge {claim.charge} less adjustments is {adjusted}, paid {claim.paid}"
            )
        if claim.services and sum((s.charge for s in claim.services), ZERO) != claim.charge:
            problems.append(f"claim {claim.claim_number}: the lines' charges do not add up to CLP03 {claim.charge}")
    net = sum((c.paid for c in remittance.claims), ZERO) - sum(
        (a.amount for a in remittance.provider_adjustments), ZERO
    )
    if net != remittance.total_paid:
        problems.append(f"BPR02 {remittance.total_paid} is not the claims' payments less PLB adjustments ({net})")
    return problems


# ---------------------------------------------------------------- writing


def _cas(adjustments: Sequence[Adjustment]) -> list[tuple[str, ...]]:
    """One CAS per group, six reasons at most in each (a seventh opens another CAS of the same group)."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    segments = []
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            elements: list[str] = ["CAS", group]
            for item in items[start : start + 6]:
                quantity = "" if item.quantity is None else amount_text(item.quantity)
                elements += [item.reason, amount_text(item.amount), quantity]
            segments.append(tuple(elements))
    return segments


def _service(service: ServicePayment) -> list[tuple[str, ...]]:
    submitted = composite("HC", service.submitted_procedure_code) if service.submitted_procedure_code else ""
    units = "" if service.units == 1 else amount_text(service.units)
    segments: list[tuple[str, ...]] = [
        (
            "SVC", composite("HC", service.procedure_code, *service.modifiers), amount_text(service.charge),
            amount_text(service.paid), "", units, submitted,
        )
    ]  # fmt: skip
    if service.service_dates:
        first, last = service.service_dates
        if first == last:
            segments.append(("DTM", "472", day_text(first)))
        else:
            segments += [("DTM", "150", day_text(first)), ("DTM", "151", day_text(last))]
    segments += _cas(service.adjustments)
    if service.line_control_number:
        segments.append(("REF", "6R", text(service.line_control_number)))
    if service.allowed is not None:
        segments.append(("AMT", "B6", amount_text(service.allowed)))
    segments += [("LQ", "HE", remark) for remark in service.remarks]
    return segments


def _claim(claim: ClaimPayment) -> list[tuple[str, ...]]:
    patient = claim.patient
    segments: list[tuple[str, ...]] = [
        (
            "CLP", text(claim.claim_number), claim.status, amount_text(claim.charge), amount_text(claim.paid),
            amount_text(claim.patient_responsibility) if claim.patient_responsibility else "",
            claim.filing_indicator, text(claim.payer_claim_number), claim.facility_code, claim.frequency,
        ),
        *_cas(claim.adjustments),
        ("NM1", "QC", "1", text(patient.last_name, 60), text(patient.first_name, 35), "", "", "", "MI",
         text(patient.member_id)),
    ]  # fmt: skip
    if claim.remarks:
        segments.append(("MOA", "", "", *claim.remarks[:5]))
    if claim.statement_period:
        first, last = claim.statement_period
        segments += [("DTM", "232", day_text(first)), ("DTM", "233", day_text(last))]
    if claim.received_on:
        segments.append(("DTM", "050", day_text(claim.received_on)))
    for service in claim.services:
        segments += _service(service)
    return segments


def _plb(adjustments: Sequence[ProviderAdjustment]) -> list[tuple[str, ...]]:
    """One PLB per provider and fiscal period, six adjustments at most in each."""
    by_key: dict[tuple[str, date], list[ProviderAdjustment]] = {}
    for adjustment in adjustments:
        by_key.setdefault((adjustment.provider_id, adjustment.fiscal_period_end), []).append(adjustment)
    segments = []
    for (provider, period), items in by_key.items():
        for start in range(0, len(items), 6):
            elements = ["PLB", provider, day_text(period)]
            for item in items[start : start + 6]:
                elements += [composite(item.reason, text(item.reference)), amount_text(item.amount)]
            segments.append(tuple(elements))
    return segments


def _body(remittance: Remittance) -> list[tuple[str, ...]]:
    address = remittance.payer_address
    body: list[tuple[str, ...]] = [
        (
            "BPR", remittance.handling, amount_text(remittance.total_paid), "C", remittance.method,
            *[""] * 11, day_text(remittance.paid_on),
        ),
        ("TRN", "1", text(remittance.trace_number), text(remittance.payer_trace_id)),
    ]  # fmt: skip
    if remittance.production_date:
        body.append(("DTM", "405", day_text(remittance.production_date)))
    body.append(("N1", "PR", text(remittance.payer.name, 60)))
    if address is not None:
        body += [
            ("N3", text(address.line, 55)),
            ("N4", text(address.city, 30), text(address.state), "".join(c for c in address.zip if c.isdigit())),
        ]
    body.append(("REF", "2U", text(remittance.payer.id)))
    body.append(("PER", "BL", "", "TE", "".join(c for c in remittance.payer_phone if c.isdigit())))
    body.append(("N1", "PE", text(remittance.payee.name, 60), "XX", text(remittance.payee.id)))
    if remittance.payee_tax_id:
        body.append(("REF", "TJ", "".join(c for c in remittance.payee_tax_id if c.isdigit())))
    if remittance.claims:
        body.append(("LX", "1"))
    for claim in remittance.claims:
        body += _claim(claim)
    body += _plb(remittance.provider_adjustments)
    return body


def render_835(envelope: Envelope, remittances: Sequence[Remittance]) -> str:
    envelope = replace(envelope, functional_id=FUNCTIONAL_ID, implementation=IMPLEMENTATION)
    # X221A1 marks ST03 not used (so does pyx12's map, which flags it): GS08 alone names the guide.
    return render_interchange(envelope, "835", [_body(r) for r in remittances], implementation_in_st=False)
