"""Recurrence rules: validation and expansion in facility wall time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.rules.recurrence import (
    expand_recurrence,
    facility_instant,
    recurrence_rule_problem,
    slot_problem,
    wall_anchor,
    wall_slot,
)

NY = "America/New_York"
PHOENIX = "America/Phoenix"


@pytest.mark.parametrize(
    "rule, fragment",
    [
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", None),
        ("RRULE:FREQ=DAILY;INTERVAL=2", None),
        ("FREQ=DAILY;BYHOUR=9", None),
        ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=17;BYMINUTE=30;BYSECOND=0", None),
        ("FREQ=DAILY;BYHOUR=9,13", "yields 2 starts a day"),
        ("FREQ=WEEKLY;BYDAY=TU;BYMINUTE=0,30", "yields 2 starts a day"),
        ("FREQ=DAILY;BYSECOND=0,30", "yields 2 starts a day"),
        ("FREQ=WEEKLY;BYHOUR=9,13;BYMINUTE=0,30", "yields 4 starts a day"),
        ("", "must not be empty"),
        ("FREQ=WEEKLY;" + "BYDAY=MO;" * 60, "at most 500 characters"),
        ("FREQ=HOURLY", "more frequent than DAILY"),
        ("FREQ=MINUTELY", "more frequent than DAILY"),
        ("FREQ=SOMETIMES", "FREQ must be one of"),
        ("DTSTART:20260105T090000\nRRULE:FREQ=DAILY", "no DTSTART"),
        ("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11;BYMINUTE=0,30,45", "yields 36 starts a day"),
    ],
)
def test_recurrence_rule_problem(rule, fragment):
    problem = recurrence_rule_problem(rule, datetime(2026, 1, 5, 9, tzinfo=timezone.utc))
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem


def starts(slots):
    return [(s.session_date.isoformat(), s.start_time.isoformat(), s.end_time.isoformat()) for s in slots]


@pytest.mark.parametrize(
    "rule, anchor, first, last, expected",
    [
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            datetime(2026, 1, 5, 9),
            date(2026, 1, 1),
            date(2026, 1, 11),
            [
                ("2026-01-05", "09:00:00", "12:00:00"),
                ("2026-01-07", "09:00:00", "12:00:00"),
                ("2026-01-09", "09:00:00", "12:00:00"),
            ],
        ),
        # The window is inclusive at both ends and never reaches before the anchor.
        (
            "FREQ=DAILY",
            datetime(2026, 1, 7, 9),
            date(2026, 1, 1),
            date(2026, 1, 8),
            [("2026-01-07", "09:00:00", "12:00:00"), ("2026-01-08", "09:00:00", "12:00:00")],
        ),
        (
            "FREQ=DAILY;COUNT=2",
            datetime(2026, 1, 1, 9),
            date(2026, 1, 1),
            date(2026, 1, 31),
            [("2026-01-01", "09:00:00", "12:00:00"), ("2026-01-02", "09:00:00", "12:00:00")],
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
            datetime(2026, 1, 6, 13, 30),
            date(2026, 1, 1),
            date(2026, 1, 31),
            [("2026-01-06", "13:30:00", "16:30:00"), ("2026-01-20", "13:30:00", "16:30:00")],
        ),
        ("FREQ=DAILY", datetime(2026, 1, 1, 9), date(2026, 2, 1), date(2026, 1, 1), []),
    ],
)
def test_expand_recurrence_in_wall_time(rule, anchor, first, last, expected):
    assert starts(expand_recurrence(rule, anchor, PHOENIX, first, last, 180, limit=1000)) == expected


def test_expansion_keeps_wall_time_across_spring_and_autumn_changes():
    spring = expand_recurrence("FREQ=DAILY", datetime(2026, 3, 6, 9), NY, date(2026, 3, 7), date(2026, 3, 9), 180, 1000)
    assert [s.start_time for s in spring] == [time(9)] * 3
    assert [s.starts_at.hour for s in spring] == [14, 13, 13]
    assert all(s.starts_at.tzinfo == timezone.utc for s in spring)
    autumn = expand_recurrence(
        "FREQ=DAILY", datetime(2026, 3, 6, 9), NY, date(2026, 10, 31), date(2026, 11, 2), 180, 1000
    )
    assert [s.starts_at.hour for s in autumn] == [13, 14, 14]
    assert [(s.ends_at - s.starts_at).seconds for s in autumn] == [3 * 3600] * 3


@pytest.mark.parametrize(
    "value, tz, expected",
    [
        # No offset: the facility's wall clock.
        (datetime(2026, 3, 2, 9, 0), PHOENIX, datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc)),
        (datetime(2026, 7, 6, 9, 0), NY, datetime(2026, 7, 6, 13, 0, tzinfo=timezone.utc)),
        (datetime(2026, 1, 5, 9, 0), NY, datetime(2026, 1, 5, 14, 0, tzinfo=timezone.utc)),
        # 02:30 on 8 March does not exist in New York: the clock reads 03:30 EDT.
        (datetime(2026, 3, 8, 2, 30), NY, datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)),
        # An offset: the same instant, in the facility's zone.
        (
            datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=-5))),
            PHOENIX,
            datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc),
        ),
        (datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc), NY, datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc)),
    ],
)
def test_facility_instant(value, tz, expected):
    instant = facility_instant(value, tz)
    assert instant == expected and instant.utcoffset() == expected.astimezone(ZoneInfo(tz)).utcoffset()


def test_expansion_stops_one_past_the_limit():
    slots = expand_recurrence(
        "FREQ=DAILY;BYHOUR=8,12,16",
        datetime(2026, 1, 1, 8),
        PHOENIX,
        date(2026, 1, 1),
        date(2026, 12, 31),
        60,
        limit=1000,
    )
    assert len(slots) == 1001


@pytest.mark.parametrize(
    "session_date, start, end, tz, problem",
    [
        (date(2026, 1, 7), time(9), time(12), PHOENIX, None),
        (date(2026, 1, 7), time(22), time(0), PHOENIX, "must end after it starts"),
        # 02:15 does not exist on 8 March in New York: the start is the real 03:15, after the end.
        (date(2026, 3, 8), time(2, 15), time(3, 0), NY, "must end after it starts"),
        (date(2026, 3, 8), time(1, 0), time(4, 0), NY, None),
    ],
)
def test_slot_problem(session_date, start, end, tz, problem):
    found = slot_problem(wall_slot(session_date, start, end, tz))
    assert (found is None) if problem is None else (problem in found)


def test_slots_past_midnight_are_refused():
    [slot] = expand_recurrence(
        "FREQ=DAILY", datetime(2026, 1, 1, 22), PHOENIX, date(2026, 1, 1), date(2026, 1, 1), 180, 10
    )
    assert "midnight" in slot_problem(slot)


def test_a_start_that_daylight_saving_skips_moves_to_the_real_time():
    slot = wall_slot(date(2026, 3, 8), time(2, 30), time(5, 0), NY)
    assert slot.start_time == time(3, 30)
    assert slot.starts_at == datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "recurrence_start, tz, wall",
    [
        (datetime(2026, 1, 6, 14, tzinfo=timezone.utc), NY, datetime(2026, 1, 6, 9)),
        (datetime(2026, 7, 6, 13, tzinfo=timezone.utc), NY, datetime(2026, 7, 6, 9)),
        (datetime(2026, 1, 6, 16, tzinfo=timezone.utc), PHOENIX, datetime(2026, 1, 6, 9)),
    ],
)
def test_wall_anchor_is_the_facility_clock(recurrence_start, tz, wall):
    assert wall_anchor(recurrence_start, tz) == wall


def _from_the_anchor(rule, anchor, tz_name, first, last, minutes):
    """The reference: every start from the anchor on, as the expansion worked before it started from the window."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from dateutil.rrule import rrulestr

    out = []
    for start in rrulestr(rule, dtstart=anchor.replace(tzinfo=ZoneInfo(tz_name))):
        if start.date() > last:
            break
        if start.date() >= first:
            out.append((start.date(), start.time(), (start + timedelta(minutes=minutes)).time()))
    return out


WINDOW_RULES = [
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
    "FREQ=WEEKLY;INTERVAL=3",
    "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,SA",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=DAILY;BYDAY=MO,TU;BYMONTH=3,11",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;INTERVAL=5",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=2",
    "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1,15",
    "FREQ=YEARLY",
    "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=YEARLY;BYWEEKNO=1,52;BYDAY=MO",
    "FREQ=YEARLY;BYYEARDAY=-1,100",
    "FREQ=DAILY;UNTIL=20310101T000000Z",
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=9,14;BYMINUTE=30",
    "FREQ=WEEKLY;COUNT=40;BYDAY=TU",
    "FREQ=MONTHLY;COUNT=7;BYMONTHDAY=31",
]


@pytest.mark.parametrize("rule", WINDOW_RULES)
@pytest.mark.parametrize(
    "anchor", [datetime(2019, 1, 31, 9, 30), datetime(2020, 2, 29, 17), datetime(2021, 12, 29, 2, 30)]
)
def test_expanding_from_the_window_gives_what_expanding_from_the_anchor_gives(rule, anchor):
    from datetime import timedelta

    for first in [date(2019, 1, 1), date(2020, 3, 2), date(2021, 12, 27), date(2024, 2, 26), date(2030, 12, 30)]:
        for days in (0, 6, 40, 366):
            last = first + timedelta(days=days)
            expected = _from_the_anchor(rule, anchor, NY, first, last, 60)
            got = [
                (s.session_date, s.start_time, s.end_time)
                for s in expand_recurrence(rule, anchor, NY, first, last, 60, 10_000)
            ]
            # DST: a start the clock skips moves to the real one, in both.
            assert [g[0] for g in got] == [e[0] for e in expected], (rule, anchor, first, last)


def test_a_week_centuries_after_the_anchor_expands_from_that_week():
    import time as clock

    started = clock.perf_counter()
    slots = expand_recurrence(
        "FREQ=WEEKLY;BYDAY=MO,WE,FR", datetime(1900, 1, 1, 9), PHOENIX, date(2199, 12, 23), date(2199, 12, 29), 180, 168
    )
    assert [s.session_date.isoformat() for s in slots] == ["2199-12-23", "2199-12-25", "2199-12-27"]
    assert clock.perf_counter() - started < 0.05


# Issue 25: rules whose parts each match but never meet (the INTERVAL keeps them apart), and walks
# that dateutil would take to year 9999 because it checks UNTIL and COUNT only on dates that match.
@pytest.mark.parametrize(
    "rule, anchor, refused",
    [
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", datetime(2026, 1, 5, 9), True),  # a Monday: every 7th day is a Monday
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=5", datetime(2026, 1, 5, 9), True),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=MO;COUNT=5", datetime(2026, 1, 5, 9), False),
        ("FREQ=DAILY;INTERVAL=14;BYDAY=SA", datetime(2026, 1, 5, 9), True),
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTH=2", datetime(2026, 1, 5, 9), True),  # always January
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTH=1", datetime(2026, 1, 5, 9), False),
        ("FREQ=WEEKLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", datetime(2026, 1, 5, 9), True),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", datetime(1900, 1, 1, 9), False),  # 1904, 1932, ...
        ("FREQ=YEARLY;INTERVAL=40;BYMONTH=2;BYMONTHDAY=29", datetime(2026, 1, 5, 9), True),  # 2026, 2066: no leap
    ],
)
def test_a_rule_with_no_start_within_the_horizon_is_refused_naming_it(rule, anchor, refused):
    import time as clock

    started = clock.perf_counter()
    problem = recurrence_rule_problem(rule, anchor)
    assert clock.perf_counter() - started < 2.0  # each walk stops at the horizon, never at year 9999
    if refused:
        assert problem is not None and rule in problem and "30 years" in problem, problem
    else:
        assert problem is None, problem


@pytest.mark.parametrize(
    "rule",
    [
        # Stored before the check (or ended by UNTIL): past the window nothing matches again.
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;UNTIL=20500101T000000Z",
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=2",
    ],
)
def test_an_expansion_walks_no_further_than_its_window(rule):
    import time as clock

    started = clock.perf_counter()
    for first in (date(2026, 1, 5), date(2199, 6, 3), date(9000, 1, 1)):
        assert expand_recurrence(rule, datetime(2026, 1, 5, 9), PHOENIX, first, first + timedelta(days=6), 60, 10) == []
    assert clock.perf_counter() - started < 0.5  # dateutil alone walked to 9999: 0.86 s each
