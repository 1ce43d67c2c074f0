"""The 277CA Health Care Claim Acknowledgment (005010X214): per claim (2200D) our claim number from TRN02, the
STC status category, status and entity, the payer's claim control number (REF*1K), amounts and dates."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest

from app.rules.edi.edi277 import StatusCode, read_277ca, render_277ca
from app.rules.edi.x12 import Party, X12Error
from tests.rules.edi_support import envelope, fixture, with_line
from tests.support.x12 import pyx12_errors

TEXT = fixture("277ca_accepted_and_rejected.x12")


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


def claims_by_number():
    (answer,) = read_277ca(TEXT)
    return {c.claim_number: c for c in answer.claims}


def test_the_fixture_is_pyx12_clean():
    assert pyx12_errors(TEXT) == []


def test_the_transmission_x214_section_3_example():
    (answer,) = read_277ca(TEXT)
    assert answer.payer == Party("AHCCCS", "866004791") and answer.receiver.id == "SUNRISEBH"
    assert (answer.transmission_trace, answer.batch_trace) == ("0091182", "GS000301")
    assert (answer.received_on, answer.processed_on) == (date(2025, 3, 12), date(2025, 3, 13))
    assert [c.claim_number for c in answer.accepted] == ["GS000301", "GS000303"]
    assert [c.claim_number for c in answer.rejected] == ["GS000302", "GS000304"]


# (claim, accepted, statuses, payer claim number, charge, service dates)
CLAIMS = [
    ("GS000301", True, [StatusCode("A2", "20", "PR")], "25072000301001", "35", (date(2025, 3, 12),) * 2),
    (
        "GS000302",
        False,
        [StatusCode("A7", "164", "IL"), StatusCode("A7", "21")],
        None,
        "35",
        (date(2025, 3, 12),) * 2,
    ),
    ("GS000303", True, [StatusCode("A2", "20", "PR")], "25072000301003", "31", (date(2025, 3, 10), date(2025, 3, 12))),
    ("GS000304", False, [StatusCode("A7", "21")], None, "66", (date(2025, 3, 11),) * 2),
]


@pytest.mark.parametrize(("number", "accepted", "statuses", "icn", "charge", "dates"), CLAIMS)
def test_each_claim_of_the_acknowledgment(number, accepted, statuses, icn, charge, dates):
    claim = claims_by_number()[number]
    assert claim.accepted is accepted and list(claim.statuses) == statuses
    assert claim.payer_claim_number == icn and claim.charge == Decimal(charge) and claim.service_dates == dates
    assert claim.action == ("WQ" if accepted else "U") and claim.status_date == date(2025, 3, 13)


def test_a_rejection_reads_as_text_with_its_entity_and_message():
    claim = claims_by_number()["GS000302"]
    assert claim.statuses[0].text == (
        "A7: Acknowledgement/Rejected for Invalid Information: the claim/encounter has invalid information as"
        " specified in the status details and has been rejected. 164: Entity's contract/member number"
        " (Insured or Subscriber)."
    )
    assert claim.message == "MEMBER ID NOT FOUND" and claim.patient.member_id == "B99999999"


def test_a_rejected_service_line_names_its_procedure_and_status():
    claim = claims_by_number()["GS000304"]
    (line,) = claim.lines
    assert (line.procedure_code, line.modifiers, line.charge, line.line_control_number) == ("90853", ("XX",), 31, "2")
    assert line.statuses == (StatusCode("A7", "453"),)
    assert line.statuses[0].code_text == "Procedure Code Modifier(s) for Service(s) Rendered."


def test_the_clearinghouse_trace_is_kept():
    assert claims_by_number()["GS000303"].clearinghouse_trace == "CH7781"


def test_written_it_reads_back_the_same_and_pyx12_accepts_it():
    answers = read_277ca(TEXT)
    written = render_277ca(envelope(), answers)
    assert pyx12_errors(written) == []
    assert read_277ca(written) == answers


# (case, line replaced, new text or None to drop it, segment named, line named)
MALFORMED = [
    ("a claim without its STC", 29, None, "TRN", 28),
    ("STC01 without a status code", 29, "STC*A2*20250313*WQ*35~", "STC", 29),
    ("a claim without its service date", 31, None, "TRN", 28),
    ("a claim level before its provider", 18, "HL*3*2*PT~", "NM1", 19),
    ("a date that is no date", 31, "DTP*472*D8*20250230~", "DTP", 31),
    # X214 STC01-1 and STC01-2 are each data element 1271: 1 to 30 characters (kept on the claim as sent)
    ("a status category over 30 characters", 29, f"STC*{'A' * 31}:20:PR*20250313*WQ*35~", "STC", 29),
    ("a status code over 30 characters", 29, f"STC*A2:{'2' * 31}:PR*20250313*WQ*35~", "STC", 29),
]


def test_a_status_category_of_up_to_30_characters_is_read_whole():
    text = with_line(TEXT, 29, f"STC*{'A' * 30}:20:PR*20250313*WQ*35~")
    categories = [s.category for answer in read_277ca(text) for claim in answer.claims for s in claim.statuses]
    assert "A" * 30 in categories


@pytest.mark.parametrize(("case", "number", "new", "segment", "line"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_a_malformed_acknowledgment_is_refused_naming_segment_and_line(case, number, new, segment, line):
    text = with_line(TEXT, number, new)
    if new is None:  # keep SE01 true, so the error is the guide's, not the count's
        text = text.replace("SE*51*0001~", "SE*50*0001~")
    with pytest.raises(X12Error) as refused:
        read_277ca(text)
    assert (refused.value.details["segment"], refused.value.details["line"]) == (segment, line)
