"""An 837P batch (005010X222A1) read back into its claims: what a payer (or our simulator of one) receives, and
what a 999 or 277CA is matched against. Independent of the renderer in app/rules/edi837.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.rules.edi.x12 import (
    FunctionalGroup,
    Grammar,
    Interchange,
    Party,
    Person,
    Segment,
    TransactionSet,
    X12Error,
    read_interchange,
    required_segment,
    transactions_of,
    walk,
)

IMPLEMENTATION = "005010X222A1"


@dataclass(frozen=True)
class SubmittedLine:
    number: int  # LX01
    procedure_code: str  # SV101-2
    modifiers: tuple[str, ...]
    charge: Decimal  # SV102
    units: Decimal  # SV104
    service_date: date  # DTP*472
    line_control_number: str | None = None  # REF*6R
    authorization: str | None = None  # REF*G1 at line level


@dataclass(frozen=True)
class SubmittedClaim:
    claim_number: str  # CLM01: the patient control number every answer echoes
    charge: Decimal  # CLM02
    place_of_service: str  # CLM05-1
    frequency: str  # CLM05-3: 1 original, 7 replacement, 8 void
    subscriber: Person  # 2010BA
    payer: Party  # 2010BB
    billing_provider: Party  # 2010AA
    lines: tuple[SubmittedLine, ...]
    transaction_control_number: str  # ST02 of the set it came in
    position: int  # the CLM's position in that set, ST being 1: what a 999's IK302 names
    filing_indicator: str = ""  # SBR09
    original_claim_number: str | None = None  # REF*F8: the payer's number of the claim corrected
    authorization: str | None = None  # REF*G1
    diagnoses: tuple[str, ...] = ()  # HI, principal first
    date_of_birth: date | None = None
    sex: str | None = None

    @property
    def service_dates(self) -> tuple[date, date]:
        days = [line.service_date for line in self.lines]
        return min(days), max(days)


@dataclass(frozen=True)
class ClaimBatch:
    interchange: Interchange
    submitter: Party  # 1000A
    receiver: Party  # 1000B
    reference: str  # BHT03 of the first set: the batch's identifier, echoed in the 277CA's 2200B TRN
    claims: tuple[SubmittedClaim, ...]

    @property
    def group(self) -> FunctionalGroup:
        return self.interchange.groups[0]


_LEVELS = {"HL*20": "2000A", "HL*22": "2000B", "HL*23": "2000C"}
_CLAIM_SEGMENTS = ("DTP", "PWK", "CN1", "AMT", "REF", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP")
_LINE_SEGMENTS = (
    "SV1", "PWK", "CR1", "CR3", "CRC", "DTP", "QTY", "MEA", "CN1", "REF", "AMT", "K3", "NTE", "PS1", "HCP", "LIN",
    "CTP", "NM1", "PRV", "N3", "N4", "PER", "SVD", "CAS", "LQ", "FRM",
)  # fmt: skip
_OTHER_SUBSCRIBER = ("SBR", "CAS", "AMT", "OI", "MOA", "NM1", "N3", "N4", "DMG", "REF", "PER", "DTP")
GRAMMAR: Grammar = {
    "start": {"BHT": "header"},
    "header": {"REF": "header", "NM1*41": "1000A"},
    "1000A": {"PER": "1000A", "NM1*40": "1000B"},
    "1000B": {"HL*20": "2000A"},
    "2000A": {"PRV": "2000A", "CUR": "2000A", "NM1*85": "2010AA"},
    "2010AA": {"N3": "2010AA", "N4": "2010AA", "REF": "2010AA", "PER": "2010AA", "NM1": "2010AB", **_LEVELS},
    "2010AB": {"N3": "2010AB", "N4": "2010AB", "REF": "2010AB", "NM1": "2010AB", **_LEVELS},
    "2000B": {"SBR": "2000B", "PAT": "2000B", "NM1*IL": "2010BA"},
    "2010BA": {"N3": "2010BA", "N4": "2010BA", "DMG": "2010BA", "REF": "2010BA", "PER": "2010BA", "NM1*PR": "2010BB"},
    "2010BB": {"N3": "2010BB", "N4": "2010BB", "REF": "2010BB", "CLM": "2300", **_LEVELS},
    "2000C": {"PAT": "2000C", "NM1*QC": "2010CA"},
    "2010CA": {**{t: "2010CA" for t in ("N3", "N4", "DMG", "REF", "PER")}, "CLM": "2300", **_LEVELS},
    "2300": {**{t: "2300" for t in _CLAIM_SEGMENTS}, "NM1": "2310", "SBR": "2320", "LX": "2400", "CLM": "2300"},
    "2310": {**{t: "2310" for t in ("NM1", "PRV", "N3", "N4", "REF")}, "SBR": "2320", "LX": "2400"},
    "2320": {**{t: "2320" for t in _OTHER_SUBSCRIBER}, "LX": "2400"},
    "2400": {**{t: "2400" for t in _LINE_SEGMENTS}, "LX": "2400", "CLM": "2300", **_LEVELS},
}


@dataclass
class _Line:
    lx: Segment
    sv1: Segment | None = None
    service_date: date | None = None
    line_control_number: str | None = None
    authorization: str | None = None

    def line(self) -> SubmittedLine:
        if self.sv1 is None:
            raise X12Error("the service line has no SV1", self.lx)
        if self.service_date is None:
            raise X12Error("the service line has no DTP*472 (service date)", self.sv1)
        procedure = self.sv1.components(1)
        if len(procedure) < 2 or not procedure[1]:
            raise X12Error("SV101 needs a qualifier and a procedure code", self.sv1)
        number = self.lx.required(1)
        if not number.isdigit():
            raise X12Error(f"LX01 {number!r} must be a line number", self.lx)
        return SubmittedLine(
            int(number), procedure[1], tuple(m for m in procedure[2:6] if m), self.sv1.amount(2), self.sv1.amount(4),
            self.service_date, self.line_control_number, self.authorization,
        )  # fmt: skip


@dataclass
class _Claim:
    clm: Segment
    position: int
    subscriber: Person
    payer: Party
    provider: Party
    filing_indicator: str
    birth: tuple[date | None, str | None]
    refs: dict[str, str]
    diagnoses: tuple[str, ...] = ()
    lines: list[SubmittedLine] | None = None
    line: _Line | None = None

    def close_line(self) -> None:
        if self.line is not None:
            self.lines = (self.lines or []) + [self.line.line()]
        self.line = None

    def claim(self, control_number: str) -> SubmittedClaim:
        self.close_line()
        if not self.lines:
            raise X12Error("the claim has no service line", self.clm)
        facility = self.clm.components(5)
        if len(facility) < 3:
            raise X12Error("CLM05 needs the place of service, B and the frequency code", self.clm)
        return SubmittedClaim(
            self.clm.required(1), self.clm.amount(2), facility[0], facility[2], self.subscriber, self.payer,
            self.provider, tuple(self.lines), control_number, self.position, self.filing_indicator,
            self.refs.get("F8"), self.refs.get("G1"), self.diagnoses, *self.birth,
        )  # fmt: skip


def _read_transaction(transaction: TransactionSet) -> tuple[Party, Party, str, list[SubmittedClaim]]:
    bht = submitter = receiver = provider = subscriber = payer = None
    filing_indicator = ""
    birth: tuple[date | None, str | None] = (None, None)
    claims: list[SubmittedClaim] = []
    claim: _Claim | None = None

    def close_claim() -> None:
        nonlocal claim
        if claim is not None:
            claims.append(claim.claim(transaction.control_number))
        claim = None

    for loop, segment in walk(transaction, GRAMMAR, "start"):
        if segment.id in ("CLM", "HL"):
            close_claim()
        match loop, segment.id:
            case "header", "BHT":
                bht = segment
            case "1000A", "NM1":
                submitter = Party(segment.required(3), segment.required(9))
            case "1000B", "NM1":
                receiver = Party(segment.required(3), segment.required(9))
            case "2010AA", "NM1":
                provider = Party(" ".join(p for p in (segment[3], segment[4]) if p), segment.required(9))
            case "2000B", "SBR":
                filing_indicator = segment[9]
            case "2010BA", "NM1":
                subscriber = Person(segment[3], segment[4], segment.required(9))
            case "2010BA", "DMG":
                birth = (segment.optional_date(2), segment[3] or None)
            case "2010BB", "NM1":
                payer = Party(segment.required(3), segment.required(9))
            case "2300", "CLM":
                if subscriber is None or payer is None or provider is None:
                    raise X12Error("a claim before its billing provider, subscriber and payer", segment)
                position = transaction.position(segment)
                claim = _Claim(segment, position, subscriber, payer, provider, filing_indicator, birth, {})
            case "2300", "REF" if claim is not None:
                claim.refs[segment.required(1)] = segment.required(2)
            case "2300", "HI" if claim is not None:
                claim.diagnoses = tuple(segment.component(n, 2) for n in range(1, 13) if segment.component(n, 2))
            case "2400", "LX" if claim is not None:
                claim.close_line()
                claim.line = _Line(segment)
            case "2400", "SV1" if claim is not None and claim.line is not None:
                claim.line.sv1 = segment
            case "2400", "DTP" if claim is not None and claim.line is not None and segment[1] == "472":
                claim.line.service_date = segment.period(2)[0]
            case "2400", "REF" if claim is not None and claim.line is not None and segment[1] == "6R":
                claim.line.line_control_number = segment.required(2)
            case "2400", "REF" if claim is not None and claim.line is not None and segment[1] == "G1":
                claim.line.authorization = segment.required(2)
    close_claim()
    required_segment(bht, transaction, "BHT")
    required_segment(submitter, transaction, "1000A NM1*41 (submitter)")
    assert bht is not None and submitter is not None and receiver is not None
    return submitter, receiver, bht.required(3), claims


def read_837p(text: str) -> ClaimBatch:
    """The batch's claims; a malformed file raises X12Error naming the segment and line."""
    interchange = read_interchange(text)
    transactions = transactions_of(interchange, "837", IMPLEMENTATION)
    read = [_read_transaction(t) for t in transactions]
    claims = tuple(c for *_, found in read for c in found)
    if not claims:
        raise X12Error("the 837 holds no claim", transactions[0].trailer)
    submitter, receiver, reference, _ = read[0]
    return ClaimBatch(interchange, submitter, receiver, reference, claims)
