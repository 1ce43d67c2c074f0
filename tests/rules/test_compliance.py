"""IOP/PHP compliance over a Monday–Sunday week."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.rules.compliance import ComplianceThresholds, evaluate_compliance, session_hours, union_hours, week_start

IOP = ComplianceThresholds(hours_per_week=9, days_per_week=3, hours_per_day=3)
PHP = ComplianceThresholds(hours_per_week=20, days_per_week=5, hours_per_day=None)
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 1, d) for d in range(5, 12))


def gaps(result):
    return [(g.requirement, g.required, g.actual, g.short_by, g.date, g.message) for g in result.gaps]


@pytest.mark.parametrize(
    "sessions, expected_gaps",
    [
        # exactly 9 hours over three 3-hour days
        ([(MON, 3), (WED, 3), (FRI, 3)], []),
        ([(MON, 4), (WED, 4), (FRI, 4), (SAT, 3)], []),
        # a 2-hour day: short on that day and on the week
        (
            [(MON, 3), (WED, 2), (FRI, 3)],
            [
                ("HOURS_PER_WEEK", 9, 8, 1, None, "Need 1 more hour/week"),
                ("HOURS_PER_DAY", 3, 2, 1, WED, "Need 1 more hour on 2026-01-07"),
            ],
        ),
        # two sessions on one day add up to one session day
        ([(MON, 1.5), (MON, 1.5), (WED, 3), (FRI, 3)], []),
        (
            [(MON, 3), (WED, 3)],
            [
                ("HOURS_PER_WEEK", 9, 6, 3, None, "Need 3 more hours/week"),
                ("DAYS_PER_WEEK", 3, 2, 1, None, "Need 1 more day/week"),
            ],
        ),
        (
            [],
            [
                ("HOURS_PER_WEEK", 9, 0, 9, None, "Need 9 more hours/week"),
                ("DAYS_PER_WEEK", 3, 0, 3, None, "Need 3 more days/week"),
            ],
        ),
        (
            [(MON, 2.5), (TUE, 2.5), (WED, 2.5), (THU, 2.5)],
            [
                ("HOURS_PER_DAY", 3, 2.5, 0.5, MON, "Need 0.5 more hours on 2026-01-05"),
                ("HOURS_PER_DAY", 3, 2.5, 0.5, TUE, "Need 0.5 more hours on 2026-01-06"),
                ("HOURS_PER_DAY", 3, 2.5, 0.5, WED, "Need 0.5 more hours on 2026-01-07"),
                ("HOURS_PER_DAY", 3, 2.5, 0.5, THU, "Need 0.5 more hours on 2026-01-08"),
            ],
        ),
        # sessions of the week before and after do not count
        (
            [(date(2026, 1, 4), 3), (MON, 3), (WED, 3), (date(2026, 1, 12), 3)],
            [
                ("HOURS_PER_WEEK", 9, 6, 3, None, "Need 3 more hours/week"),
                ("DAYS_PER_WEEK", 3, 2, 1, None, "Need 1 more day/week"),
            ],
        ),
    ],
)
def test_iop_week(sessions, expected_gaps):
    result = evaluate_compliance("IOP", IOP, sessions, week_of=WED)
    assert gaps(result) == expected_gaps
    assert result.status == ("NON_COMPLIANT" if expected_gaps else "COMPLIANT")
    assert result.week_start == MON


def test_iop_totals():
    result = evaluate_compliance("IOP", IOP, [(MON, 3), (WED, 2), (FRI, 3.5)], week_of=SUN)
    assert (result.hours_per_week, result.days_per_week, result.min_hours_per_session_day) == (8.5, 3, 2)
    assert evaluate_compliance("IOP", IOP, [], week_of=SUN).min_hours_per_session_day is None


@pytest.mark.parametrize(
    "sessions, expected_gaps",
    [
        ([(d, 4) for d in (MON, TUE, WED, THU, FRI)], []),
        # short days are no gap for PHP: only the week's hours and days count
        ([(d, 5) for d in (MON, TUE, WED, THU)] + [(FRI, 1)], []),
        (
            [(d, 4) for d in (MON, TUE, WED, THU)],
            [
                ("HOURS_PER_WEEK", 20, 16, 4, None, "Need 4 more hours/week"),
                ("DAYS_PER_WEEK", 5, 4, 1, None, "Need 1 more day/week"),
            ],
        ),
        ([(d, 3) for d in (MON, TUE, WED, THU, FRI)], [("HOURS_PER_WEEK", 20, 15, 5, None, "Need 5 more hours/week")]),
    ],
)
def test_php_week(sessions, expected_gaps):
    result = evaluate_compliance("PHP", PHP, sessions, week_of=MON)
    assert gaps(result) == expected_gaps


def test_a_cancelled_session_does_not_count():
    utc = timezone.utc
    occurrences = [
        (MON, datetime(2026, 1, 5, 16, tzinfo=utc), datetime(2026, 1, 5, 19, tzinfo=utc), None),
        (WED, datetime(2026, 1, 7, 16, tzinfo=utc), datetime(2026, 1, 7, 19, tzinfo=utc), None),
        (
            FRI,
            datetime(2026, 1, 9, 16, tzinfo=utc),
            datetime(2026, 1, 9, 19, tzinfo=utc),
            datetime(2026, 1, 2, tzinfo=utc),
        ),
    ]
    result = evaluate_compliance("IOP", IOP, session_hours(occurrences), week_of=MON)
    assert [g.message for g in result.gaps] == ["Need 3 more hours/week", "Need 1 more day/week"]


def test_a_week_crossing_a_dst_change_counts_real_hours():
    # Week of Monday 2 March 2026 in New York; the clocks go forward early on Sunday 8 March.
    ny = ZoneInfo("America/New_York")

    def session(day: int, start: int, end: int):
        return (
            date(2026, 3, day),
            datetime(2026, 3, day, start, tzinfo=ny),
            datetime(2026, 3, day, end, tzinfo=ny),
            None,
        )

    occurrences = [session(2, 9, 12), session(4, 9, 12), session(8, 9, 12)]
    result = evaluate_compliance("IOP", IOP, session_hours(occurrences), week_of=date(2026, 3, 8))
    assert result.week_start == date(2026, 3, 2)
    assert (result.hours_per_week, result.days_per_week, result.status) == (9, 3, "COMPLIANT")
    # 01:00 to 04:00 on the change day is two hours of programming, not three.
    short = session_hours([session(8, 1, 4)])
    assert short == [(date(2026, 3, 8), 2.0)]


@pytest.mark.parametrize(
    "day, monday",
    [
        (date(2026, 1, 5), date(2026, 1, 5)),
        (date(2026, 1, 11), date(2026, 1, 5)),
        (date(2026, 1, 1), date(2025, 12, 29)),
    ],
)
def test_week_start_is_monday(day, monday):
    assert week_start(day) == monday


def _at(hour: float, day: int = 5) -> datetime:
    return datetime(2026, 1, day, int(hour), int(hour % 1 * 60), tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "intervals, hours",
    [
        ([], 0.0),
        ([(_at(13), _at(14))], 1.0),
        ([(_at(13), _at(14)), (_at(13.5), _at(14.5))], 1.5),  # the example: 1.5 h, not 2
        ([(_at(13.5), _at(14.5)), (_at(13), _at(14))], 1.5),  # order does not matter
        ([(_at(13), _at(14)), (_at(14), _at(15))], 2.0),  # touching: no overlap to drop
        ([(_at(9), _at(12)), (_at(10), _at(11))], 3.0),  # one inside another
        ([(_at(9), _at(12)), (_at(9), _at(12))], 3.0),  # the same time twice
        ([(_at(9), _at(10)), (_at(11), _at(12)), (_at(9.5), _at(11.5))], 3.0),  # a bridge joins two
        ([(_at(9), _at(10)), (_at(13), _at(14))], 2.0),  # apart
        ([(_at(10), _at(9))], 0.0),  # an empty or backwards interval adds nothing
    ],
)
def test_union_hours(intervals, hours):
    assert union_hours(intervals) == hours


def test_overlapping_occurrences_on_one_day_count_their_union():
    occurrences = [
        (MON, _at(13), _at(14), None),
        (MON, _at(13.5), _at(14.5), None),
        (MON, _at(16), _at(17), datetime(2026, 1, 2, tzinfo=timezone.utc)),  # cancelled: not counted
        (WED, _at(9, 7), _at(12, 7), None),
    ]
    assert session_hours(occurrences) == [(MON, 1.5), (WED, 3.0)]
    result = evaluate_compliance("IOP", IOP, session_hours(occurrences), week_of=MON)
    assert (result.hours_per_week, result.days_per_week) == (4.5, 2)
    assert ("HOURS_PER_DAY", 3.0, 1.5, 1.5, MON, "Need 1.5 more hours on 2026-01-05") in gaps(result)
