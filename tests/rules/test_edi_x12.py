"""Reading an interchange with the delimiters its ISA declares, each segment knowing its ordinal and line; a
malformed file refused with an error that names the segment, its ordinal and its line; writing with computed
counts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.errors import BadInput
from app.rules.edi.x12 import (
    Envelope,
    X12Error,
    amount_text,
    read_interchange,
    render_interchange,
    render_segment,
    text,
)
from tests.rules.edi_support import fixture, with_line

ACCEPTED_999 = fixture("999_accepted.x12")


def test_reads_the_envelopes_of_a_999_with_ordinals_and_lines():
    interchange = read_interchange(ACCEPTED_999)
    assert (interchange.sender_id, interchange.receiver_id) == ("AHCCCS", "SUNRISEBH")
    assert interchange.control_number == "000000904" and interchange.production
    assert interchange.created_at == datetime(2025, 3, 13, 8, 0)
    (group,) = interchange.groups
    assert (group.functional_id, group.control_number, group.version) == ("FA", "904", "005010X231A1")
    (transaction,) = group.transactions
    assert (transaction.id, transaction.control_number, transaction.implementation) == ("999", "0001", "005010X231A1")
    ak1 = transaction.body[0]
    assert (ak1.id, ak1.ordinal, ak1.line, ak1[1], ak1[2]) == ("AK1", 4, 4, "HC", "1042")
    assert transaction.position(ak1) == 2


def test_the_isa_chooses_the_delimiters_even_with_the_whole_file_on_one_line():
    # The 999 written with | between elements, > between components, ! for repetitions and ' ending segments.
    one_line = ACCEPTED_999.replace("*", "|").replace("~\n", "'").replace("|^|", "|!|").replace("|:'", "|>'", 1)
    interchange = read_interchange(one_line)
    assert (interchange.delimiters.element, interchange.delimiters.segment) == ("|", "'")
    assert interchange.delimiters.component == ">" and interchange.delimiters.repetition == "!"
    se = interchange.transactions[0].trailer
    assert (se.ordinal, se.line, se[1]) == (8, 1, "6")


def test_a_line_break_may_end_each_segment():
    interchange = read_interchange(ACCEPTED_999.replace("~\n", "\n"))
    assert interchange.transactions[0].trailer.line == 8


def test_components_and_repetitions_use_the_isas_separators():
    interchange = read_interchange(fixture("999_group_partially_accepted.x12"))
    ik4 = next(s for s in interchange.transactions[0].segments if s.id == "IK4" and ":" in s[1])
    assert ik4.components(1) == ("5", "3") and ik4.component(1, 2) == "3" and ik4.component(1, 3) == ""


def isa_with(position: int, value: str) -> str:
    """The 999 with one fixed-width ISA element changed (the rest of the file as it is)."""
    isa, rest = ACCEPTED_999.split("~", 1)
    fields = isa.split("*")
    fields[position] = value
    return "*".join(fields) + "~" + rest


# (case, the file, segment id, ordinal, line, what the message says)
MALFORMED = [
    ("not X12 at all", "hello", "ISA", 1, 1, "must start with an ISA"),
    ("an ISA cut short", ACCEPTED_999[:60], "ISA", 1, 1, "cut short"),
    ("an ISA element of the wrong width", isa_with(6, "AHCCCS"), "ISA", 1, 1, "ISA06 must be 15 characters"),
    ("a 4010 interchange", isa_with(12, "00401"), "ISA", 1, 1, "ISA12 must be 00501"),
    ("a control number with letters", isa_with(13, "00000090X"), "ISA", 1, 1, "ISA13"),
    ("a blank line before the ISA is counted", "\n\nhello", "ISA", 1, 3, "must start with an ISA"),
    ("a missing SE", with_line(ACCEPTED_999, 8, None), "GE", 8, 8, "has no SE before this GE"),
    ("a wrong SE count", with_line(ACCEPTED_999, 8, "SE*7*0001~"), "SE", 8, 8, "SE01 says 7 segments"),
    ("an SE for another set", with_line(ACCEPTED_999, 8, "SE*6*0002~"), "SE", 8, 8, "does not match ST02"),
    ("a wrong GE count", with_line(ACCEPTED_999, 9, "GE*2*904~"), "GE", 9, 9, "GE01 says 2"),
    ("a GE for another group", with_line(ACCEPTED_999, 9, "GE*1*905~"), "GE", 9, 9, "does not match GS06"),
    ("a wrong IEA count", with_line(ACCEPTED_999, 10, "IEA*2*000000904~"), "IEA", 10, 10, "IEA01 says 2"),
    ("an IEA for another interchange", with_line(ACCEPTED_999, 10, "IEA*1*000000903~"), "IEA", 10, 10, "ISA13"),
    ("no IEA", with_line(ACCEPTED_999, 10, None), "GE", 9, 9, "has no IEA"),
    ("no GE", with_line(with_line(ACCEPTED_999, 10, None), 9, None), "GS", 2, 2, "has no GE"),
    ("a segment after the IEA", ACCEPTED_999 + "AK1*HC*1~\n", "AK1", 11, 11, "nothing may follow the IEA"),
    ("a segment outside any set", with_line(ACCEPTED_999, 3, "AK1*HC*1~"), "AK1", 3, 3, "outside a transaction"),
    ("an ST outside a group", with_line(ACCEPTED_999, 2, "ST*999*0009~"), "ST", 2, 2, "outside a functional group"),
    ("two terminators in a row", with_line(ACCEPTED_999, 6, "IK5*A~~"), "", 7, 6, "empty segment"),
    ("a lowercase segment id", with_line(ACCEPTED_999, 6, "ik5*A~"), "ik5", 6, 6, "not a segment identifier"),
    ("no terminator at the end", ACCEPTED_999.rstrip("~\n"), "IEA", 10, 10, "ends without the segment terminator"),
]


@pytest.mark.parametrize(
    ("case", "text", "segment", "ordinal", "line", "says"), MALFORMED, ids=[c[0] for c in MALFORMED]
)
def test_a_malformed_interchange_is_refused_naming_segment_ordinal_and_line(case, text, segment, ordinal, line, says):
    with pytest.raises(X12Error) as refused:
        read_interchange(text)
    error = refused.value
    assert isinstance(error, BadInput) and error.code.value == "BAD_USER_INPUT"
    assert error.details == {"segment": segment, "ordinal": ordinal, "line": line}
    assert says in error.message and f"line {line}" in error.message


def test_the_same_delimiter_twice_is_refused():
    with pytest.raises(X12Error, match="four different symbols"):
        read_interchange(ACCEPTED_999.replace("*^*00501", "*:*00501"))


# ---------------------------------------------------------------- writing

AMOUNTS = [
    (Decimal("125.00"), "125"),
    (Decimal("62.50"), "62.5"),
    (Decimal("0.2"), "0.2"),
    (Decimal("-35.00"), "-35"),
    (Decimal("-0.00"), "0"),
    (Decimal("0"), "0"),
    (Decimal("1E+2"), "100"),
    (Decimal("10.005"), "10.01"),
]


@pytest.mark.parametrize(("amount", "written"), AMOUNTS)
def test_amounts_are_written_without_exponent_or_trailing_zeros(amount, written):
    assert amount_text(amount) == written


TEXTS = [
    ("Ñoño O'Brien", "NONO O'BRIEN"),
    ("a*b~c:d^e", "A B C D E"),
    ("  two\tspaces\n", "TWO SPACES"),
    ("✨", ""),
]


@pytest.mark.parametrize(("value", "cleaned"), TEXTS)
def test_free_text_is_upper_case_ascii_without_delimiters(value, cleaned):
    assert text(value) == cleaned


def test_trailing_empty_elements_are_dropped():
    assert render_segment(("CLP", "A", "", "1", "", "")) == "CLP*A**1~"


def test_the_interchange_writer_counts_segments_sets_and_groups():
    envelope = Envelope("SENDER", "RECEIVER", 42, datetime(2025, 1, 2, 3, 4), "FA", "005010X231A1", production=False)
    written = render_interchange(envelope, "999", [[("AK1", "HC", "1", "005010X222A1")], [("AK1", "HC", "2")]])
    interchange = read_interchange(written)
    assert not interchange.production and interchange.control_number == "000000042"
    assert [t.control_number for t in interchange.transactions] == ["0001", "0002"]
    assert [t.trailer[1] for t in interchange.transactions] == ["3", "3"]
    assert interchange.created_at.date() == date(2025, 1, 2)


def test_a_control_number_out_of_range_is_refused():
    with pytest.raises(ValueError):
        render_interchange(Envelope("A", "B", 1_000_000_000, datetime(2025, 1, 1), "FA", "X"), "999", [])
