"""The 999 Implementation Acknowledgment (005010X231A1): read per transaction set, built for a group we read,
written pyx12-clean."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from app.rules.edi.edi999 import (
    ElementError,
    SegmentError,
    acknowledge_group,
    read_999,
    render_999,
)
from app.rules.edi.x12 import X12Error, read_interchange
from tests.rules.edi_support import envelope, fixture, our_837p, with_line
from tests.support.x12 import pyx12_errors

PARTIAL = fixture("999_group_partially_accepted.x12")


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


@pytest.mark.parametrize("name", ["999_accepted.x12", "999_group_partially_accepted.x12"])
def test_the_fixtures_are_pyx12_clean(name):
    assert pyx12_errors(fixture(name)) == []


def test_an_accepted_group_x231a1_section_3_example():
    (acknowledgment,) = read_999(fixture("999_accepted.x12"))
    assert (acknowledgment.functional_id, acknowledgment.group_control_number) == ("HC", "1042")
    assert acknowledgment.code == "A" and acknowledgment.text == "Accepted"
    (response,) = acknowledgment.responses
    assert response.accepted and response.control_number == "0001" and response.segment_errors == ()


def test_a_partially_accepted_group_names_each_sets_fate_and_its_errors():
    (acknowledgment,) = read_999(PARTIAL)
    assert acknowledgment.code == "P" and (acknowledgment.included, acknowledgment.accepted_count) == (3, 2)
    first, rejected, with_errors = acknowledgment.responses
    assert first.accepted and not rejected.accepted and with_errors.accepted
    assert rejected.code == "R" and rejected.syntax_errors == ("5",) and rejected.text == "Rejected"
    assert with_errors.text == "Accepted But Errors Were Noted"
    name_error, claim_error = rejected.segment_errors
    assert (name_error.segment_id, name_error.position, name_error.loop, name_error.claim_number) == (
        "NM1",
        16,
        "2010",
        "GS000202",
    )
    assert name_error.text == "Segment Has Data Element Errors"
    assert name_error.elements == (ElementError(9, None, None, "67", "1", ""),)
    assert name_error.elements[0].text == "Required Data Element Missing"
    assert claim_error.elements == (ElementError(5, 3, None, "1325", "7", "9"),)
    assert claim_error.elements[0].text == "Invalid Code Value"
    assert acknowledgment.response_for("0002") is rejected and acknowledgment.response_for("0009") is None


# (case, lines of the partial fixture replaced, segment named, line named)
OUT_OF_ORDER = [
    ("an IK4 before any IK3", {8: "IK4*9*67*1~", 9: "IK3*NM1*16*2010*8~"}, "IK4", 8),
    ("an IK5 before the AK1", {4: "IK5*A~", 6: "AK1*HC*1043*005010X222A1~"}, "IK5", 4),
    ("an unknown segment in the 999", {7: "CLM*X*1~"}, "CLM", 7),
]


@pytest.mark.parametrize(("case", "changes", "segment", "line"), OUT_OF_ORDER, ids=[c[0] for c in OUT_OF_ORDER])
def test_segments_out_of_the_guides_order_are_refused(case, changes, segment, line):
    text = PARTIAL
    for number, new in changes.items():
        text = with_line(text, number, new)
    with pytest.raises(X12Error) as refused:
        read_999(text)
    assert refused.value.details["segment"] == segment and refused.value.details["line"] == line


def test_another_transaction_set_is_not_read_as_a_999():
    with pytest.raises(X12Error, match="a 277 where a 999 was expected"):
        read_999(fixture("277ca_accepted_and_rejected.x12"))


def group_of_our_837():
    return read_interchange(our_837p()).groups[0]


CLAIM_ERROR = SegmentError("CLM", 19, "2300", "8", "GS000123", (ElementError(5, 3, None, "1325", "7", "9"),))
# (case, rejections by ST02, IK501 of the set, AK901 of the group)
GROUPS = [
    ("every set accepted", {}, "A", "A"),
    ("the set rejected", {"0001": [CLAIM_ERROR]}, "R", "R"),
    ("a set not in the group changes nothing", {"0002": [CLAIM_ERROR]}, "A", "A"),
]


@pytest.mark.parametrize(("case", "rejections", "set_code", "group_code"), GROUPS, ids=[c[0] for c in GROUPS])
def test_acknowledging_a_group_we_read(case, rejections, set_code, group_code):
    acknowledgment = acknowledge_group(group_of_our_837(), rejections)
    assert acknowledgment.code == group_code and acknowledgment.responses[0].code == set_code
    assert (acknowledgment.functional_id, acknowledgment.group_control_number) == ("HC", "1042")
    written = render_999(envelope(), [acknowledgment])
    assert pyx12_errors(written) == []
    assert read_999(written) == (acknowledgment,)


def test_a_group_with_some_sets_rejected_is_partially_accepted():
    group = group_of_our_837()
    (first,) = group.transactions
    two_sets = replace(group, transactions=(first, replace(first, control_number="0002")))
    acknowledgment = acknowledge_group(two_sets, {"0002": [CLAIM_ERROR]})
    assert acknowledgment.code == "P" and [r.code for r in acknowledgment.responses] == ["A", "R"]
    assert pyx12_errors(render_999(envelope(), [acknowledgment])) == []


def test_the_written_999_round_trips_the_fixture():
    acknowledgments = read_999(PARTIAL)
    assert read_999(render_999(envelope(), acknowledgments)) == acknowledgments
