"""Eligibility (005010X279A1): the 270 written for a member, a date and service types; the 271 read for
active or inactive coverage, plan dates, copay and coinsurance per service type, and AAA rejections."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from app.errors import BadInput
from app.rules.edi.edi270 import EligibilityInquiry, inquiry_problems, read_270, render_270
from app.rules.edi.edi271 import (
    Benefit,
    CoverageStatus,
    DatedQualifier,
    EligibilityResponse,
    RequestRejection,
    read_271,
    render_271,
)
from app.rules.edi.x12 import Envelope, Party, Person, X12Error
from tests.rules.edi_support import envelope, fixture, with_line
from tests.support.x12 import pyx12_errors

ANSWERS = fixture("271_active_inactive_not_found.x12")
SESSION_DAY = date(2025, 3, 12)
INQUIRY = EligibilityInquiry(
    reference="ELIG0001",
    created_at=datetime(2025, 3, 10, 9, 0),
    payer=Party("AHCCCS", "866004791"),
    provider=Party("SUNRISE BEHAVIORAL HEALTH", "1234567893"),
    subscriber=Person("DOE", "JANE", "A12345678"),
    trace_number="ELIG0001-1",
    originator="1861234567",
    service_date=SESSION_DAY,
    service_types=("30", "MH", "AI"),
    date_of_birth=date(1980, 5, 1),
    sex="F",
)
CLINIC = Envelope("SUNRISEBH", "AHCCCS", 7001, datetime(2025, 3, 10, 9, 0), "", "")


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


@pytest.mark.parametrize("name", ["270_inquiry.x12", "271_active_inactive_not_found.x12"])
def test_the_fixtures_are_pyx12_clean(name):
    assert pyx12_errors(fixture(name)) == []


def test_pyx12_with_the_eligibility_maps_catches_a_wrong_code():
    assert pyx12_errors(ANSWERS.replace("EB*6*IND*30*MC", "EB*Z*IND*30*MC")) != []


def test_the_inquiry_for_a_member_a_day_and_behavioral_health_service_types():
    written = render_270(CLINIC, [INQUIRY])
    assert pyx12_errors(written) == []
    assert "EQ*MH~" in written and "EQ*AI~" in written and "DTP*291*D8*20250312~" in written
    assert read_270(written) == (INQUIRY,)


def test_the_x279a1_section_3_inquiry_reads():
    (inquiry,) = read_270(fixture("270_inquiry.x12"))
    assert inquiry.subscriber == Person("DOE", "JANE", "A12345678") and inquiry.service_types == ("30", "MH")
    assert (inquiry.trace_number, inquiry.originator, inquiry.service_date) == (
        "93175-012547", "9877281234", SESSION_DAY
    )  # fmt: skip


# (case, the inquiry changed, what is refused)
BAD_INQUIRIES = [
    ("no service type", {"service_types": ()}, "1 to 99 service types"),
    ("a service type that is no code", {"service_types": ("MENTAL",)}, "'MENTAL' is not a service type code"),
    ("an originator of the wrong length", {"originator": "186123"}, "TRN03 is ten characters"),
    ("no member id", {"subscriber": Person("DOE", "JANE", " ")}, "the member id is required"),
]


@pytest.mark.parametrize(("case", "changes", "says"), BAD_INQUIRIES, ids=[c[0] for c in BAD_INQUIRIES])
def test_an_inquiry_the_guide_refuses_is_not_written(case, changes, says):
    inquiry = replace(INQUIRY, **changes)
    assert any(says in p for p in inquiry_problems(inquiry))
    with pytest.raises(BadInput, match=says):
        render_270(CLINIC, [inquiry])


def answers() -> dict[str, EligibilityResponse]:
    return {a.subscriber.member_id: a for a in read_271(ANSWERS) if a.subscriber}


# (member, status, coverage period, plan, MH copay, MH coinsurance, AI copay, rejections)
MEMBERS = [
    (
        "A12345678", CoverageStatus.ACTIVE, (date(2025, 1, 1), date(2025, 12, 31)), "AHCCCS COMPLETE CARE",
        Decimal(0), Decimal("0.2"), Decimal(5), [],
    ),
    ("B12345678", CoverageStatus.INACTIVE, (date(2024, 1, 1), date(2025, 1, 31)), None, None, None, None, []),
    ("Z00000000", CoverageStatus.UNKNOWN, (None, None), None, None, None, None, ["75"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("member", "status", "period", "plan", "mh_copay", "mh_coinsurance", "ai_copay", "rejections"), MEMBERS
)
def test_each_members_answer_x279a1_section_3(
    member, status, period, plan, mh_copay, mh_coinsurance, ai_copay, rejections
):
    answer = answers()[member]
    assert answer.status is status and answer.coverage_period == period and answer.plan_name == plan
    assert answer.copay("MH") == mh_copay and answer.coinsurance("MH") == mh_coinsurance
    assert answer.copay("AI") == ai_copay
    assert [r.reason for r in answer.rejections] == rejections
    assert answer.trace_numbers[0].startswith("93175-01254") and answer.originator == "9877281234"


def test_a_rejection_reads_as_text():
    (rejection,) = answers()["Z00000000"].rejections
    assert rejection == RequestRejection("2100C", False, "75", "C")
    assert rejection.text == "Subscriber/Insured Not Found (Please Correct and Resubmit)"


def test_benefit_limits_and_messages_are_kept():
    limit = next(b for b in answers()["A12345678"].benefits if b.code == "F")
    assert limit.service_types == ("A6",) and limit.time_period == "23" and limit.text == "Limitations"
    assert limit.authorization_required == "Y"
    assert limit.messages == ("PRIOR AUTHORIZATION REQUIRED FOR IOP AND PHP",)


def test_service_types_repeated_in_one_eb_are_each_covered():
    text = ANSWERS.replace("EB*1*IND*MH*MC~", "EB*1*IND*MH^AI^A6*MC~")
    active = next(b for b in answers_of(text)["A12345678"].benefits if b.code == "1" and b.covers("AI"))
    assert active.service_types == ("MH", "AI", "A6")


def answers_of(text: str) -> dict[str, EligibilityResponse]:
    return {a.subscriber.member_id: a for a in read_271(text) if a.subscriber}


def test_an_out_of_network_copay_is_used_only_when_no_in_network_one_is_given():
    text = ANSWERS.replace("EB*B*IND*MH*MC**27*0*****Y~", "EB*B*IND*MH*MC**27*40*****N~")
    assert answers_of(text)["A12345678"].copay("MH") == Decimal(40)


def test_the_plan_wide_answer_stands_for_a_service_type_not_named():
    text = ANSWERS.replace("EB*B*IND*AI*MC**27*5*****Y~", "EB*B*IND*30*MC**27*15*****Y~")
    assert answers_of(text)["A12345678"].copay("AI") == Decimal(15)


def test_the_answer_written_reads_back_and_pyx12_accepts_it():
    written_answers = [replace(a, created_at=datetime(2025, 3, 10, 13, 20)) for a in read_271(ANSWERS) if a.subscriber]
    written = render_271(envelope(), written_answers)
    assert pyx12_errors(written) == []
    assert {a.subscriber.member_id: a.status for a in read_271(written) if a.subscriber} == {
        "A12345678": CoverageStatus.ACTIVE,
        "B12345678": CoverageStatus.INACTIVE,
        "Z00000000": CoverageStatus.UNKNOWN,
    }


def test_a_written_answer_with_repeated_service_types_has_one_eb_for_each():
    answer = EligibilityResponse(
        "ELIG0001", datetime(2025, 3, 10, 9, 1), INQUIRY.payer, INQUIRY.provider, INQUIRY.subscriber,
        ("ELIG0001-1",), (DatedQualifier("291", date(2025, 1, 1), date(2025, 12, 31)),),
        (Benefit("1", ("30", "MH", "AI"), "IND", "MC", "PLAN"),), originator="1861234567",
    )  # fmt: skip
    written = render_271(envelope(), [answer])
    assert pyx12_errors(written) == []
    (read,) = read_271(written)
    assert [b.service_types for b in read.benefits] == [("30",), ("MH",), ("AI",)]
    assert read.coverage_period == (date(2025, 1, 1), date(2025, 12, 31))


# (case, line replaced, new text, segment named, line named)
MALFORMED = [
    ("an EB before the subscriber", 9, "EB*1*IND*30~", "EB", 9),
    ("a coinsurance above 100%", 20, "EB*A*IND*MH*MC**27**20****N~", "EB", 20),
    ("a plan date that is no range", 16, "DTP*291*RD8*20251231-20250101~", "DTP", 16),
    ("an AAA without its reason", 33, "AAA*N***C~", "AAA", 33),
]


@pytest.mark.parametrize(("case", "number", "new", "segment", "line"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_a_malformed_answer_is_refused_naming_segment_and_line(case, number, new, segment, line):
    with pytest.raises(X12Error) as refused:
        read_271(with_line(ANSWERS, number, new))
    assert (refused.value.details["segment"], refused.value.details["line"]) == (segment, line)
