"""The per-diem rule: a patient's program day, its present hours across sessions (overlaps once), settled or
not, and whether it reaches the payer's minimum."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.rules.program_billing import (
    DayDecision,
    ProgramRule,
    ProgramStay,
    anchor_session,
    below_minimum_issue,
    local_day,
    present_hours,
    program_day,
    program_rule_problems,
)

PHOENIX = ZoneInfo("America/Phoenix")
NEW_YORK = ZoneInfo("America/New_York")
IOP = ProgramRule("IOP", "S9480", ("HQ",), Decimal("180.00"), Decimal("3"))


def at(hour: int, minute: int = 0, day: int = 10, zone=PHOENIX) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=zone)


def stay(start: datetime, hours: float, status="ATTENDED", *, arrived=None, departed=None, settled=True,
         cancelled=False, pk: int = 0) -> ProgramStay:  # fmt: skip
    return ProgramStay(uuid.UUID(int=pk or int(start.timestamp())), start, start + timedelta(hours=hours), status,
                       arrived, departed, settled, cancelled)  # fmt: skip


@pytest.mark.parametrize(
    ("stays", "hours", "decision"),
    [
        # one three-hour session: exactly the minimum
        ([stay(at(9), 3)], 3.0, DayDecision.BILL),
        # a day split across two groups, 9-10:30 and 13-14:30
        ([stay(at(9), 1.5), stay(at(13), 1.5)], 3.0, DayDecision.BILL),
        # overlapping sessions count their overlap once: 9-11 and 10-12 are 3 hours, not 4
        ([stay(at(9), 2), stay(at(10), 2)], 3.0, DayDecision.BILL),
        # overlapping and short: 9-10:30 and 10-11 are 2 hours
        ([stay(at(9), 1.5), stay(at(10), 1)], 2.0, DayDecision.BELOW_MINIMUM),
        # partial attendance: arrived 9:45 and left 11:30 of 9-12
        ([stay(at(9), 3, "LATE", arrived=at(9, 45), departed=at(11, 30))], 1.75, DayDecision.BELOW_MINIMUM),
        # left early from the second of two groups
        ([stay(at(9), 1.5), stay(at(13), 1.5, departed=at(14))], 2.5, DayDecision.BELOW_MINIMUM),
        # absent from one of two: the other alone counts
        ([stay(at(9), 1.5, "ABSENT"), stay(at(13), 3)], 3.0, DayDecision.BILL),
        # a cancelled session counts nothing and waits for nothing
        ([stay(at(9), 3, cancelled=True, settled=False), stay(at(13), 1.5)], 1.5, DayDecision.BELOW_MINIMUM),
        # absent all day: nothing to bill or say
        ([stay(at(9), 1.5, "ABSENT"), stay(at(13), 1.5, "ABSENT")], 0.0, DayDecision.ABSENT),
        # the day's second group not billed yet: wait, whatever the hours so far
        ([stay(at(9), 3), stay(at(13), 1.5, settled=False)], 4.5, DayDecision.WAIT),
        # DST: New York springs forward on 8 March 2026 at 2:00; 00:30-04:30 on the wall is 3 hours elapsed
        ([ProgramStay(uuid.UUID(int=3), at(0, 30, day=8, zone=NEW_YORK), at(4, 30, day=8, zone=NEW_YORK),
                      "ATTENDED")], 3.0, DayDecision.BILL),
        ([ProgramStay(uuid.UUID(int=1), at(0, 30, day=8, zone=NEW_YORK), at(3, 0, day=8, zone=NEW_YORK),
                      "ATTENDED")], 1.5, DayDecision.BELOW_MINIMUM),  # 00:30-03:00 on the wall: 1.5 hours
        # DST in autumn: 1 November 2026, 00:30-03:00 on the wall is 3.5 hours elapsed
        ([ProgramStay(uuid.UUID(int=2), datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK),
                      datetime(2026, 11, 1, 3, 0, tzinfo=NEW_YORK), "ATTENDED")], 3.5, DayDecision.BILL),
    ],
)  # fmt: skip
def test_a_patients_program_day(stays, hours, decision):
    day = program_day(stays, IOP)
    assert (day.hours, day.decision) == (hours, decision)
    assert present_hours(stays) == hours


def test_the_minimum_is_the_payers():
    stays = [stay(at(9), 2)]
    assert program_day(stays, IOP).decision is DayDecision.BELOW_MINIMUM
    php = ProgramRule("PHP", "H0035", (), Decimal("300"), Decimal("2"))
    assert program_day(stays, php).decision is DayDecision.BILL


def test_below_the_minimum_names_the_hours():
    issue = below_minimum_issue(uuid.UUID(int=5), program_day([stay(at(9), 2.5)], IOP), "IOP")
    assert issue.code == "BELOW_PROGRAM_MINIMUM" and issue.severity == "WARNING"
    assert "present 2.5 of the 3 IOP hours" in issue.message and issue.roster_entry_ids == (uuid.UUID(int=5),)


def test_the_day_hangs_on_its_last_live_session_in_the_facilitys_day():
    first, last = stay(at(9), 1.5, pk=1), stay(at(13), 1.5, pk=2)
    assert anchor_session([last, first]) == last.session_id
    assert anchor_session([first, stay(at(15), 1, cancelled=True, pk=3)]) == first.session_id
    assert local_day(datetime.fromisoformat("2026-03-11T05:30:00+00:00"), "America/Phoenix").isoformat() == "2026-03-10"


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({}, None),
        ({"program": "THERAPY"}, "program must be one of IOP, PHP"),
        ({"procedure_code": "S948"}, "not a procedure code"),
        ({"modifiers": ("H",)}, "modifiers"),
        ({"minimum_hours": Decimal(0)}, "minimumHours"),
        ({"rate": Decimal(-1)}, "rate"),
    ],
)
def test_what_a_program_rule_may_hold(values, problem):
    given = {"program": "IOP", "procedure_code": "S9480", "modifiers": ("HQ",), "rate": Decimal("180"),
             "minimum_hours": Decimal("3"), **values}  # fmt: skip
    problems = program_rule_problems(**given)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
