"""A patient's attendance history: minutes, tallies, attendance rate, the date range."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from app.rules.history import (
    MAX_HISTORY_DAYS,
    TallyBucket,
    history_range,
    history_range_problem,
    local_day_bounds,
    minutes_attended,
    tally_attendance,
)

START = datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc)
IOP, SKILLS = uuid.UUID(int=1), uuid.UUID(int=2)


@pytest.mark.parametrize(
    ("status", "cancelled", "minutes"),
    [
        ("ATTENDED", False, 180),
        ("LATE", False, 180),  # no arrival time is recorded: a late arrival counts the session
        ("ABSENT", False, 0),
        ("SCHEDULED", False, 0),
        ("ATTENDED", True, 0),  # a cancelled session was not held
    ],
)
def test_minutes_attended(status, cancelled, minutes):
    assert minutes_attended(status, START, START + timedelta(minutes=180), cancelled) == minutes


def test_tallies_per_group_with_rate_over_marked_sessions():
    tallies = tally_attendance(
        [
            TallyBucket(IOP, "IOP Mornings", "ATTENDED", False, 6, 6 * 180),
            TallyBucket(IOP, "IOP Mornings", "LATE", False, 2, 2 * 180),
            TallyBucket(IOP, "IOP Mornings", "ABSENT", False, 2, 2 * 180),
            TallyBucket(IOP, "IOP Mornings", "SCHEDULED", False, 3, 3 * 180),
            TallyBucket(IOP, "IOP Mornings", "ATTENDED", True, 1, 180),
            TallyBucket(SKILLS, "Skills", "SCHEDULED", False, 4, 240),
            TallyBucket(None, "Drop-in", "LATE", False, 1, 45),
        ]
    )
    iop, skills, adhoc = tallies
    assert (iop.attended, iop.late, iop.absent, iop.unmarked, iop.cancelled, iop.sessions) == (6, 2, 2, 3, 1, 14)
    assert iop.attendance_rate == pytest.approx(0.8)  # (6 + 2) / (6 + 2 + 2)
    assert iop.minutes_attended == 8 * 180
    assert skills.attendance_rate is None and skills.minutes_attended == 0  # nothing marked yet
    assert (adhoc.group_id, adhoc.title, adhoc.late, adhoc.attendance_rate, adhoc.minutes_attended) == (
        None,
        "Drop-in",
        1,
        1.0,
        45,
    )


def test_a_group_of_absences_only_has_rate_zero():
    (tally,) = tally_attendance([TallyBucket(IOP, "IOP", "ABSENT", False, 3, 540)])
    assert tally.attendance_rate == 0.0


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        (None, None, (date(2025, 11, 30), date(2026, 11, 29))),  # the year up to today
        (date(2026, 1, 1), None, (date(2026, 1, 1), date(2026, 12, 31))),
        (None, date(2026, 6, 30), (date(2025, 7, 1), date(2026, 6, 30))),
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 3, 1), date(2026, 3, 31))),
    ],
)
def test_history_range_defaults_to_a_year(date_from, date_to, expected):
    assert history_range(date_from, date_to, today=date(2026, 11, 29)) == expected


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (date(2026, 3, 1), date(2026, 3, 1), None),
        (date(2026, 3, 2), date(2026, 3, 1), "to must not be before from"),
        (date(2023, 1, 1), date(2023, 1, 1) + timedelta(days=MAX_HISTORY_DAYS - 1), None),
        (
            date(2023, 1, 1),
            date(2023, 1, 1) + timedelta(days=MAX_HISTORY_DAYS),
            f"the date range may span at most {MAX_HISTORY_DAYS} days",
        ),
    ],
)
def test_history_range_problem(start, end, problem):
    assert history_range_problem(start, end) == problem


def test_local_day_bounds_follow_the_facility_zone_across_dst():
    first, after_last = local_day_bounds(date(2026, 3, 8), date(2026, 3, 8), "America/New_York")
    assert first.astimezone(timezone.utc) == datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc)
    assert after_last.astimezone(timezone.utc) == datetime(2026, 3, 9, 4, 0, tzinfo=timezone.utc)  # a 23-hour day
