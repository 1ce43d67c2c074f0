"""Eligibility: the 270 asked for a member, what its 271 means, and the preview's coverage issues."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from app.payer_sim import Policy, answer_inquiries
from app.rules.billing import Coverage, RosterEntry
from app.rules.edi.edi270 import render_270
from app.rules.edi.edi271 import read_271
from app.rules.edi.x12 import Envelope, Party
from app.rules.eligibility import (
    CostSharing,
    CoverageAnswer,
    CoverageFacts,
    Member,
    answer_for,
    coverage_issues,
    facts_of,
    inquiry_for,
    split_name,
)

DAY = date(2026, 3, 10)
CHECK = uuid.UUID(int=7)


def asked(member_id: str, policy: Policy):
    inquiry = inquiry_for(
        Member("Rivera, Ana", member_id, date(1980, 5, 17), "F"), service_date=DAY,
        payer=Party("AHCCCS", "AHCCCS1"), provider=Party("DESERT BLOOM", "1234567893"), check_id=CHECK,
        at=datetime(2026, 3, 9, 6, tzinfo=timezone.utc),
    )  # fmt: skip
    sent = render_270(Envelope("861234567", "AHCCCS1", 17, inquiry.created_at, "", ""), [inquiry])
    return answer_for(read_271(answer_inquiries(sent, policy)), CHECK)


@pytest.mark.parametrize(
    ("policy", "status", "plan", "period", "sharing", "rejected"),
    [
        (Policy(), CoverageAnswer.ACTIVE, "BEHAVIORAL HEALTH PLAN", (date(2026, 1, 1), date(2026, 12, 31)),
         (CostSharing("MH", Decimal("5"), Decimal("0.2")), CostSharing("AI", Decimal("5"), Decimal("0.2"))), False),
        (Policy(inactive_members=frozenset({"M1"})), CoverageAnswer.INACTIVE, None,
         (date(2025, 1, 1), date(2026, 2, 28)), (), False),
        (Policy(unknown_members=frozenset({"M1"})), CoverageAnswer.UNKNOWN, None, (None, None), (), True),
    ],
)  # fmt: skip
def test_a_271_answer_as_the_clinic_keeps_it(policy, status, plan, period, sharing, rejected):
    facts = facts_of(asked("M1", policy))
    assert (facts.status, facts.plan_name, (facts.coverage_from, facts.coverage_to)) == (status, plan, period)
    assert facts.cost_sharing == sharing
    assert (facts.rejection is not None) == rejected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Rivera, Ana", ("Rivera", "Ana")), ("Ana Maria Rivera", ("Rivera", "Ana Maria")), ("Cher", ("Cher", ""))],
)
def test_a_name_splits_into_last_and_first(name, expected):
    assert split_name(name) == expected


PATIENT = uuid.UUID(int=100)
ENTRY = uuid.UUID(int=200)
COVERED = (Coverage("P", "P1", 1, date(2020, 1, 1)),)


@pytest.mark.parametrize(
    ("status", "answer", "required", "expected"),
    [
        ("SCHEDULED", CoverageAnswer.INACTIVE, False, [("COVERAGE_INACTIVE", "BLOCKING")]),
        ("ATTENDED", CoverageAnswer.INACTIVE, True, [("COVERAGE_INACTIVE", "BLOCKING")]),
        ("ABSENT", CoverageAnswer.INACTIVE, True, []),  # not billed: no matter
        ("ATTENDED", CoverageAnswer.ACTIVE, True, []),
        ("ATTENDED", None, True, [("COVERAGE_NOT_VERIFIED", "WARNING")]),
        ("ATTENDED", CoverageAnswer.UNKNOWN, True, [("COVERAGE_NOT_VERIFIED", "WARNING")]),
        ("ATTENDED", None, False, []),
    ],
)
def test_the_previews_coverage_issues(status, answer, required, expected):
    member = RosterEntry(ENTRY, status, COVERED)
    answers = {} if answer is None else {(PATIENT, "P"): answer}
    facts = CoverageFacts(answers, frozenset({"P"}) if required else frozenset())
    issues = coverage_issues([member], {ENTRY: PATIENT}, facts, DAY)
    assert [(i.code.value, i.severity.value) for i in issues] == expected
    assert all(i.roster_entry_ids == (ENTRY,) for i in issues)
