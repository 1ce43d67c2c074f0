"""The 277CA Health Care Claim Acknowledgment (005010X214): per claim, accepted into adjudication or rejected at
the payer's front door, with the status codes that say why and the payer's claim control number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from app.rules.edi import codes
from app.rules.edi.x12 import (
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
    period_elements,
    read_interchange,
    render_interchange,
    required_segment,
    text,
    transactions_of,
    walk,
)

IMPLEMENTATION = "005010X214"
FUNCTIONAL_ID = "HN"
ACCEPT, REJECT = "WQ", "U"  # STC03 action codes


@dataclass(frozen=True)
class StatusCode:
    """One STC composite (STC01, STC10 or STC11): category (507), status (508) and the entity it is about."""

    category: str
    code: str
    entity: str = ""

    @property
    def category_text(self) -> str:
        return codes.describe(codes.CLAIM_STATUS_CATEGORIES, self.category)

    @property
    def code_text(self) -> str:
        return codes.describe(codes.CLAIM_STATUS_CODES, self.code)

    @property
    def text(self) -> str:
        about = f" ({codes.describe(codes.ENTITIES, self.entity)})" if self.entity else ""
        return f"{self.category}: {self.category_text} {self.code}: {self.code_text.rstrip('.')}{about}."


@dataclass(frozen=True)
class LineAcknowledgment:
    """2220D: a service line the payer comments on (always a rejection in a 277CA)."""

    procedure_code: str  # SVC01-2
    modifiers: tuple[str, ...]
    charge: Decimal  # SVC02
    statuses: tuple[StatusCode, ...]
    service_dates: tuple[date, date] | None = None
    line_control_number: str | None = None  # REF*FJ: our 837's REF*6R


@dataclass(frozen=True)
class ClaimAcknowledgment:
    """2000D/2200D: one claim of our batch."""

    claim_number: str  # TRN02: our CLM01, the patient control number
    statuses: tuple[StatusCode, ...]  # STC01, STC10, STC11
    status_date: date  # STC02
    action: str  # STC03: WQ accepted, U rejected
    charge: Decimal  # STC04: the claim's total as we sent it
    service_dates: tuple[date, date]  # DTP*472
    patient: Person  # 2100D
    billing_provider: Party  # 2100C: whose claim it is
    payer_claim_number: str | None = None  # REF*1K: what every later correction carries in REF*F8
    clearinghouse_trace: str | None = None  # REF*D9
    message: str | None = None  # STC12
    lines: tuple[LineAcknowledgment, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.action == ACCEPT and not any(s.category in codes.REJECTING_CATEGORIES for s in self.statuses)


@dataclass(frozen=True)
class HealthCareClaimAcknowledgment:
    """One 277CA transaction set."""

    payer: Party  # 2100A
    receiver: Party  # 2100B: the submitter the answer goes to
    reference: str  # BHT03
    created_at: datetime  # BHT04/05
    transmission_trace: str  # 2200A TRN02: the payer's receipt number for our file
    received_on: date  # 2200A DTP*050
    processed_on: date  # 2200A DTP*009
    batch_trace: str  # 2200B TRN02: our batch's identifier (the 837's BHT03)
    claims: tuple[ClaimAcknowledgment, ...]
    receiver_statuses: tuple[StatusCode, ...] = (StatusCode("A1", "19", "PR"),)

    @property
    def accepted(self) -> tuple[ClaimAcknowledgment, ...]:
        return tuple(c for c in self.claims if c.accepted)

    @property
    def rejected(self) -> tuple[ClaimAcknowledgment, ...]:
        return tuple(c for c in self.claims if not c.accepted)


# ---------------------------------------------------------------- reading

_NEXT_LEVELS = {"HL*PT": "2000D", "HL*19": "2000C", "HL*21": "2000B", "HL*20": "2000A"}
GRAMMAR: Grammar = {
    "start": {"BHT": "header"},
    "header": {"HL*20": "2000A"},
    "2000A": {"NM1*PR": "2100A", "NM1*AY": "2100A"},
    "2100A": {"TRN": "2200A"},
    "2200A": {"DTP": "2200A", "HL*21": "2000B"},
    "2000B": {"NM1*41": "2100B"},
    "2100B": {"TRN": "2200B"},
    "2200B": {"STC": "2200B", "QTY": "2200B", "AMT": "2200B", **_NEXT_LEVELS},
    "2000C": {"NM1*85": "2100C"},
    "2100C": {"NM1*85": "2100C", "TRN": "2200C", **_NEXT_LEVELS},
    "2200C": {"STC": "2200C", "REF": "2200C", "QTY": "2200C", "AMT": "2200C", **_NEXT_LEVELS},
    "2000D": {"NM1*QC": "2100D"},
    "2100D": {"TRN": "2200D", **_NEXT_LEVELS},
    "2200D": {"STC": "2200D", "REF": "2200D", "DTP": "2200D", "SVC": "2220D", "TRN": "2200D", **_NEXT_LEVELS},
    "2220D": {"STC": "2220D", "REF": "2220D", "DTP": "2220D", "SVC": "2220D", "TRN": "2200D", **_NEXT_LEVELS},
}


def _statuses(stc: Segment) -> tuple[StatusCode, ...]:
    found = []
    for position in (1, 10, 11):
        parts = stc.components(position)
        if position == 1 and (len(parts) < 2 or not parts[0] or not parts[1]):
            raise X12Error("STC01 needs a status category and a status code", stc)
        if len(parts) >= 2:
            if len(parts[0]) > 30 or len(parts[1]) > 30:  # each data element 1271: 1 to 30 characters
                raise X12Error(f"STC{position:02d}'s status category and code have at most 30 characters each", stc)
            found.append(StatusCode(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return tuple(found)


@dataclass
class _ClaimDraft:
    trn: Segment
    patient: Person
    provider: Party
    stc: Segment | None = None
    refs: dict[str, str] | None = None
    dates: tuple[date, date] | None = None
    lines: list[LineAcknowledgment] | None = None
    svc: Segment | None = None
    line_stc: Segment | None = None
    line_ref: str | None = None
    line_dates: tuple[date, date] | None = None

    def close_line(self) -> None:
        if self.svc is None:
            return
        if self.line_stc is None:
            raise X12Error("the service line (2220D) has no STC", self.svc)
        procedure = self.svc.components(1)
        self.lines = (self.lines or []) + [
            LineAcknowledgment(
                procedure[1] if len(procedure) > 1 else "", tuple(m for m in procedure[2:6] if m),
                self.svc.amount(2), _statuses(self.line_stc), self.line_dates, self.line_ref,
            )
        ]  # fmt: skip
        self.svc = self.line_stc = self.line_ref = self.line_dates = None

    def claim(self) -> ClaimAcknowledgment:
        self.close_line()
        if self.stc is None:
            raise X12Error("the claim (2200D) has no STC", self.trn)
        if self.dates is None:
            raise X12Error("the claim (2200D) has no DTP*472 service date", self.trn)
        refs = self.refs or {}
        return ClaimAcknowledgment(
            self.trn.required(2), _statuses(self.stc), self.stc.date(2), self.stc.required(3), self.stc.amount(4),
            self.dates, self.patient, self.provider, refs.get("1K"), refs.get("D9"), self.stc[12] or None,
            tuple(self.lines or ()),
        )  # fmt: skip


def read_277ca_transaction(transaction: TransactionSet) -> HealthCareClaimAcknowledgment:
    bht = payer = receiver = transmission = batch = None
    dates: dict[str, date] = {}
    receiver_statuses: tuple[StatusCode, ...] = ()
    provider: Party | None = None
    patient: Person | None = None
    claims: list[ClaimAcknowledgment] = []
    draft: _ClaimDraft | None = None

    def close_claim() -> None:
        nonlocal draft
        if draft is not None:
            claims.append(draft.claim())
        draft = None

    for loop, segment in walk(transaction, GRAMMAR, "start"):
        if segment.id in ("HL", "TRN") and loop != "2200A":
            close_claim()
        match loop, segment.id:
            case "header", "BHT":
                bht = segment
            case "2100A", "NM1":
                payer = Party(segment.required(3), segment.required(9))
            case "2200A", "TRN":
                transmission = segment.required(2)
            case "2200A", "DTP":
                dates[segment.required(1)] = segment.period(2)[0]
            case "2100B", "NM1":
                receiver = Party(segment.required(3), segment.required(9))
            case "2200B", "TRN":
                batch = segment.required(2)
            case "2200B", "STC":
                receiver_statuses += _statuses(segment)
            case "2100C", "NM1":
                provider = Party(" ".join(p for p in (segment[3], segment[4]) if p), segment.required(9))
            case "2100D", "NM1":
                patient = Person(segment[3], segment[4], segment.required(9))
            case "2200D", "TRN":
                assert patient is not None and provider is not None  # the grammar puts 2100C and 2100D first
                draft = _ClaimDraft(segment, patient, provider)
            case "2200D", "STC" if draft is not None:
                if draft.stc is not None:
                    raise X12Error("a second STC for the claim; the 277CA sends one (with STC10 and STC11)", segment)
                draft.stc = segment
            case "2200D", "REF" if draft is not None:
                draft.refs = {**(draft.refs or {}), segment.required(1): segment.required(2)}
            case "2200D", "DTP" if draft is not None:
                draft.dates = segment.period(2)
            case "2220D", "SVC" if draft is not None:
                draft.close_line()
                draft.svc = segment
            case "2220D", "STC" if draft is not None:
                draft.line_stc = segment
            case "2220D", "REF" if draft is not None and segment[1] == "FJ":
                draft.line_ref = segment.required(2)
            case "2220D", "DTP" if draft is not None:
                draft.line_dates = segment.period(2)
    close_claim()
    required_segment(bht, transaction, "BHT")
    required_segment(transmission, transaction, "2200A TRN (transmission receipt control identifier)")
    required_segment(batch, transaction, "2200B TRN (information receiver trace identifier)")
    for qualifier, name in (("050", "received"), ("009", "processed")):
        required_segment(dates.get(qualifier), transaction, f"2200A DTP*{qualifier} ({name} date)")
    assert bht is not None and payer is not None and receiver is not None
    created_at = datetime.strptime(bht.required(4) + bht.required(5)[:4], "%Y%m%d%H%M")
    return HealthCareClaimAcknowledgment(
        payer, receiver, bht.required(3), created_at, str(transmission), dates["050"], dates["009"], str(batch),
        tuple(claims), receiver_statuses,
    )  # fmt: skip


def read_277ca(text: str) -> tuple[HealthCareClaimAcknowledgment, ...]:
    """Every 277CA of the file; a malformed one raises X12Error naming the segment and line."""
    interchange = read_interchange(text)
    return tuple(read_277ca_transaction(t) for t in transactions_of(interchange, "277", IMPLEMENTATION))


# ---------------------------------------------------------------- writing


def _stc(
    statuses: Sequence[StatusCode], when: date | None, action: str, amount: Decimal | None, message: str | None = None
) -> tuple[str, ...]:
    first, *more = [composite(s.category, s.code, s.entity) for s in statuses]
    extra = (more + ["", ""])[:2]  # STC10 and STC11
    return (
        "STC", first, day_text(when) if when else "", action, "" if amount is None else amount_text(amount),
        *[""] * 5, *extra, text(message, 264) if message else "",
    )  # fmt: skip


def _counts(claims: Sequence[ClaimAcknowledgment], accepted_qty: str, rejected_qty: str) -> list[tuple[str, ...]]:
    accepted = [c for c in claims if c.accepted]
    rejected = [c for c in claims if not c.accepted]
    segments: list[tuple[str, ...]] = []
    if accepted:
        segments.append(("QTY", accepted_qty, str(len(accepted))))
    if rejected:
        segments.append(("QTY", rejected_qty, str(len(rejected))))
    if accepted:
        segments.append(("AMT", "YU", amount_text(sum((c.charge for c in accepted), Decimal(0)))))
    if rejected:
        segments.append(("AMT", "YY", amount_text(sum((c.charge for c in rejected), Decimal(0)))))
    return segments


def _claim(claim: ClaimAcknowledgment) -> list[tuple[str, ...]]:
    segments = [
        ("TRN", "2", text(claim.claim_number)),
        _stc(claim.statuses, claim.status_date, claim.action, claim.charge, claim.message),
    ]
    if claim.payer_claim_number:
        segments.append(("REF", "1K", text(claim.payer_claim_number)))
    if claim.clearinghouse_trace:
        segments.append(("REF", "D9", text(claim.clearinghouse_trace)))
    segments.append(("DTP", "472", *period_elements(*claim.service_dates)))
    for line in claim.lines:
        segments.append(("SVC", composite("HC", line.procedure_code, *line.modifiers), amount_text(line.charge)))
        segments.append(_stc(line.statuses, claim.status_date, REJECT, None))
        if line.line_control_number:
            segments.append(("REF", "FJ", text(line.line_control_number)))
        if line.service_dates:
            segments.append(("DTP", "472", *period_elements(*line.service_dates)))
    return segments


def _body(answer: HealthCareClaimAcknowledgment) -> list[tuple[str, ...]]:
    stamp = answer.created_at
    total = sum((c.charge for c in answer.claims), Decimal(0))
    body: list[tuple[str, ...]] = [
        ("BHT", "0085", "08", text(answer.reference), stamp.strftime("%Y%m%d"), stamp.strftime("%H%M"), "TH"),
        ("HL", "1", "", "20", "1"),
        ("NM1", "PR", "2", text(answer.payer.name, 60), "", "", "", "", "PI", text(answer.payer.id)),
        ("TRN", "1", text(answer.transmission_trace)),
        ("DTP", "050", "D8", day_text(answer.received_on)),
        ("DTP", "009", "D8", day_text(answer.processed_on)),
        ("HL", "2", "1", "21", "1" if answer.claims else "0"),
        ("NM1", "41", "2", text(answer.receiver.name, 60), "", "", "", "", "46", text(answer.receiver.id)),
        ("TRN", "2", text(answer.batch_trace)),
        _stc(answer.receiver_statuses, answer.processed_on, ACCEPT, total),
        *_counts(answer.claims, "90", "AA"),
    ]
    providers: dict[Party, list[ClaimAcknowledgment]] = {}
    for claim in answer.claims:
        providers.setdefault(claim.billing_provider, []).append(claim)
    number = 2
    for provider, claims in providers.items():
        number += 1
        provider_level = number
        body += [
            ("HL", str(provider_level), "2", "19", "1"),
            ("NM1", "85", "2", text(provider.name, 60), "", "", "", "", "XX", text(provider.id)),
            ("TRN", "1", "0"),  # the guide's value when the provider level has no trace of its own
            _stc((StatusCode("A1", "19", "PR"),), None, ACCEPT, sum((c.charge for c in claims), Decimal(0))),
            *_counts(claims, "QA", "QC"),
        ]
        for claim in claims:
            number += 1
            patient = claim.patient
            body += [
                ("HL", str(number), str(provider_level), "PT"),
                ("NM1", "QC", "1", text(patient.last_name, 60), text(patient.first_name, 35), "", "", "", "MI",
                 text(patient.member_id)),
                *_claim(claim),
            ]  # fmt: skip
    return body


def render_277ca(envelope: Envelope, answers: Sequence[HealthCareClaimAcknowledgment]) -> str:
    envelope = replace(envelope, functional_id=FUNCTIONAL_ID, implementation=IMPLEMENTATION)
    return render_interchange(envelope, "277", [_body(a) for a in answers])
