"""A clearinghouse's front end, read into checks: what an 837P (005010X222A1) must say beyond its syntax.

pyx12 reads a file's syntax and the guide's segment usage; a clearinghouse's front end also reads its
content: the guide's situational rules ("required when ...") and the edits of the payers' companion
guides. Each check here names its source, the guide's loop and segment, or the companion-guide edit it
stands for, and its level: REJECT (the claim comes back on the 277CA, or the file on the 999) or WARN
(payers question it). `app.rules.edi837.front_end_findings` runs them with the renderer's own checks.

The file is read as segments (lists of elements, element 0 the segment id); loops are told apart by
their HL level and the NM1 that opens them, as the guide defines them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from app.rules.diagnoses import billable_code_problem
from app.rules.reference import CLAIM_FILING_INDICATORS, TAXONOMY, npi_is_valid

GUIDE = "005010X222A1"


class Level(StrEnum):
    REJECT = "REJECT"
    WARN = "WARN"


@dataclass(frozen=True)
class Finding:
    check: str  # the check's name (CHECKS)
    level: Level
    source: str  # the guide's loop and segment, or the named companion-guide edit
    message: str
    claim: str | None = None  # CLM01 of the claim it is about

    def __str__(self) -> str:
        about = f"claim {self.claim}: " if self.claim else ""
        return f"{about}{self.message} [{self.check}; {self.source}]"


Segments = list[list[str]]


@dataclass
class Loop:
    """Segments of one loop: the NM1 (or HL) that opens it and those that follow until the next one."""

    opener: list[str]
    segments: Segments = field(default_factory=list)

    def first(self, tag: str, qualifier: str | None = None) -> list[str] | None:
        return next(
            (s for s in self.segments if s[0] == tag and (qualifier is None or _element(s, 1) == qualifier)), None
        )


@dataclass
class ClaimView:
    """One claim with the loops above it: its billing provider (2000A/2010AA), subscriber (2000B/2010BA),
    payer (2010BB), the claim (2300) and its providers (2310x), and its lines (2400)."""

    billing: dict[str, Loop]  # "2000A", "2010AA" (NM1*85), "2010AB" (NM1*87)
    subscriber: dict[str, Loop]  # "2000B" (SBR), "2010BA" (NM1*IL), "2010BB" (NM1*PR)
    claim: Loop  # CLM and the 2300 segments before the first NM1 or LX
    providers: dict[str, Loop]  # "82" rendering (2310B), "DQ" supervising (2310D), ...
    lines: list[Loop]

    @property
    def number(self) -> str:
        return _element(self.claim.opener, 1)


@dataclass(frozen=True)
class FileView:
    segments: Segments
    component: str
    claims: list[ClaimView]

    @property
    def created(self) -> date | None:
        gs = next((s for s in self.segments if s[0] == "GS"), None)
        return _date(_element(gs, 4)) if gs else None


def _element(segment: Sequence[str] | None, position: int) -> str:
    if segment is None:
        return ""
    return segment[position] if len(segment) > position else ""


def _date(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


_BILLING_LOOPS = {"85": "2010AA", "87": "2010AB"}
_SUBSCRIBER_LOOPS = {"IL": "2010BA", "PR": "2010BB"}


def read_file(segments: Segments, component: str) -> FileView:
    """The file's claims, each with the loops it sits under."""
    claims: list[ClaimView] = []
    billing: dict[str, Loop] = {}
    subscriber: dict[str, Loop] = {}
    current: Loop | None = None  # where the next plain segment goes
    view: ClaimView | None = None
    for segment in segments:
        tag = segment[0]
        if tag in ("SE", "GE", "IEA", "ISA", "GS", "ST", "BHT"):
            current, view = None, None
        elif tag == "HL":
            view = None
            level = _element(segment, 3)
            if level == "20":
                billing = {"2000A": Loop(segment)}
                current = billing["2000A"]
            elif level == "22":
                subscriber = {"2000B": Loop(segment)}
                current = subscriber["2000B"]
            else:  # 2000C: we never write one (the subscriber is the patient)
                current = Loop(segment)
        elif tag == "CLM":
            view = ClaimView(billing, subscriber, Loop(segment), {}, [])
            claims.append(view)
            current = view.claim
        elif tag == "LX" and view is not None:
            current = Loop(segment)
            view.lines.append(current)
        elif tag == "NM1" and view is not None and not view.lines:
            current = Loop(segment)
            view.providers[_element(segment, 1)] = current
        elif tag == "NM1" and view is None and _element(segment, 1) in _BILLING_LOOPS and "2000A" in billing:
            current = Loop(segment)
            billing[_BILLING_LOOPS[_element(segment, 1)]] = current
        elif tag == "NM1" and view is None and _element(segment, 1) in _SUBSCRIBER_LOOPS and "2000B" in subscriber:
            current = Loop(segment)
            subscriber[_SUBSCRIBER_LOOPS[_element(segment, 1)]] = current
        elif current is not None:
            current.segments.append(segment)
    return FileView(segments, component, claims)


# ---------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    source: str
    run: Callable[[FileView], Iterator[tuple[str | None, str]]]  # (CLM01 or None, message) per finding


CHECKS: list[Check] = []


def check(name: str, level: Level, source: str):
    def register(run: Callable[[FileView], Iterator[tuple[str | None, str]]]):
        CHECKS.append(Check(name, level, source, run))
        return run

    return register


ZIP_PLUS_FOUR = re.compile(r"^\d{9}$")
PO_BOX = re.compile(r"\b(P\.?\s*O\.?\s*BOX|POST\s+OFFICE\s+BOX|LOCK\s*BOX|POB)\b", re.IGNORECASE)
EIN = re.compile(r"^\d{9}$")
# Our own patient control numbers (CLM01): what REF*F8 must never carry.
OUR_CLAIM_NUMBER = re.compile(r"^GS[0-9A-F]{6,12}$")
SUBSCRIBER_IS_PATIENT = "18"


@check(
    "BILLING_PROVIDER_ZIP_PLUS_FOUR",
    Level.REJECT,
    f"{GUIDE} 2010AA N403: the billing provider's full nine-digit ZIP code is required",
)
def _billing_zip(file: FileView):
    for claim in file.claims:
        loop = claim.billing.get("2010AA")
        n4 = loop.first("N4") if loop else None
        if n4 is not None and not ZIP_PLUS_FOUR.match(_element(n4, 3)):
            yield claim.number, f"2010AA N403 {_element(n4, 3)!r} is not a nine-digit ZIP code (ZIP+4)"


@check(
    "BILLING_PROVIDER_STREET_ADDRESS",
    Level.REJECT,
    f"{GUIDE} 2010AA N3: the billing provider address must be a street address; a post office or lock box "
    "goes in the pay-to address (2010AB)",
)
def _billing_street(file: FileView):
    for claim in file.claims:
        loop = claim.billing.get("2010AA")
        n3 = loop.first("N3") if loop else None
        if loop is None or n3 is None or loop.first("N4") is None:
            yield claim.number, "2010AA has no N3/N4 (the billing provider's address is required)"
        elif PO_BOX.search(_element(n3, 1)) or PO_BOX.search(_element(n3, 2)):
            yield claim.number, f"2010AA N301 {_element(n3, 1)!r} is a post office box"


@check("BILLING_PROVIDER_EIN", Level.REJECT, f"{GUIDE} 2010AA REF*EI: the billing provider's nine-digit EIN")
def _billing_ein(file: FileView):
    for claim in file.claims:
        loop = claim.billing.get("2010AA")
        ref = loop.first("REF", "EI") or loop.first("REF", "SY") if loop else None
        if ref is None:
            yield claim.number, "2010AA has no REF*EI (the billing provider's tax id is required)"
        elif _element(ref, 1) == "EI" and not EIN.match(_element(ref, 2)):
            yield claim.number, f"2010AA REF*EI {_element(ref, 2)!r} is not nine digits"


@check("PROVIDER_TAXONOMY_FORM", Level.REJECT, f"{GUIDE} 2000A PRV*BI and 2310B PRV*PE PRV03 (code source 682)")
def _taxonomy(file: FileView):
    for claim in file.claims:
        prvs = [("2000A", s) for s in claim.billing["2000A"].segments if s[0] == "PRV"] if claim.billing else []
        rendering = claim.providers.get("82")
        prvs += [("2310B", s) for s in (rendering.segments if rendering else []) if s[0] == "PRV"]
        for loop, prv in prvs:
            expected = "BI" if loop == "2000A" else "PE"
            if _element(prv, 1) != expected or _element(prv, 2) != "PXC":
                yield claim.number, f"{loop} PRV must be PRV*{expected}*PXC, not PRV*{_element(prv, 1)}"
            if not TAXONOMY.match(_element(prv, 3)):
                yield claim.number, f"{loop} PRV03 {_element(prv, 3)!r} is not a provider taxonomy code"


@check(
    "RENDERING_PROVIDER_REQUIRED",
    Level.REJECT,
    f"{GUIDE} 2310B NM1*82: required when the rendering provider is not the billing provider; an organization "
    "(2010AA NM102 = 2) renders no service, so a group's claim names the clinician",
)
def _rendering_required(file: FileView):
    for claim in file.claims:
        provider = claim.billing.get("2010AA")
        if provider is not None and _element(provider.opener, 2) == "2" and "82" not in claim.providers:
            yield (
                claim.number,
                "the billing provider is an organization and 2310B NM1*82 (rendering provider) is missing",
            )


def _person_provider(claim: ClaimView, qualifier: str, loop: str) -> Iterator[tuple[str | None, str]]:
    nm1 = claim.providers.get(qualifier)
    if nm1 is None:
        return
    segment = nm1.opener
    if _element(segment, 2) != "1":
        yield claim.number, f"{loop} NM1*{qualifier} NM102 must be 1 (a person)"
    if not _element(segment, 3) or not _element(segment, 4):
        yield claim.number, f"{loop} NM1*{qualifier} needs the clinician's last and first name"
    if _element(segment, 8) != "XX" or not npi_is_valid(_element(segment, 9)):
        yield claim.number, f"{loop} NM1*{qualifier} needs the clinician's NPI (NM108 XX, a valid NM109)"


@check("RENDERING_PROVIDER_PERSON", Level.REJECT, f"{GUIDE} 2310B NM1*82: NM102 1, the name, NM108 XX and the NPI")
def _rendering_person(file: FileView):
    for claim in file.claims:
        yield from _person_provider(claim, "82", "2310B")


@check("SUPERVISING_PROVIDER_PERSON", Level.REJECT, f"{GUIDE} 2310D NM1*DQ: NM102 1, the name, NM108 XX and the NPI")
def _supervising_person(file: FileView):
    for claim in file.claims:
        yield from _person_provider(claim, "DQ", "2310D")
        rendering = claim.providers.get("82")
        supervising = claim.providers.get("DQ")
        if rendering and supervising and _element(rendering.opener, 9) == _element(supervising.opener, 9):
            yield claim.number, "2310D names the rendering clinician as their own supervisor"


@check(
    "SUBSCRIBER_ADDRESS_REQUIRED",
    Level.REJECT,
    f"{GUIDE} 2010BA N3/N4: required when the patient is the subscriber (SBR02 = 18)",
)
def _subscriber_address(file: FileView):
    for claim in file.claims:
        sbr = claim.subscriber.get("2000B")
        loop = claim.subscriber.get("2010BA")
        if sbr is None or _element(sbr.first("SBR"), 2) != SUBSCRIBER_IS_PATIENT or loop is None:
            continue
        n3, n4 = loop.first("N3"), loop.first("N4")
        if n3 is None or n4 is None or not _element(n3, 1) or not _element(n4, 3):
            yield claim.number, "the subscriber is the patient and 2010BA has no N3/N4 address"


@check(
    "SUBSCRIBER_DEMOGRAPHICS_REQUIRED",
    Level.REJECT,
    f"{GUIDE} 2010BA DMG: required when the patient is the subscriber (SBR02 = 18)",
)
def _subscriber_demographics(file: FileView):
    for claim in file.claims:
        sbr = claim.subscriber.get("2000B")
        loop = claim.subscriber.get("2010BA")
        if sbr is None or _element(sbr.first("SBR"), 2) != SUBSCRIBER_IS_PATIENT or loop is None:
            continue
        if loop.first("DMG") is None:
            yield claim.number, "the subscriber is the patient and 2010BA has no DMG (birth date and sex)"


@check("SUBSCRIBER_FIRST_NAME", Level.WARN, f"{GUIDE} 2010BA NM104: required when NM102 = 1 and the person has one")
def _subscriber_first_name(file: FileView):
    for claim in file.claims:
        loop = claim.subscriber.get("2010BA")
        if loop is not None and _element(loop.opener, 2) == "1" and not _element(loop.opener, 4):
            yield claim.number, "2010BA NM104 (the subscriber's first name) is empty"


FILING_INDICATORS = frozenset(CLAIM_FILING_INDICATORS)  # 005010X222A1 2000B SBR09


@check("CLAIM_FILING_INDICATOR", Level.REJECT, f"{GUIDE} 2000B SBR09: a claim filing indicator of the guide's list")
def _filing_indicator(file: FileView):
    for claim in file.claims:
        sbr = claim.subscriber.get("2000B")
        value = _element(sbr.first("SBR"), 9) if sbr else ""
        if value not in FILING_INDICATORS:
            yield claim.number, f"SBR09 {value!r} is not a claim filing indicator"


@check(
    "PAYER_CLAIM_CONTROL_NUMBER",
    Level.REJECT,
    f"{GUIDE} 2300 REF*F8 (payer claim control number): on a replacement or void, the payer's own number for "
    "the claim corrected (its ICN/DCN from the 277CA or 835), never our CLM01",
)
def _payer_claim_number(file: FileView):
    ours = {claim.number for claim in file.claims}
    for claim in file.claims:
        ref = claim.claim.first("REF", "F8")
        value = _element(ref, 2)
        if ref is not None and (value in ours or OUR_CLAIM_NUMBER.match(value)):
            yield claim.number, f"REF*F8 {value!r} is our own patient control number, not the payer's claim number"


@check(
    "DUPLICATE_PATIENT_CONTROL_NUMBER",
    Level.REJECT,
    "Companion-guide edit: a patient control number (CLM01) appears once in a file",
)
def _duplicate_claim_numbers(file: FileView):
    seen: set[str] = set()
    for claim in file.claims:
        if claim.number in seen:
            yield claim.number, "CLM01 is used by another claim of the same file"
        seen.add(claim.number)


@check(
    "ICD10CM_BILLABLE",
    Level.REJECT,
    f"{GUIDE} 2300 HI (code source 897, ICD-10-CM): billable (leaf) codes of the code set",
)
def _diagnoses(file: FileView):
    for claim in file.claims:
        for hi in (s for s in claim.claim.segments if s[0] == "HI"):
            codes = [e.split(file.component) for e in hi[1:] if e]
            for parts in codes:
                if len(parts) > 1:
                    problem = billable_code_problem(parts[1])
                    if problem:
                        yield claim.number, f"HI {parts[0]}:{parts[1]}: {problem}"


@check("DUPLICATE_DIAGNOSIS", Level.WARN, "Companion-guide edit: a diagnosis code is listed once in HI")
def _duplicate_diagnoses(file: FileView):
    for claim in file.claims:
        for hi in (s for s in claim.claim.segments if s[0] == "HI"):
            codes = [e.split(file.component)[-1] for e in hi[1:] if e]
            if len(codes) != len(set(codes)):
                yield claim.number, "HI lists a diagnosis code twice"


@check(
    "SERVICE_DATE_NOT_FUTURE", Level.REJECT, "Companion-guide edit: a date of service (DTP*472) after the file's date"
)
def _future_service(file: FileView):
    created = file.created
    for claim in file.claims:
        for line in claim.lines:
            dtp = line.first("DTP", "472")
            day = _date(_element(dtp, 3)) if dtp else None
            if dtp is None or day is None:
                yield claim.number, f"line {_element(line.opener, 1)}: DTP*472 (the date of service) is missing"
            elif created is not None and day > created:
                yield claim.number, f"line {_element(line.opener, 1)}: the date of service {day} is after the file's"


@check(
    "BIRTH_BEFORE_SERVICE", Level.REJECT, "Companion-guide edit: the patient's birth date (DMG02) before the service"
)
def _birth_before_service(file: FileView):
    for claim in file.claims:
        loop = claim.subscriber.get("2010BA")
        dmg = loop.first("DMG") if loop else None
        born = _date(_element(dmg, 2)) if dmg else None
        days = [_date(_element(line.first("DTP", "472"), 3)) for line in claim.lines]
        if born is not None and any(day is not None and day < born for day in days):
            yield claim.number, "the date of service is before the patient's birth date"


@check("SERVICE_UNITS", Level.REJECT, f"{GUIDE} 2400 SV104: service units, more than zero")
def _units(file: FileView):
    for claim in file.claims:
        for line in claim.lines:
            sv1 = line.first("SV1")
            try:
                units = float(_element(sv1, 4))
            except ValueError:
                units = 0
            if units <= 0:
                yield claim.number, f"line {_element(line.opener, 1)}: SV104 units must be more than zero"


@check(
    "SUBMITTER_ID_NOT_TAX_ID",
    Level.WARN,
    "Companion-guide edit: ISA06, GS02 and 1000A NM109 carry the submitter id the clearinghouse assigned, not "
    "the billing provider's tax id",
)
def _submitter_id(file: FileView):
    isa = file.segments[0] if file.segments else []
    sender = _element(isa, 6).strip()
    for claim in file.claims[:1]:
        loop = claim.billing.get("2010AA")
        ein = _element(loop.first("REF", "EI") if loop else None, 2)
        if ein and sender.replace("-", "") == ein:
            yield None, f"ISA06 {sender!r} is the billing provider's tax id, not a clearinghouse submitter id"


NAMES = frozenset(each.name for each in CHECKS)


def findings(segments: Segments, component: str) -> list[Finding]:
    """Every check's findings, in the order of CHECKS."""
    file = read_file(segments, component)
    return [
        Finding(each.name, each.level, each.source, message, claim)
        for each in CHECKS
        for claim, message in each.run(file)
    ]
