"""An X12 interchange read into segments that know where they stand, and written with its counts computed."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.errors import BadInput

ISA_LENGTH = 106  # ISA is fixed width: its 16 elements and the terminator at character 106
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
VERSION_5010 = "00501"
SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
BLANKS = " \t\r\n"


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"


STANDARD = Delimiters()


@dataclass(frozen=True)
class Place:
    """Where a segment stands: its id, its ordinal in the file (the ISA is 1) and the line it starts on."""

    segment_id: str
    ordinal: int
    line: int

    def __str__(self) -> str:
        return f"{self.segment_id} (segment {self.ordinal}, line {self.line})"


class X12Error(BadInput):
    """A file that cannot be read as the transaction it claims to be; the message names the segment and line."""

    def __init__(self, problem: str, place: Place | Segment) -> None:
        where = place.place if isinstance(place, Segment) else place
        super().__init__(f"{where}: {problem}", segment=where.segment_id, ordinal=where.ordinal, line=where.line)
        self.problem = problem
        self.place = where


@dataclass(frozen=True)
class Segment:
    id: str
    elements: tuple[str, ...]  # elements[0] is XX01
    ordinal: int
    line: int
    delimiters: Delimiters = field(default=STANDARD, repr=False)

    @property
    def place(self) -> Place:
        return Place(self.id, self.ordinal, self.line)

    def __getitem__(self, position: int) -> str:
        """XXnn by its number (CLP07 is clp[7]); "" when the segment stops before it."""
        return self.elements[position - 1] if 0 < position <= len(self.elements) else ""

    def components(self, position: int) -> tuple[str, ...]:
        value = self[position]
        return tuple(value.split(self.delimiters.component)) if value else ()

    def component(self, position: int, index: int) -> str:
        """XXnn-i (STC01-2 is component(1, 2)); "" when absent."""
        parts = self.components(position)
        return parts[index - 1] if 0 < index <= len(parts) else ""

    def repeats(self, position: int) -> tuple[str, ...]:
        value = self[position]
        return tuple(v for v in value.split(self.delimiters.repetition) if v) if value else ()

    def required(self, position: int) -> str:
        value = self[position]
        if not value:
            raise X12Error(f"{self.id}{position:02d} is required", self)
        return value

    def amount(self, position: int) -> Decimal:
        value = self.required(position)
        return self._decimal(position, value)

    def optional_amount(self, position: int) -> Decimal | None:
        value = self[position]
        return self._decimal(position, value) if value else None

    def date(self, position: int) -> date:
        return parse_date(self.required(position), self, position)

    def optional_date(self, position: int) -> date | None:
        return parse_date(self[position], self, position) if self[position] else None

    def period(self, qualifier_position: int) -> tuple[date, date]:
        """A DTP or DTM-style date: D8 (one day) or RD8 (from-to), the format qualifier at the position given."""
        qualifier, value = self.required(qualifier_position), self.required(qualifier_position + 1)
        if qualifier == "D8":
            day = parse_date(value, self, qualifier_position + 1)
            return day, day
        if qualifier == "RD8":
            start, _, end = value.partition("-")
            first = parse_date(start, self, qualifier_position + 1)
            last = parse_date(end, self, qualifier_position + 1)
            if last < first:
                raise X12Error(f"{self.id}{qualifier_position + 1:02d} range {value!r} ends before it starts", self)
            return first, last
        raise X12Error(f"{self.id}{qualifier_position:02d} date format {qualifier!r} is not D8 or RD8", self)

    def _decimal(self, position: int, value: str) -> Decimal:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise X12Error(f"{self.id}{position:02d} {value!r} is not a number", self) from None
        if not number.is_finite():
            raise X12Error(f"{self.id}{position:02d} {value!r} is not a number", self)
        return number


def parse_date(value: str, segment: Segment, position: int) -> date:
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise X12Error(f"{segment.id}{position:02d} {value!r} is not a date (CCYYMMDD)", segment) from None


@dataclass(frozen=True)
class TransactionSet:
    id: str  # ST01: 999, 277, 835, 270, 271, 837
    control_number: str  # ST02
    implementation: str  # ST03, the guide's version (005010X221A1)
    segments: tuple[Segment, ...]  # ST through SE

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def trailer(self) -> Segment:
        return self.segments[-1]

    @property
    def body(self) -> tuple[Segment, ...]:
        return self.segments[1:-1]

    def position(self, segment: Segment) -> int:
        """The segment's position in the set, ST being 1: what a 999's IK302 reports."""
        return segment.ordinal - self.header.ordinal + 1


@dataclass(frozen=True)
class FunctionalGroup:
    functional_id: str  # GS01: HC claims, FA acknowledgments, HN status, HP payment, HS/HB eligibility
    sender: str
    receiver: str
    created_at: datetime
    control_number: str  # GS06
    version: str  # GS08
    transactions: tuple[TransactionSet, ...]
    header: Segment


@dataclass(frozen=True)
class Interchange:
    delimiters: Delimiters
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    created_at: datetime
    control_number: str  # ISA13
    production: bool  # ISA15 P; T is a test file
    groups: tuple[FunctionalGroup, ...]

    @property
    def transactions(self) -> tuple[TransactionSet, ...]:
        return tuple(t for g in self.groups for t in g.transactions)


# ---------------------------------------------------------------- reading


def _isa_delimiters(body: str, line: int) -> tuple[Delimiters, list[str]]:
    place = Place("ISA", 1, line)
    if not body.startswith("ISA"):
        raise X12Error("the file must start with an ISA segment", place)
    if len(body) < ISA_LENGTH:
        raise X12Error(f"the ISA is cut short: {len(body)} characters where it has {ISA_LENGTH}", place)
    element = body[3]
    fields = body.split(element, 16)
    if len(fields) < 17 or len(fields[16]) < 2:
        raise X12Error("the ISA must have 16 elements and end with its segment terminator", place)
    component, terminator = fields[16][0], fields[16][1]
    fields[16] = component
    for number, (value, width) in enumerate(zip(fields[1:], ISA_WIDTHS, strict=True), 1):
        if len(value) != width:
            raise X12Error(f"ISA{number:02d} must be {width} characters wide, found {len(value)}", place)
    if fields[12] != VERSION_5010:
        raise X12Error(f"ISA12 must be {VERSION_5010} (HIPAA 5010), found {fields[12]!r}", place)
    if not fields[13].isdigit():
        raise X12Error(f"ISA13 control number {fields[13]!r} must be nine digits", place)
    delimiters = Delimiters(element, component, fields[11], terminator)
    chosen = (element, component, fields[11], terminator)
    # A line break may end segments (some senders do so); no other delimiter may be a letter, digit or blank.
    if len(set(chosen)) != 4 or any(c.isalnum() or c in " \t" for c in chosen) or set(chosen[:3]) & set("\r\n"):
        raise X12Error(
            "the ISA's element, component, repetition and segment delimiters must be four different symbols", place
        )
    return delimiters, fields


def read_segments(text: str) -> tuple[Delimiters, list[Segment]]:
    """The file's segments, split with the delimiters its own ISA declares; blank lines between them are skipped."""
    start = len(text) - len(text.lstrip("\ufeff" + BLANKS))
    line = text.count("\n", 0, start) + 1
    delimiters, _ = _isa_delimiters(text[start:], line)
    pieces = text[start:].split(delimiters.segment)
    segments: list[Segment] = []
    for number, raw in enumerate(pieces):
        content = raw.lstrip(BLANKS)
        segment_line = line + raw.count("\n", 0, len(raw) - len(content))
        line += raw.count("\n") + (delimiters.segment == "\n")
        content = content.rstrip("\r\n")
        last = number == len(pieces) - 1
        if not content:
            if last:
                break
            raise X12Error("an empty segment (two terminators in a row)", Place("", len(segments) + 1, segment_line))
        if last:
            place = Place(content[:3], len(segments) + 1, segment_line)
            raise X12Error(f"the file ends without the segment terminator {delimiters.segment!r}", place)
        parts = content.split(delimiters.element)
        if not SEGMENT_ID.fullmatch(parts[0]):
            raise X12Error("not a segment identifier", Place(parts[0][:20], len(segments) + 1, segment_line))
        segments.append(Segment(parts[0], tuple(parts[1:]), len(segments) + 1, segment_line, delimiters))
    return delimiters, segments


def _count(segment: Segment, position: int) -> int:
    value = segment.required(position)
    if not value.isdigit():
        raise X12Error(f"{segment.id}{position:02d} {value!r} must be a count", segment)
    return int(value)


def _stamp(segment: Segment, date_position: int, *, two_digit_year: bool = False) -> datetime:
    day, clock = segment.required(date_position), segment.required(date_position + 1)
    try:
        return datetime.strptime(day + clock[:4], ("%y%m%d" if two_digit_year else "%Y%m%d") + "%H%M")
    except ValueError:
        raise X12Error(
            f"{segment.id}{date_position:02d}/{date_position + 1:02d} are not a date and time", segment
        ) from None


def _transaction(segments: list[Segment]) -> TransactionSet:
    st, se = segments[0], segments[-1]
    if len(st[1]) != 3 or not st[2]:
        raise X12Error("ST01 must name the transaction set and ST02 give its control number", st)
    if _count(se, 1) != len(segments):
        raise X12Error(f"SE01 says {se[1]} segments; the transaction set has {len(segments)}", se)
    if se[2] != st[2]:
        raise X12Error(f"SE02 {se[2]!r} does not match ST02 {st[2]!r}", se)
    return TransactionSet(st[1], st[2], st[3], tuple(segments))


def _group(gs: Segment, transactions: list[TransactionSet], ge: Segment) -> FunctionalGroup:
    if _count(ge, 1) != len(transactions):
        raise X12Error(f"GE01 says {ge[1]} transaction sets; the group has {len(transactions)}", ge)
    if ge[2] != gs[6]:
        raise X12Error(f"GE02 {ge[2]!r} does not match GS06 {gs[6]!r}", ge)
    # A set without ST03 (the 835's guide does not use it) follows its group's GS08.
    transactions = [replace(t, implementation=t.implementation or gs[8]) for t in transactions]
    seen: set[str] = set()
    for transaction in transactions:
        if transaction.control_number in seen:
            raise X12Error(f"ST02 {transaction.control_number} repeats within the group", transaction.header)
        seen.add(transaction.control_number)
    return FunctionalGroup(
        gs.required(1), gs.required(2), gs.required(3), _stamp(gs, 4), gs.required(6), gs.required(8),
        tuple(transactions), gs,
    )  # fmt: skip


def read_interchange(text: str) -> Interchange:
    """One interchange, its envelopes checked: every ST closed by its SE, GS by GE, ISA by IEA, with the counts
    and control numbers they state. Anything else raises X12Error naming the segment and its line."""
    delimiters, segments = read_segments(text)
    isa = segments[0]
    groups: list[FunctionalGroup] = []
    gs: Segment | None = None
    transactions: list[TransactionSet] = []
    open_set: list[Segment] = []
    iea: Segment | None = None
    for segment in segments[1:]:
        tag = segment.id
        if iea is not None:
            raise X12Error("nothing may follow the IEA", segment)
        if open_set:
            if tag in ("ISA", "GS", "GE", "IEA", "ST"):
                raise X12Error(f"the transaction set begun by {open_set[0].place} has no SE before this {tag}", segment)
            open_set.append(segment)
            if tag == "SE":
                transactions.append(_transaction(open_set))
                open_set = []
        elif tag == "ST":
            if gs is None:
                raise X12Error("ST outside a functional group (no GS before it)", segment)
            open_set = [segment]
        elif tag == "GS":
            if gs is not None:
                raise X12Error(f"the functional group begun by {gs.place} has no GE before this GS", segment)
            gs, transactions = segment, []
        elif tag == "GE":
            if gs is None:
                raise X12Error("GE without its GS", segment)
            groups.append(_group(gs, transactions, segment))
            gs = None
        elif tag == "IEA":
            if gs is not None:
                raise X12Error(f"the functional group begun by {gs.place} has no GE before the IEA", segment)
            iea = segment
        else:
            raise X12Error(f"{tag} outside a transaction set", segment)
    if open_set:
        raise X12Error("the transaction set has no SE", open_set[0])
    if gs is not None:
        raise X12Error("the functional group has no GE", gs)
    if iea is None:
        raise X12Error("the interchange has no IEA", segments[-1])
    if _count(iea, 1) != len(groups):
        raise X12Error(f"IEA01 says {iea[1]} functional groups; the interchange has {len(groups)}", iea)
    if iea[2] != isa[13]:
        raise X12Error(f"IEA02 {iea[2]!r} does not match ISA13 {isa[13]!r}", iea)
    return Interchange(
        delimiters, isa[5], isa[6].strip(), isa[7], isa[8].strip(), _stamp(isa, 9, two_digit_year=True), isa[13],
        isa[15] == "P", tuple(groups),
    )  # fmt: skip


def transactions_of(interchange: Interchange, transaction_set: str, implementation: str) -> list[TransactionSet]:
    """The interchange's transaction sets of one kind; another kind, or another guide's version, is refused."""
    found = []
    for transaction in interchange.transactions:
        if transaction.id != transaction_set:
            raise X12Error(f"a {transaction.id} where a {transaction_set} was expected", transaction.header)
        if transaction.implementation != implementation:
            said = transaction.implementation or "nothing"
            raise X12Error(f"ST03 says {said}; this reader knows {implementation}", transaction.header)
        found.append(transaction)
    if not found:
        raise X12Error(f"the interchange holds no {transaction_set}", Place("ISA", 1, 1))
    return found


# A transaction's grammar: for each loop, the segments that may come next and the loop each one leads to. A
# segment is looked up by its id and qualifier first ("NM1*PR", "HL*22": HL03 for an HL), then by its id alone.
Grammar = Mapping[str, Mapping[str, str]]


def qualified_key(segment: Segment) -> str:
    return f"{segment.id}*{segment[3] if segment.id == 'HL' else segment[1]}"


def walk(transaction: TransactionSet, grammar: Grammar, start: str) -> Iterator[tuple[str, Segment]]:
    """(loop, segment) for each segment between ST and SE; one the grammar does not allow there is refused."""
    loop = start
    previous = transaction.header
    for segment in transaction.body:
        moves = grammar[loop]
        target = moves.get(qualified_key(segment)) or moves.get(segment.id)
        if target is None:
            raise X12Error(f"not expected after {previous.id} in loop {loop} of the {transaction.id}", segment)
        loop, previous = target, segment
        yield loop, segment


def required_segment(found: object, transaction: TransactionSet, what: str) -> None:
    if found is None:
        raise X12Error(f"the {transaction.id} has no {what}", transaction.trailer)


# ---------------------------------------------------------------- writing


def text(value: str, limit: int | None = None) -> str:
    """Upper-case ASCII with no delimiter or control character, so free text can never break the file apart."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    ascii_text = "".join(c if c.isprintable() else " " for c in ascii_text)
    for delimiter in (STANDARD.segment, STANDARD.element, STANDARD.component, STANDARD.repetition):
        ascii_text = ascii_text.replace(delimiter, " ")
    cleaned = " ".join(ascii_text.upper().split())
    return cleaned[:limit] if limit else cleaned


def amount_text(amount: Decimal) -> str:
    """X12 decimal: no exponent, no trailing zeros, a leading minus for a reversal ("125", "62.5", "-35")."""
    figure = format(amount.quantize(Decimal("0.01"), ROUND_HALF_UP), "f")
    figure = figure.rstrip("0").rstrip(".") if "." in figure else figure
    return "0" if figure in ("-0", "") else figure


def day_text(day: date) -> str:
    return day.strftime("%Y%m%d")


def period_elements(first: date, last: date) -> tuple[str, str]:
    """DTP's format qualifier and value: D8 for one day, RD8 for a range."""
    if first == last:
        return "D8", day_text(first)
    return "RD8", f"{day_text(first)}-{day_text(last)}"


def composite(*parts: str) -> str:
    values = list(parts)
    while values and values[-1] == "":
        values.pop()
    return STANDARD.component.join(values)


def render_segment(elements: Sequence[str]) -> str:
    # X12 does not allow trailing empty elements, so they are dropped.
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return STANDARD.element.join(values) + STANDARD.segment


@dataclass(frozen=True)
class Envelope:
    sender_id: str  # ISA06 and GS02
    receiver_id: str  # ISA08 and GS03
    control_number: int  # ISA13 and GS06: 1..999999999
    created_at: datetime  # passed in so writing never reads the clock
    functional_id: str  # GS01
    implementation: str  # GS08 and ST03
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    production: bool = True  # ISA15 P, or T for a test file
    acknowledgment_requested: bool = False  # ISA14: a TA1 is wanted back


def render_interchange(
    envelope: Envelope,
    transaction_set: str,
    bodies: Sequence[Sequence[Sequence[str]]],
    *,
    implementation_in_st: bool = True,
) -> str:
    """One interchange, one functional group, one transaction set per body (the segments between ST and SE);
    ST/SE, GS/GE and ISA/IEA with their counts and control numbers are written here, never by the caller.
    ST03 repeats GS08 unless the guide does not use it (the 835's)."""
    if not 0 < envelope.control_number < 1_000_000_000:
        raise ValueError("an interchange control number is 1 to 999999999")
    stamp, control = envelope.created_at, envelope.control_number
    lines = [
        render_segment((
            "ISA", "00", " " * 10, "00", " " * 10,
            envelope.sender_qualifier, text(envelope.sender_id)[:15].ljust(15),
            envelope.receiver_qualifier, text(envelope.receiver_id)[:15].ljust(15),
            stamp.strftime("%y%m%d"), stamp.strftime("%H%M"), STANDARD.repetition, VERSION_5010, f"{control:09d}",
            "1" if envelope.acknowledgment_requested else "0", "P" if envelope.production else "T", STANDARD.component,
        )),
        render_segment((
            "GS", envelope.functional_id, text(envelope.sender_id), text(envelope.receiver_id),
            stamp.strftime("%Y%m%d"), stamp.strftime("%H%M"), str(control), "X", envelope.implementation,
        )),
    ]  # fmt: skip
    for number, body in enumerate(bodies, 1):
        st_control = f"{number:04d}"
        st03 = envelope.implementation if implementation_in_st else ""
        segments = [("ST", transaction_set, st_control, st03), *body]
        lines += [render_segment(s) for s in segments]
        lines.append(render_segment(("SE", str(len(segments) + 1), st_control)))  # SE01 counts ST through SE
    lines.append(render_segment(("GE", str(len(bodies)), str(control))))
    lines.append(render_segment(("IEA", "1", f"{control:09d}")))
    # A line break after each terminator keeps the stored file readable; X12 readers skip it.
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the parties every transaction names


@dataclass(frozen=True)
class Party:
    """An organization as an NM1 or N1 names it: name and identifier (NPI, payer id, ETIN)."""

    name: str
    id: str


@dataclass(frozen=True)
class Person:
    """A patient or subscriber as an NM1 names them."""

    last_name: str
    first_name: str
    member_id: str


@dataclass(frozen=True)
class Address:
    line: str
    city: str
    state: str
    zip: str
