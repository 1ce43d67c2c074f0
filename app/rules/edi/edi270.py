"""The 270 Eligibility Benefit Inquiry (005010X279A1): is this member covered on this day, and for which
service types (MH mental health, AI substance abuse...). Written for a member and a date; read by the payer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from app.errors import BadInput
from app.rules.edi.x12 import (
    Envelope,
    Grammar,
    Party,
    Person,
    Segment,
    TransactionSet,
    X12Error,
    day_text,
    read_interchange,
    render_interchange,
    required_segment,
    text,
    transactions_of,
    walk,
)

IMPLEMENTATION = "005010X279A1"
INQUIRY_FUNCTIONAL_ID, RESPONSE_FUNCTIONAL_ID = "HS", "HB"
GENERAL_COVERAGE = "30"
SERVICE_TYPE = re.compile(
    r"[A-Z0-9]{1,2}"
)  # Health Benefit Plan Coverage: what a payer must answer whatever else it knows


@dataclass(frozen=True)
class EligibilityInquiry:
    """One member's question: covered on `service_date`, and what for each service type?"""

    reference: str  # BHT03, echoed in the 271's BHT03
    created_at: datetime  # BHT04/05
    payer: Party  # 2100A NM1*PR, PI
    provider: Party  # 2100B NM1*1P, XX: the NPI
    subscriber: Person  # 2100C NM1*IL, MI
    trace_number: str  # 2000C TRN02: the 271 echoes it, which is how an answer finds its question
    originator: str  # TRN03: "1" and the provider's EIN, or "9" and nine characters of its own choosing
    service_date: date  # DTP*291
    service_types: tuple[str, ...] = (GENERAL_COVERAGE,)  # one EQ each
    date_of_birth: date | None = None  # DMG
    sex: str | None = None  # M or F


def inquiry_problems(inquiry: EligibilityInquiry) -> list[str]:
    """What the guide would refuse in an inquiry before it is written."""
    problems = []
    if not inquiry.service_types or len(inquiry.service_types) > 99:
        problems.append("an inquiry asks about 1 to 99 service types")
    problems += [f"{c!r} is not a service type code" for c in inquiry.service_types if not SERVICE_TYPE.fullmatch(c)]
    if len(inquiry.originator) != 10 or inquiry.originator[0] not in "19":
        problems.append("TRN03 is ten characters: 1 and an EIN, or 9 and nine of the originator's own")
    if not inquiry.subscriber.member_id.strip():
        problems.append("the member id is required")
    return problems


# ---------------------------------------------------------------- reading

GRAMMAR: Grammar = {
    "start": {"BHT": "header"},
    "header": {"HL*20": "2000A"},
    "2000A": {"NM1": "2100A"},
    "2100A": {"HL*21": "2000B"},
    "2000B": {"NM1": "2100B"},
    "2100B": {"REF": "2100B", "N3": "2100B", "N4": "2100B", "PRV": "2100B", "HL*22": "2000C"},
    "2000C": {"TRN": "2000C", "NM1": "2100C"},
    "2100C": {
        **{tag: "2100C" for tag in ("REF", "N3", "N4", "PRV", "DMG", "INS", "HI", "DTP")},
        "EQ": "2110C",
        "HL*22": "2000C",
        "HL*23": "2000C",
    },
    "2110C": {
        **{tag: "2110C" for tag in ("AMT", "III", "REF", "DTP", "EQ")},
        "HL*22": "2000C",
        "HL*23": "2000C",
        "HL*21": "2000B",
        "HL*20": "2000A",
    },
}


@dataclass
class _Draft:
    payer: Party
    provider: Party
    trn: Segment | None = None
    subscriber: Person | None = None
    dob: date | None = None
    sex: str | None = None
    service_date: date | None = None
    service_types: list[str] | None = None


def read_270_transaction(transaction: TransactionSet) -> list[EligibilityInquiry]:
    bht: Segment | None = None
    payer = provider = None
    inquiries: list[EligibilityInquiry] = []
    draft: _Draft | None = None

    def close() -> None:
        nonlocal draft
        if draft is None:
            return
        if draft.trn is None or draft.subscriber is None or draft.service_date is None:
            raise X12Error("the subscriber level needs TRN, NM1*IL and DTP*291", transaction.trailer)
        assert bht is not None
        inquiries.append(
            EligibilityInquiry(
                bht.required(3), datetime.strptime(bht.required(4) + bht.required(5)[:4], "%Y%m%d%H%M"), draft.payer,
                draft.provider, draft.subscriber, draft.trn.required(2), draft.trn.required(3), draft.service_date,
                tuple(draft.service_types or (GENERAL_COVERAGE,)), draft.dob, draft.sex,
            )
        )  # fmt: skip
        draft = None

    for loop, segment in walk(transaction, GRAMMAR, "start"):
        match loop, segment.id:
            case "header", "BHT":
                bht = segment
            case "2100A", "NM1":
                payer = Party(segment.required(3), segment.required(9))
            case "2100B", "NM1":
                provider = Party(" ".join(p for p in (segment[3], segment[4]) if p), segment.required(9))
            case "2000C", "HL":
                close()
                assert payer is not None and provider is not None
                draft = _Draft(payer, provider)
            case "2000C", "TRN" if draft is not None:
                draft.trn = segment
            case "2100C", "NM1" if draft is not None:
                draft.subscriber = Person(segment[3], segment[4], segment.required(9))
            case "2100C", "DMG" if draft is not None:
                draft.dob, draft.sex = segment.optional_date(2), segment[3] or None
            case "2100C", "DTP" if draft is not None and segment[1] == "291":
                draft.service_date = segment.period(2)[0]
            case "2110C", "EQ" if draft is not None:
                draft.service_types = (draft.service_types or []) + list(segment.repeats(1))
            case _, "HL":
                close()
    close()
    required_segment(bht, transaction, "BHT")
    return inquiries


def read_270(text: str) -> tuple[EligibilityInquiry, ...]:
    interchange = read_interchange(text)
    return tuple(i for t in transactions_of(interchange, "270", IMPLEMENTATION) for i in read_270_transaction(t))


# ---------------------------------------------------------------- writing


def source_and_receiver(payer: Party, provider: Party) -> list[tuple[str, ...]]:
    """2000A/2100A and 2000B/2100B, the same in the 270 and the 271."""
    return [
        ("HL", "1", "", "20", "1"),
        ("NM1", "PR", "2", text(payer.name, 60), "", "", "", "", "PI", text(payer.id)),
        ("HL", "2", "1", "21", "1"),
        ("NM1", "1P", "2", text(provider.name, 60), "", "", "", "", "XX", text(provider.id)),
    ]


def member_name(member: Person) -> tuple[str, ...]:
    return (
        "NM1", "IL", "1", text(member.last_name, 60), text(member.first_name, 35), "", "", "", "MI",
        text(member.member_id),
    )  # fmt: skip


def demographics(date_of_birth: date | None, sex: str | None) -> list[tuple[str, ...]]:
    if date_of_birth is None:
        return []
    return [("DMG", "D8", day_text(date_of_birth), sex if sex in ("M", "F") else "")]


def _body(inquiry: EligibilityInquiry) -> list[tuple[str, ...]]:
    stamp = inquiry.created_at
    return [
        ("BHT", "0022", "13", text(inquiry.reference), stamp.strftime("%Y%m%d"), stamp.strftime("%H%M")),
        *source_and_receiver(inquiry.payer, inquiry.provider),
        ("HL", "3", "2", "22", "0"),
        ("TRN", "1", text(inquiry.trace_number), text(inquiry.originator)),
        member_name(inquiry.subscriber),
        *demographics(inquiry.date_of_birth, inquiry.sex),
        ("DTP", "291", "D8", day_text(inquiry.service_date)),
        *[("EQ", code) for code in inquiry.service_types],
    ]


def render_270(envelope: Envelope, inquiries: Sequence[EligibilityInquiry]) -> str:
    """A 270 interchange, one transaction set per member's inquiry; an inquiry the guide refuses raises BadInput."""
    for inquiry in inquiries:
        if problems := inquiry_problems(inquiry):
            raise BadInput("; ".join(problems), trace_number=inquiry.trace_number)
    envelope = replace(envelope, functional_id=INQUIRY_FUNCTIONAL_ID, implementation=IMPLEMENTATION)
    return render_interchange(envelope, "270", [_body(i) for i in inquiries])
