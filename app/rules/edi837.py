"""X12 837P (005010X222A1) for one member's claim: a pure renderer and the checks pyx12 does not make."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from app.rules import edi837_frontend as frontend
from app.rules.claims import ClaimFrequency
from app.rules.edi837_frontend import Finding, Level
from app.rules.reference import CLAIM_FILING_INDICATORS, npi_is_valid  # noqa: F401 - the writer's codes

SEGMENT = "~"
ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
VERSION = "005010X222A1"

ORIGINAL, REPLACEMENT, VOID = "1", "7", "8"
FREQUENCY_CODES = {
    ClaimFrequency.ORIGINAL: ORIGINAL,
    ClaimFrequency.REPLACEMENT: REPLACEMENT,
    ClaimFrequency.VOID: VOID,
}
CORRECTIONS = frozenset({REPLACEMENT, VOID})

# Place of service: 11 (office) fits an outpatient clinic and is the default; 53 (community
# mental health center) is for facilities certified as a CMHC; 02 and 10 are telehealth (the
# patient elsewhere, the patient at home). Nothing else is a group-therapy room.
OFFICE, COMMUNITY_MENTAL_HEALTH_CENTER = "11", "53"
TELEHEALTH_ELSEWHERE, TELEHEALTH_HOME = "02", "10"
PLACES_OF_SERVICE = frozenset({OFFICE, COMMUNITY_MENTAL_HEALTH_CENTER, TELEHEALTH_ELSEWHERE, TELEHEALTH_HOME})

# HI01's qualifier names the principal diagnosis, the rest are other diagnoses (ICD-10-CM).
PRINCIPAL_DIAGNOSIS, OTHER_DIAGNOSIS = "ABK", "ABF"


@dataclass(frozen=True)
class Submitter:
    id: str  # ISA06, GS02 and the 1000A NM109: up to 15 characters
    name: str
    contact_name: str
    contact_phone: str  # any format: only its digits are sent


@dataclass(frozen=True)
class Receiver:
    id: str  # ISA08, GS03 and the 1000B NM109: up to 15 characters
    name: str


@dataclass(frozen=True)
class Address:
    line: str
    city: str
    state: str
    zip: str  # 5 or 9 digits; the guide wants 9 for the billing provider


@dataclass(frozen=True)
class BillingProvider:
    name: str
    npi: str
    tax_id: str
    address: Address
    taxonomy: str | None = None  # 2000A PRV when given


@dataclass(frozen=True)
class Subscriber:
    """The member: always the patient too here, so there is no 2000C patient loop (SBR02 = 18)."""

    last_name: str
    first_name: str
    member_id: str
    date_of_birth: date
    sex: str | None  # M or F; anything else is sent as U (unknown)
    address: Address | None = None


@dataclass(frozen=True)
class PayerParty:
    name: str
    payer_code: str


@dataclass(frozen=True)
class RenderingProvider:
    """2310B: the clinician who ran the session (NM1*82, a person), with PRV*PE when the payer wants it."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str | None = None


@dataclass(frozen=True)
class SupervisingProvider:
    """2310D: the supervisor of a clinician who practises under supervision (NM1*DQ, a person)."""

    last_name: str
    first_name: str
    npi: str


@dataclass(frozen=True)
class ServiceLine:
    procedure_code: str
    modifiers: tuple[str, ...]
    amount: Decimal
    units: int
    service_date: date
    # SV107: which of the claim's diagnoses (1-based, HI order) this line treats; at most four.
    diagnosis_pointers: tuple[int, ...] = (1,)
    place_of_service: str | None = None  # SV105, written only where it differs from CLM05-1


@dataclass(frozen=True)
class Claim837:
    interchange_control_number: int  # 1..999999999; also the group control number
    created_at: datetime  # passed in so rendering never reads the clock
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    subscriber: Subscriber
    payer: PayerParty
    claim_number: str
    service_lines: tuple[ServiceLine, ...]
    frequency_code: str = ORIGINAL
    original_claim_number: str | None = None  # REF*F8, required for 7 and 8
    # The patient's diagnoses active on the service date, principal first (HI01..HI12).
    diagnosis_codes: tuple[str, ...] = ()
    place_of_service: str = OFFICE
    rendering_provider: RenderingProvider | None = None
    supervising_provider: SupervisingProvider | None = None
    claim_filing_indicator: str = "CI"  # SBR09: the payer's claim filing indicator (CLAIM_FILING_INDICATORS)
    prior_authorization: str | None = None  # 2300 REF*G1: the payer's prior authorization number
    production: bool = True  # ISA15 P, or T for test files

    @property
    def total_amount(self) -> Decimal:
        return sum((line.amount for line in self.service_lines), Decimal(0))


# ---------------------------------------------------------------- rendering


# A professional credential after a comma ("Dana Whitfield, LCSW", "Priya Raman, PsyD"): not a first name.
CREDENTIAL = re.compile(r"^(?=(?:[^A-Z]*[A-Z]){2})[A-Za-z.]{2,8}$")


def split_person_name(full_name: str) -> tuple[str, str]:
    """(last, first) from "Last, First" or "First Middle Last"; one word is a last name alone. A credential
    after a comma ("Dana Whitfield, LCSW") is left out: NM103/NM104 carry the name only."""
    head, _, tail = full_name.rpartition(",")
    if " " in head.strip() and CREDENTIAL.match(tail.strip()):
        full_name = head
    if "," in full_name:
        last, _, first = full_name.partition(",")
        return last.strip(), first.strip()
    words = full_name.split()
    if len(words) < 2:
        return full_name.strip(), ""
    return words[-1], " ".join(words[:-1])


def clean(value: str) -> str:
    """Upper-case ASCII with no delimiter or control character in it, so a name can never break the
    file apart (input refuses both in identifiers; rows stored before that are cleaned here)."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    ascii_text = "".join(c for c in ascii_text if c.isprintable() or c.isspace())
    for delimiter in (SEGMENT, ELEMENT, COMPONENT, REPETITION):
        ascii_text = ascii_text.replace(delimiter, " ")
    return " ".join(ascii_text.upper().split())


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def x12_amount(amount: Decimal) -> str:
    """X12 decimal: no exponent, no trailing zeros ("125", "62.5")."""
    text = format(amount.quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _segment(*elements: str) -> str:
    # Trailing empty elements are not allowed in X12, so they are dropped.
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return ELEMENT.join(values) + SEGMENT


def _isa(claim: Claim837) -> str:
    stamp = claim.created_at
    return _segment(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        clean(claim.submitter.id)[:15].ljust(15),
        "ZZ",
        clean(claim.receiver.id)[:15].ljust(15),
        stamp.strftime("%y%m%d"),
        stamp.strftime("%H%M"),
        REPETITION,
        "00501",
        f"{claim.interchange_control_number:09d}",
        "0",
        "P" if claim.production else "T",
        COMPONENT,
    )


def _gs(claim: Claim837) -> str:
    stamp = claim.created_at
    return _segment(
        "GS",
        "HC",
        clean(claim.submitter.id),
        clean(claim.receiver.id),
        stamp.strftime("%Y%m%d"),
        stamp.strftime("%H%M"),
        str(claim.interchange_control_number),
        "X",
        VERSION,
    )


def _header(claim: Claim837) -> list[str]:
    stamp, submitter, receiver = claim.created_at, claim.submitter, claim.receiver
    return [
        _segment("ST", "837", "0001", VERSION),
        _segment(
            "BHT", "0019", "00", clean(claim.claim_number), stamp.strftime("%Y%m%d"), stamp.strftime("%H%M"), "CH"
        ),
        _segment("NM1", "41", "2", clean(submitter.name), "", "", "", "", "46", clean(submitter.id)),
        _segment("PER", "IC", clean(submitter.contact_name), "TE", digits(submitter.contact_phone)),
        _segment("NM1", "40", "2", clean(receiver.name), "", "", "", "", "46", clean(receiver.id)),
    ]


def _address(address: Address) -> list[str]:
    return [
        _segment("N3", clean(address.line)),
        _segment("N4", clean(address.city), clean(address.state), digits(address.zip)),
    ]


def _billing_provider(claim: Claim837, number: int = 1) -> list[str]:
    provider = claim.billing_provider
    segments = [_segment("HL", str(number), "", "20", "1")]
    if provider.taxonomy:
        segments.append(_segment("PRV", "BI", "PXC", clean(provider.taxonomy)))
    segments.append(_segment("NM1", "85", "2", clean(provider.name), "", "", "", "", "XX", provider.npi))
    segments += _address(provider.address)
    segments.append(_segment("REF", "EI", digits(provider.tax_id)))
    return segments


def _subscriber(claim: Claim837, number: int = 2, parent: int = 1) -> list[str]:
    member, payer = claim.subscriber, claim.payer
    segments = [
        _segment("HL", str(number), str(parent), "22", "0"),
        _segment("SBR", "P", "18", "", "", "", "", "", "", claim.claim_filing_indicator),
        _segment(
            "NM1",
            "IL",
            "1",
            clean(member.last_name),
            clean(member.first_name),
            "",
            "",
            "",
            "MI",
            clean(member.member_id),
        ),
    ]
    if member.address is not None:
        segments += _address(member.address)
    sex = member.sex if member.sex in ("M", "F") else "U"  # DMG03 knows no other codes
    segments.append(_segment("DMG", "D8", member.date_of_birth.strftime("%Y%m%d"), sex))
    segments.append(_segment("NM1", "PR", "2", clean(payer.name), "", "", "", "", "PI", clean(payer.payer_code)))
    return segments


def _claim(claim: Claim837) -> list[str]:
    facility_code = COMPONENT.join((claim.place_of_service, "B", claim.frequency_code))
    segments = [
        _segment(
            "CLM", clean(claim.claim_number), x12_amount(claim.total_amount), "", "", facility_code, "Y", "A", "Y", "Y"
        ),
    ]
    if claim.prior_authorization:
        segments.append(_segment("REF", "G1", clean(claim.prior_authorization)))
    if claim.frequency_code in CORRECTIONS and claim.original_claim_number:
        segments.append(_segment("REF", "F8", clean(claim.original_claim_number)))
    if claim.diagnosis_codes:
        segments.append(
            _segment(
                "HI",
                *(
                    f"{PRINCIPAL_DIAGNOSIS if number == 0 else OTHER_DIAGNOSIS}{COMPONENT}{clean(code).replace('.', '')}"
                    for number, code in enumerate(claim.diagnosis_codes[:12])
                ),
            )
        )
    if claim.rendering_provider is not None:  # 2310B
        doctor = claim.rendering_provider
        segments.append(
            _segment("NM1", "82", "1", clean(doctor.last_name), clean(doctor.first_name), "", "", "", "XX", doctor.npi)
        )
        if doctor.taxonomy:
            segments.append(_segment("PRV", "PE", "PXC", clean(doctor.taxonomy)))
    if claim.supervising_provider is not None:  # 2310D
        supervisor = claim.supervising_provider
        segments.append(
            _segment(
                "NM1",
                "DQ",
                "1",
                clean(supervisor.last_name),
                clean(supervisor.first_name),
                "",
                "",
                "",
                "XX",
                supervisor.npi,
            )  # fmt: skip
        )
    return segments


def _service_lines(lines: Sequence[ServiceLine], claim_place_of_service: str) -> list[str]:
    segments: list[str] = []
    for number, line in enumerate(lines, 1):
        modifiers = (clean(m) for m in line.modifiers[:4])  # SV101 has room for four
        procedure = COMPONENT.join(("HC", clean(line.procedure_code), *modifiers))
        place = line.place_of_service if line.place_of_service not in (None, claim_place_of_service) else ""
        segments += [
            _segment("LX", str(number)),
            _segment(
                "SV1",
                procedure,
                x12_amount(line.amount),
                "UN",
                str(line.units),
                place,
                "",
                COMPONENT.join(str(p) for p in line.diagnosis_pointers[:4]),
            ),
            _segment("DTP", "472", "D8", line.service_date.strftime("%Y%m%d")),
        ]
    return segments


def render_837p(claim: Claim837) -> str:
    """The interchange for one claim, one segment per line; counts are computed, never typed in."""
    return render_837p_batch((claim,))


def render_837p_batch(claims: Sequence[Claim837], reference: str | None = None) -> str:
    """One interchange, one functional group and one transaction set holding every claim: a day's batch
    to one payer. The envelope (ISA/GS, 1000A, 1000B, ISA15) is the first claim's, and every claim must
    share it; each billing provider gets one 2000A, each claim its own 2000B under it. `reference` is
    BHT03 (the first claim's number when not given)."""
    if not claims:
        raise ValueError("a batch needs at least one claim")
    first = claims[0]
    for claim in claims[1:]:
        if (claim.submitter.id, claim.receiver.id, claim.production) != (
            first.submitter.id,
            first.receiver.id,
            first.production,
        ):
            raise ValueError("every claim of a batch goes from one submitter to one receiver, in one mode (ISA15)")
    header = _header(first)
    if reference is not None:
        header[1] = _segment(
            "BHT", "0019", "00", clean(reference), first.created_at.strftime("%Y%m%d"),
            first.created_at.strftime("%H%M"), "CH",
        )  # fmt: skip
    transaction = header
    providers: dict[BillingProvider, list[Claim837]] = {}
    for claim in claims:
        providers.setdefault(claim.billing_provider, []).append(claim)
    number = 0
    for provider_claims in providers.values():
        number += 1
        provider_number = number
        transaction += _billing_provider(provider_claims[0], provider_number)
        for claim in provider_claims:
            number += 1
            transaction += (
                _subscriber(claim, number, provider_number)
                + _claim(claim)
                + _service_lines(claim.service_lines, claim.place_of_service)
            )
    transaction.append(_segment("SE", str(len(transaction) + 1), "0001"))  # SE01 counts ST through SE
    control = first.interchange_control_number
    segments = [
        _isa(first),
        _gs(first),
        *transaction,
        _segment("GE", "1", str(control)),  # one transaction set per group
        _segment("IEA", "1", f"{control:09d}"),  # one group per interchange
    ]
    # A line break after each terminator keeps the stored file readable; X12 readers skip it.
    return "\n".join(segments) + "\n"


# ---------------------------------------------------------------- checks pyx12 does not make


def parse_segments(text: str) -> list[list[str]]:
    """Segments as element lists, delimiters read from the ISA as X12 intends."""
    stripped = text.lstrip()
    if not stripped.startswith("ISA") or len(stripped) < 106:
        return []
    element, terminator = stripped[3], stripped[105]
    raw = (s.strip() for s in stripped.split(terminator))
    return [s.split(element) for s in raw if s]


def _component_separator(isa: list[str]) -> str:
    return isa[16][:1] if len(isa) > 16 and isa[16] else COMPONENT


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError):
        return None


def _element(segment: list[str], position: int) -> str:
    return segment[position] if len(segment) > position else ""


def _frequency_problems(claim: list[list[str]], component: str) -> list[str]:
    """CLM05-3 is 1, 7 or 8, and REF*F8 names the original exactly when correcting (7 or 8)."""
    number, parts = _element(claim[0], 1), _element(claim[0], 5).split(component)
    frequency = parts[2] if len(parts) > 2 else ""
    problems: list[str] = []
    if frequency not in (ORIGINAL, REPLACEMENT, VOID):
        problems.append(f"claim {number}: CLM05-3 frequency must be 1, 7 or 8, got {frequency!r}")
    has_f8 = any(s[0] == "REF" and _element(s, 1) == "F8" and _element(s, 2) for s in claim)
    if frequency in CORRECTIONS and not has_f8:
        problems.append(f"claim {number}: frequency {frequency} needs REF*F8 with the original claim")
    if frequency not in CORRECTIONS and has_f8:
        problems.append(f"claim {number}: REF*F8 belongs only on a replacement (7) or void (8)")
    return problems


TELEHEALTH_PLACES = frozenset({TELEHEALTH_ELSEWHERE, TELEHEALTH_HOME})
TELEHEALTH_MODIFIERS = frozenset({"95", "93", "GT", "FQ", "FR"})
AUDIO_ONLY = "93"


def _place_problems(claim: list[list[str]], component: str) -> list[str]:
    """CLM05-1 and any SV105 are a place of service we bill from, and an audio-only line (modifier 93)
    has a telehealth place (02, 10). A telehealth place without a modifier is not flagged: Medicare
    fee-for-service reads telehealth from POS 02/10 and wants no 95 since 2024 (CY 2024 Physician Fee
    Schedule); which modifier a payer wants is its documentation rule's telehealth mapping. (A
    modifier 95 with an in-person place is CMS's own choice for some payers, so it is not flagged.)"""
    number = _element(claim[0], 1)
    claim_place = _element(claim[0], 5).split(component)[0]
    problems: list[str] = []
    for segment in (s for s in claim if s[0] == "SV1"):
        place = _element(segment, 5) or claim_place
        if place not in PLACES_OF_SERVICE:
            problems.append(f"claim {number}: place of service {place!r} is not one we bill")
            continue
        modifiers = set(_element(segment, 1).split(component)[2:])
        if AUDIO_ONLY in modifiers and place not in TELEHEALTH_PLACES:
            problems.append(
                f"claim {number}: audio-only (93) needs a telehealth place of service (02 or 10), not {place}"
            )
    if claim_place not in PLACES_OF_SERVICE:
        problems.append(f"claim {number}: CLM05-1 place of service {claim_place!r} is not one we bill")
    return problems


def _total_problems(claim: list[list[str]]) -> list[str]:
    """CLM02 equals the sum of the SV102 line charges."""
    number = _element(claim[0], 1)
    total = _decimal(_element(claim[0], 2))
    amounts = [_decimal(_element(s, 2)) for s in claim if s[0] == "SV1"]
    if not amounts:
        return [f"claim {number}: no service lines"]
    line_amounts = [a for a in amounts if a is not None]
    if total is None or len(line_amounts) != len(amounts):
        return [f"claim {number}: CLM02 or an SV102 amount is not a number"]
    line_sum = sum(line_amounts, Decimal(0))
    if total != line_sum:
        return [f"claim {number}: CLM02 total {total} differs from the service lines' sum {line_sum}"]
    return []


def _diagnosis_problems(claim: list[list[str]], component: str) -> list[str]:
    """One HI with the diagnoses, and every SV107 pointer names one of them."""
    number = _element(claim[0], 1)
    his = [s for s in claim if s[0] == "HI"]
    if not his:
        return [f"claim {number}: no HI segment (a claim needs a diagnosis)"]
    count = len([e for e in his[0][1:] if e])
    problems: list[str] = []
    for line in (s for s in claim if s[0] == "SV1"):
        pointers = _element(line, 7).split(component) if _element(line, 7) else []
        if not pointers:
            problems.append(f"claim {number}: SV107 has no diagnosis pointer")
        for pointer in pointers:
            if not pointer.isdigit() or not 1 <= int(pointer) <= count:
                problems.append(f"claim {number}: SV107 pointer {pointer!r} names no diagnosis of the HI segment")
    return problems


def _claims(segments: list[list[str]]) -> list[list[list[str]]]:
    """Each CLM with the segments of its claim: up to the next CLM, HL or envelope trailer."""
    claims: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for segment in segments:
        if segment[0] == "CLM":
            current = [segment]
            claims.append(current)
        elif segment[0] in ("HL", "SE", "GE", "IEA"):
            current = None
        elif current is not None:
            current.append(segment)
    return claims


# Elements the 837P requires in the segments rendered here (by position): a name of only emoji or
# zero-width characters cleans to nothing, and an empty NM103 is rejected by payers.
REQUIRED_ELEMENTS = {
    "NM1": (1, 2, 3, 8, 9),
    "N3": (1,),
    "N4": (1, 2, 3),
    "DMG": (1, 2),
    "CLM": (1, 2, 5),
    "REF": (1, 2),
    "SV1": (1, 2),
}


def _required_problems(segments: list[list[str]]) -> list[str]:
    problems = []
    for segment in segments:
        for position in REQUIRED_ELEMENTS.get(segment[0], ()):
            if not _element(segment, position).strip():
                qualifier = f"*{_element(segment, 1)}" if segment[0] in ("NM1", "REF") and position != 1 else ""
                problems.append(
                    f"{segment[0]}{qualifier}: {segment[0]}{position:02d} is empty, and the guide requires it"
                )
    return problems


def _npi_problems(segments: list[list[str]]) -> list[str]:
    return [
        f"NM1*{s[1]}: NPI {_element(s, 9)!r} fails the check digit"
        for s in segments
        if s[0] == "NM1" and _element(s, 8) == "XX" and not npi_is_valid(_element(s, 9))
    ]


def _envelope_problems(segments: list[list[str]]) -> list[str]:
    """SE, GE and IEA counts and control numbers against what the file really holds."""
    problems: list[str] = []
    isa = segments[0]
    groups = transactions = 0
    st_index: int | None = None
    st_control = gs_control = ""
    for index, segment in enumerate(segments):
        tag = segment[0]
        if tag == "GS":
            groups, transactions, gs_control = groups + 1, 0, _element(segment, 6)
        elif tag == "ST":
            transactions, st_index, st_control = transactions + 1, index, _element(segment, 2)
        elif tag == "SE" and st_index is not None:
            real = index - st_index + 1
            if _element(segment, 1) != str(real):
                problems.append(f"SE01 says {_element(segment, 1)} segments; the transaction has {real}")
            if _element(segment, 2) != st_control:
                problems.append(f"SE02 {_element(segment, 2)!r} does not match ST02 {st_control!r}")
            st_index = None
        elif tag == "GE":
            if _element(segment, 1) != str(transactions):
                said = _element(segment, 1)
                problems.append(f"GE01 says {said} transactions; the group has {transactions}")
            if _element(segment, 2) != gs_control:
                problems.append(f"GE02 {_element(segment, 2)!r} does not match GS06 {gs_control!r}")
        elif tag == "IEA":
            if _element(segment, 1) != str(groups):
                problems.append(f"IEA01 says {_element(segment, 1)} groups; the interchange has {groups}")
            if _element(segment, 2) != _element(isa, 13):
                said, isa13 = _element(segment, 2), _element(isa, 13)
                problems.append(f"IEA02 {said!r} does not match ISA13 {isa13!r}")
    tags = [s[0] for s in segments]
    for opener, closer in (("ST", "SE"), ("GS", "GE"), ("ISA", "IEA")):
        if tags.count(opener) != tags.count(closer):
            problems.append(f"{tags.count(opener)} {opener} but {tags.count(closer)} {closer}")
    return problems


# The renderer's own checks, each with the guide's rule it stands for (their findings are rejections).
_OWN_CHECKS = (
    ("CLAIM_FREQUENCY", f"{VERSION} 2300 CLM05-3 (1, 7 or 8) and REF*F8: required when CLM05-3 is 7 or 8"),
    ("CLAIM_TOTAL", f"{VERSION} 2300 CLM02: the total of the 2400 SV102 line charges"),
    ("DIAGNOSIS_POINTERS", f"{VERSION} 2300 HI and 2400 SV107: every pointer names a diagnosis of HI"),
    ("PLACE_OF_SERVICE", f"{VERSION} 2300 CLM05-1 and 2400 SV105 (code source 237), telehealth modifier"),
    ("REQUIRED_ELEMENTS", f"{VERSION}: the required elements of NM1, N3, N4, DMG, CLM, REF and SV1"),
    ("NPI_CHECK_DIGIT", f"{VERSION} NM108 XX: an NPI with a valid check digit (Luhn, prefix 80840)"),
    ("ENVELOPE_COUNTS", "X12.5 interchange control structure: SE01, GE01, IEA01 and the control numbers"),
)


def front_end_findings(text: str) -> list[Finding]:
    """What a clearinghouse's front end finds in the file: the renderer's own checks, then the situational
    rules and companion-guide edits of app/rules/edi837_frontend.py; each finding names its source."""
    segments = parse_segments(text)
    if not segments:
        return [
            Finding("INTERCHANGE", Level.REJECT, "X12.5 ISA", "not an X12 interchange: it must start with a full ISA")
        ]
    component = _component_separator(segments[0])
    claims = _claims(segments)
    own: list[list[str]] = [[], [], [], [], [], [], []]
    if not claims:
        own[0].append("no CLM segment")
    for claim in claims:
        own[0] += _frequency_problems(claim, component)
        own[1] += _total_problems(claim)
        own[2] += _diagnosis_problems(claim, component)
        own[3] += _place_problems(claim, component)
    own[4], own[5], own[6] = _required_problems(segments), _npi_problems(segments), _envelope_problems(segments)
    found = [
        Finding(name, Level.REJECT, source, message)
        for (name, source), messages in zip(_OWN_CHECKS, own, strict=True)
        for message in messages
    ]
    return found + frontend.findings(segments, component)


def rejections(text: str) -> list[Finding]:
    """The findings that get the claim (or the file) rejected."""
    return [f for f in front_end_findings(text) if f.level == Level.REJECT]


def edi_problems(text: str) -> list[str]:
    """What a clearinghouse would reject that pyx12 lets through, each naming its source: frequency and
    REF*F8, totals, diagnoses and their pointers, NPIs, counts, and the front end's situational rules and
    companion-guide edits (app/rules/edi837_frontend.py)."""
    return [str(f) if f.check in frontend.NAMES else f.message for f in rejections(text)]
