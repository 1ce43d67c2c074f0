"""The 271 Eligibility Benefit Response (005010X279A1): coverage active or inactive (EB01 1 or 6), the plan and
its dates, copay and coinsurance per service type, or why the payer could not answer (AAA)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from app.rules.edi import codes
from app.rules.edi.edi270 import (
    IMPLEMENTATION,
    RESPONSE_FUNCTIONAL_ID,
    demographics,
    member_name,
    source_and_receiver,
)
from app.rules.edi.x12 import (
    Envelope,
    Grammar,
    Party,
    Person,
    Segment,
    TransactionSet,
    X12Error,
    amount_text,
    period_elements,
    read_interchange,
    render_interchange,
    required_segment,
    text,
    transactions_of,
    walk,
)


class CoverageStatus(str, Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    UNKNOWN = "UNKNOWN"  # the payer could not answer (AAA) or said neither


@dataclass(frozen=True)
class DatedQualifier:
    """A DTP of the 271: its qualifier (346 plan begin, 291 plan...) and the dates it gives."""

    qualifier: str
    first: date
    last: date

    @property
    def text(self) -> str:
        return codes.describe(codes.ELIGIBILITY_DATES, self.qualifier)


@dataclass(frozen=True)
class Benefit:
    """One EB segment (loop 2110C) with its dates and messages."""

    code: str  # EB01: 1 active, 6 inactive, A coinsurance, B copay, C deductible...
    service_types: tuple[str, ...] = ()  # EB03 (repeats)
    coverage_level: str = ""  # EB02: IND, FAM...
    insurance_type: str = ""  # EB04: MC Medicaid, C1 commercial, HM HMO...
    plan_description: str = ""  # EB05
    time_period: str = ""  # EB06: 27 visit, 23 calendar year...
    amount: Decimal | None = None  # EB07: the copay or deductible
    percent: Decimal | None = None  # EB08: coinsurance as a fraction (0.2 is 20%)
    authorization_required: str = ""  # EB11: Y, N or U
    in_network: str = ""  # EB12: Y, N, U or W (not applicable)
    dates: tuple[DatedQualifier, ...] = ()
    messages: tuple[str, ...] = ()  # MSG

    @property
    def text(self) -> str:
        return codes.describe(codes.BENEFITS, self.code)

    def covers(self, service_type: str) -> bool:
        return service_type in self.service_types


@dataclass(frozen=True)
class RequestRejection:
    """AAA: the payer could not answer, and what to do about it."""

    loop: str  # 2100A payer, 2100B provider, 2000C/2100C subscriber, 2110C a benefit
    valid_request: bool  # AAA01
    reason: str  # AAA03
    follow_up: str  # AAA04

    @property
    def text(self) -> str:
        follow_up = codes.describe(codes.FOLLOW_UP_ACTIONS, self.follow_up)
        return f"{codes.describe(codes.REQUEST_REJECTIONS, self.reason)} ({follow_up})"


@dataclass(frozen=True)
class EligibilityResponse:
    """One subscriber's answer (2000C and what hangs from it)."""

    reference: str  # BHT03: the 270's
    created_at: datetime
    payer: Party
    provider: Party
    subscriber: Person | None  # None when the payer rejected before naming one
    trace_numbers: tuple[str, ...]  # TRN*2: our 270's TRN02 echoed
    dates: tuple[DatedQualifier, ...] = ()  # 2100C DTP
    benefits: tuple[Benefit, ...] = ()
    rejections: tuple[RequestRejection, ...] = ()
    date_of_birth: date | None = None
    sex: str | None = None
    originator: str = ""  # TRN03 of the echoed trace: the 270's originator

    @property
    def status(self) -> CoverageStatus:
        codes_said = {b.code for b in self.benefits}
        if codes_said & codes.ACTIVE_BENEFITS:
            return CoverageStatus.ACTIVE
        if codes_said & codes.INACTIVE_BENEFITS:
            return CoverageStatus.INACTIVE
        return CoverageStatus.UNKNOWN

    @property
    def plan_name(self) -> str | None:
        return next((b.plan_description for b in self.benefits if b.code in codes.ACTIVE_BENEFITS), None) or None

    @property
    def coverage_period(self) -> tuple[date | None, date | None]:
        """From the plan dates (291, or 346/347), else the eligibility dates (307, or 356/357)."""
        found = {d.qualifier: d for d in self.dates}
        for single, begin, end in (("291", "346", "347"), ("307", "356", "357")):
            if single in found:
                return found[single].first, found[single].last
            if begin in found or end in found:
                return (found[begin].first if begin in found else None), (found[end].last if end in found else None)
        return None, None

    def _cost_sharing(self, code: str, service_type: str) -> Benefit | None:
        """The in-network answer for the service type, else the plan-wide (30) one."""
        for wanted in (service_type, "30"):
            matches = [b for b in self.benefits if b.code == code and b.covers(wanted)]
            preferred = [b for b in matches if b.in_network in ("Y", "W", "")]
            if preferred or matches:
                return (preferred or matches)[0]
        return None

    def copay(self, service_type: str) -> Decimal | None:
        benefit = self._cost_sharing(codes.COPAYMENT, service_type)
        return benefit.amount if benefit else None

    def coinsurance(self, service_type: str) -> Decimal | None:
        benefit = self._cost_sharing(codes.COINSURANCE, service_type)
        return benefit.percent if benefit else None


# ---------------------------------------------------------------- reading

_LEVELS = {"HL*20": "2000A", "HL*21": "2000B", "HL*22": "2000C", "HL*23": "2000C"}
_BENEFIT = {"HSD", "REF", "DTP", "AAA", "MSG"}
GRAMMAR: Grammar = {
    "start": {"BHT": "header"},
    "header": {"HL*20": "2000A"},
    "2000A": {"AAA": "2000A", "NM1": "2100A"},
    "2100A": {"PER": "2100A", "AAA": "2100A", **_LEVELS},
    "2000B": {"NM1": "2100B", **_LEVELS},
    "2100B": {"REF": "2100B", "N3": "2100B", "N4": "2100B", "AAA": "2100B", "PRV": "2100B", **_LEVELS},
    "2000C": {"TRN": "2000C", "NM1": "2100C"},
    "2100C": {
        **{tag: "2100C" for tag in ("REF", "N3", "N4", "AAA", "PRV", "DMG", "INS", "HI", "DTP", "MPI")},
        "EB": "2110C",
        **_LEVELS,
    },
    "2110C": {**{tag: "2110C" for tag in _BENEFIT}, "EB": "2110C", "III": "2115C", "LS": "2120C", **_LEVELS},
    "2115C": {"III": "2115C", "EB": "2110C", "LS": "2120C", **_LEVELS},
    "2120C": {tag: "2120C" for tag in ("NM1", "N3", "N4", "PER", "PRV")} | {"LE": "2110C end"},
    "2110C end": {"EB": "2110C", **_LEVELS},
}


def _rejection(loop: str, aaa: Segment) -> RequestRejection:
    return RequestRejection(loop, aaa.required(1) == "Y", aaa.required(3), aaa.required(4))


def _percent(eb: Segment) -> Decimal | None:
    percent = eb.optional_amount(8)
    if percent is not None and not 0 <= percent <= 1:
        raise X12Error(f"EB08 {eb[8]!r} must be a fraction between 0 and 1", eb)
    return percent


@dataclass
class _Subscriber:
    trace_numbers: list[str]
    originator: str = ""
    subscriber: Person | None = None
    dates: list[DatedQualifier] | None = None
    benefits: list[Benefit] | None = None
    rejections: list[RequestRejection] | None = None
    dob: date | None = None
    sex: str | None = None
    eb: Segment | None = None
    benefit_dates: list[DatedQualifier] | None = None
    messages: list[str] | None = None

    def close_benefit(self) -> None:
        eb = self.eb
        if eb is None:
            return
        benefit = Benefit(
            eb.required(1), eb.repeats(3), eb[2], eb[4], eb[5], eb[6], eb.optional_amount(7), _percent(eb), eb[11],
            eb[12], tuple(self.benefit_dates or ()), tuple(self.messages or ()),
        )  # fmt: skip
        self.benefits = (self.benefits or []) + [benefit]
        self.eb, self.benefit_dates, self.messages = None, None, None


def read_271_transaction(transaction: TransactionSet) -> list[EligibilityResponse]:
    bht: Segment | None = None
    payer = Party("", "")
    provider = Party("", "")
    source_rejections: list[RequestRejection] = []
    answers: list[EligibilityResponse] = []
    current: _Subscriber | None = None

    def close() -> None:
        nonlocal current
        if current is None:
            return
        current.close_benefit()
        assert bht is not None
        answers.append(
            EligibilityResponse(
                bht.required(3), datetime.strptime(bht.required(4) + bht.required(5)[:4], "%Y%m%d%H%M"), payer,
                provider, current.subscriber, tuple(current.trace_numbers), tuple(current.dates or ()),
                tuple(current.benefits or ()), tuple(source_rejections + (current.rejections or [])), current.dob,
                current.sex, current.originator,
            )
        )  # fmt: skip
        current = None

    for loop, segment in walk(transaction, GRAMMAR, "start"):
        if segment.id == "EB" and current is not None:
            current.close_benefit()
        match loop, segment.id:
            case "header", "BHT":
                bht = segment
            case _, "HL":
                close()
                if loop == "2000C":
                    current = _Subscriber([])
            case ("2000A" | "2100A" | "2100B") as where, "AAA":
                source_rejections.append(_rejection(where, segment))
            case "2100A", "NM1":
                payer = Party(segment.required(3), segment.required(9))
            case "2100B", "NM1":
                provider = Party(" ".join(p for p in (segment[3], segment[4]) if p), segment[9])
            case "2000C", "TRN" if current is not None and segment[1] == "2":
                current.trace_numbers.append(segment.required(2))
                current.originator = segment[3]
            case "2100C", "NM1" if current is not None:
                current.subscriber = Person(segment[3], segment[4], segment[9])
            case "2100C", "AAA" if current is not None:
                current.rejections = (current.rejections or []) + [_rejection("2100C", segment)]
            case "2100C", "DMG" if current is not None:
                current.dob, current.sex = segment.optional_date(2), segment[3] or None
            case "2100C", "DTP" if current is not None:
                current.dates = (current.dates or []) + [DatedQualifier(segment.required(1), *segment.period(2))]
            case "2110C", "EB" if current is not None:
                current.eb = segment
            case "2110C", "DTP" if current is not None:
                dated = DatedQualifier(segment.required(1), *segment.period(2))
                current.benefit_dates = (current.benefit_dates or []) + [dated]
            case "2110C", "MSG" if current is not None:
                current.messages = (current.messages or []) + [segment.required(1)]
            case "2110C", "AAA" if current is not None:
                current.rejections = (current.rejections or []) + [_rejection("2110C", segment)]
    close()
    required_segment(bht, transaction, "BHT")
    if not answers:
        if not source_rejections:
            raise X12Error("the 271 answers no subscriber and says why nowhere (no AAA)", transaction.trailer)
        assert bht is not None
        stamp = datetime.strptime(bht.required(4) + bht.required(5)[:4], "%Y%m%d%H%M")
        answers.append(EligibilityResponse(bht.required(3), stamp, payer, provider, None, (), (), (), tuple(source_rejections)))  # fmt: skip
    return answers


def read_271(text: str) -> tuple[EligibilityResponse, ...]:
    """One answer per subscriber of the file; a malformed file raises X12Error naming the segment and line."""
    interchange = read_interchange(text)
    return tuple(a for t in transactions_of(interchange, "271", IMPLEMENTATION) for a in read_271_transaction(t))


# ---------------------------------------------------------------- writing


def _dtp(dated: DatedQualifier) -> tuple[str, ...]:
    return ("DTP", dated.qualifier, *period_elements(dated.first, dated.last))


def _benefit(benefit: Benefit) -> list[tuple[str, ...]]:
    """One EB (with its dates and messages) per service type: the same answer as one EB with EB03 repeated, in
    the form every reader takes."""
    amount = "" if benefit.amount is None else amount_text(benefit.amount)
    percent = "" if benefit.percent is None else format(benefit.percent.normalize(), "f")
    segments: list[tuple[str, ...]] = []
    for service_type in benefit.service_types or ("",):
        segments += [
            (
                "EB", benefit.code, benefit.coverage_level, service_type, benefit.insurance_type,
                text(benefit.plan_description, 50), benefit.time_period, amount, percent, "", "",
                benefit.authorization_required, benefit.in_network,
            ),
            *[_dtp(d) for d in benefit.dates],
            *[("MSG", text(m, 264)) for m in benefit.messages],
        ]  # fmt: skip
    return segments


def _body(answer: EligibilityResponse) -> list[tuple[str, ...]]:
    stamp = answer.created_at
    body: list[tuple[str, ...]] = [
        ("BHT", "0022", "11", text(answer.reference), stamp.strftime("%Y%m%d"), stamp.strftime("%H%M")),
        *source_and_receiver(answer.payer, answer.provider),
        ("HL", "3", "2", "22", "0"),
        *[("TRN", "2", text(t), text(answer.originator)) for t in answer.trace_numbers],
    ]
    if answer.subscriber is not None:
        body.append(member_name(answer.subscriber))
    body += [
        ("AAA", "Y" if r.valid_request else "N", "", r.reason, r.follow_up) for r in answer.rejections
    ]  # 2100C order: NM1, AAA, DMG, DTP
    body += demographics(answer.date_of_birth, answer.sex)
    body += [_dtp(d) for d in answer.dates]
    for benefit in answer.benefits:
        body += _benefit(benefit)
    return body


def render_271(envelope: Envelope, answers: Sequence[EligibilityResponse]) -> str:
    """A 271 interchange, one transaction set per subscriber's answer. A rejection is written at the subscriber
    level (2100C AAA), where the payer found the inquiry but not the member."""
    for answer in answers:
        if answer.subscriber is None:
            raise ValueError("a written 271 names the subscriber it answers for")
        if not answer.benefits and not answer.rejections:
            raise ValueError("a 271 answers with a benefit (EB) or says why it cannot (AAA)")
    envelope = replace(envelope, functional_id=RESPONSE_FUNCTIONAL_ID, implementation=IMPLEMENTATION)
    return render_interchange(envelope, "271", [_body(a) for a in answers])
