"""VTIMEZONE with yearly rules: the offsets it gives agree with the IANA zone at every hour of its
span, each yearly change is one RRULE (open-ended while the rule holds), and any other change is an
RDATE line of its own."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from app.rules.vtimezone import YearlyRule, rules_of, vtimezone


def observances(component: icalendar.Timezone) -> list[tuple[str, str, str, str]]:
    """(kind, DTSTART, RRULE, offset to) of each observance, as written."""
    return [
        (
            sub.name,
            _text(sub["DTSTART"].to_ical()),
            _text(sub["RRULE"].to_ical()) if "RRULE" in sub else "",
            _text(sub["TZOFFSETTO"].to_ical()),
        )
        for sub in component.subcomponents
    ]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@pytest.mark.parametrize(
    ("tzid", "first", "last"),
    [
        ("America/New_York", 2025, 2032),
        ("America/Phoenix", 2025, 2032),
        ("America/New_York", 2005, 2010),  # the 2007 change of the US rule
        ("America/Mexico_City", 2020, 2026),  # DST abolished after 2022
        ("Europe/London", 2025, 2029),  # the last Sunday
        ("Australia/Sydney", 2025, 2029),  # southern hemisphere
        ("Australia/Lord_Howe", 2025, 2028),  # a half-hour change
        ("Africa/Casablanca", 2024, 2028),  # changes that follow no yearly rule
        ("Asia/Kolkata", 2025, 2027),
    ],
)
def test_the_vtimezone_gives_the_zones_offset_at_every_hour(tzid, first, last):
    written = vtimezone(tzid, date(first, 1, 1), date(last, 1, 1)).to_ical()
    read = icalendar.Timezone.from_ical(written).to_tz()
    zone = ZoneInfo(tzid)
    at, end = datetime(first, 1, 1, 12, tzinfo=timezone.utc), datetime(last - 1, 12, 31, tzinfo=timezone.utc)
    wrong = []
    while at < end:
        if at.astimezone(read).utcoffset() != at.astimezone(zone).utcoffset():
            wrong.append(at)
        at += timedelta(minutes=60)
    assert wrong == []


def test_new_york_changes_by_two_open_ended_yearly_rules():
    component = vtimezone("America/New_York", date(2025, 1, 1), date(2031, 1, 1))
    assert observances(component) == [
        ("STANDARD", "20250101T000000", "", "-0500"),
        ("DAYLIGHT", "20250309T020000", "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", "-0400"),
        ("STANDARD", "20251102T020000", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", "-0500"),
    ]
    assert b"RDATE" not in component.to_ical()


def test_a_zone_without_daylight_saving_has_one_observance():
    assert observances(vtimezone("America/Phoenix", date(2025, 1, 1), date(2031, 1, 1))) == [
        ("STANDARD", "20250101T000000", "", "-0700")
    ]


def test_a_rule_that_ended_stops_at_its_last_change():
    component = vtimezone("America/New_York", date(2005, 1, 1), date(2010, 1, 1))
    rules = [rule for _, _, rule, _ in observances(component) if rule]
    assert rules == [
        "FREQ=YEARLY;UNTIL=20060402T070000Z;BYDAY=1SU;BYMONTH=4",
        "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
        "FREQ=YEARLY;UNTIL=20061029T060000Z;BYDAY=-1SU;BYMONTH=10",  # the last Sunday, not the fifth
        "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
    ]
    ended = vtimezone("America/Mexico_City", date(2020, 1, 1), date(2026, 1, 1))
    assert all("UNTIL=2022" in rule for _, _, rule, _ in observances(ended) if rule)


def test_changes_that_follow_no_yearly_rule_get_an_rdate_line_each():
    written = vtimezone("Africa/Casablanca", date(2024, 1, 1), date(2027, 1, 1)).to_ical().decode()
    lines = [line for line in written.splitlines() if line.startswith("RDATE")]
    assert lines and all("," not in line for line in lines)
    assert "RRULE" not in written


@pytest.mark.parametrize(
    ("local", "rules"),
    [
        (datetime(2026, 3, 8, 2), [YearlyRule(3, 2, 6, datetime(2026, 3, 8, 2).time())]),
        (
            datetime(2026, 10, 25, 1),
            [
                YearlyRule(10, 4, 6, datetime(2026, 10, 25, 1).time()),
                YearlyRule(10, -1, 6, datetime(2026, 10, 25, 1).time()),
            ],
        ),
        (datetime(2026, 11, 1, 2), [YearlyRule(11, 1, 6, datetime(2026, 11, 1, 2).time())]),
    ],
)
def test_a_change_can_follow_its_weekdays_nth_and_in_the_last_week_the_last(local, rules):
    assert rules_of(local) == rules
