"""RFC 5545 recurrence rules for group schedules: validation and expansion in facility wall time."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr, weekday

MAX_FREQUENCY = DAILY  # dateutil numbers YEARLY=0 ... DAILY=3, HOURLY=4, MINUTELY=5, SECONDLY=6
# BYHOUR/BYMINUTE/BYSECOND lists multiply a day's starts: two starts a day is more frequent than
# DAILY (rules.md §4), and a group's occurrences of one day would overlap.
# A rule ended by COUNT is expanded from its anchor (the count runs from there); it must end within
# this span, so that walk stays short. A longer schedule ends by UNTIL and expands from any window.
MAX_COUNT_SPAN = timedelta(days=10 * 366)
MAX_COUNT_SPAN_TEXT = "10 years"
# A rule's first start must come within this many years of its anchor. Weekdays and leap days line up
# again within 28 years, so a rule of every day that has no date in 30 has none ever; with an INTERVAL
# (FREQ=DAILY;INTERVAL=7;BYDAY=TU from a Monday) it may have none ever although each part alone matches.
FIRST_START_YEARS = 30


class WalkTooLong(Exception):
    """A budgeted rule walked past its budget of calendar years without reaching what was asked."""


class _BudgetedRule(rrule):
    """dateutil's rrule that stops after walking `years` calendar years. dateutil checks UNTIL and
    COUNT only on dates that match: a rule no date matches walks to year 9999 (0.86 s, and 23 s of CPU
    for a compliance query of 30 weeks). Its iterator reads `_byweekno` once for each calendar year
    it enters (`_iterinfo.rebuild`; three to five times with BYWEEKNO), which counts the years here."""

    _year_budget: int
    _years_walked: int

    @property
    def _byweekno(self):
        self._years_walked = getattr(self, "_years_walked", 0) + 1
        if self._years_walked > self._year_budget:
            raise WalkTooLong
        return self.__dict__["_byweekno_value"]

    @_byweekno.setter
    def _byweekno(self, value) -> None:
        self.__dict__["_byweekno_value"] = value

    def _iter(self):
        self._years_walked = 0
        yield from super()._iter()


def budgeted(parsed: rrule, years: int) -> rrule:
    """The same rule, walking at most `years` calendar years (then WalkTooLong)."""
    rule = _BudgetedRule.__new__(_BudgetedRule)
    state = dict(parsed.__dict__)
    state["_byweekno_value"] = state.pop("_byweekno")
    rule.__dict__.update(state)
    reads_per_year = 5 if state["_byweekno_value"] else 1
    rule._year_budget = (years + 1) * reads_per_year  # noqa: SLF001 - plus the iterator's first read
    rule._cache, rule._cache_complete = None, False  # noqa: SLF001 - no cache: each iteration walks anew
    return rule


def first_start_within(parsed: rrule, years: int) -> datetime | None:
    """The rule's first start if it comes within `years` calendar years of its anchor."""
    try:
        return next(iter(budgeted(parsed, years)), None)
    except WalkTooLong:
        return None


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# RFC 5545 section 3.3.10: each BYxxx part is a list of integers in these ranges (signed where a
# count from the end is allowed). dateutil reads more (BYEASTER, BYWEEKDAY, ...); no calendar sends them.
_NUMBER_LISTS = {
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
_RULE_PARTS = ("FREQ", "UNTIL", "COUNT", "INTERVAL", *_NUMBER_LISTS, "BYDAY", "WKST")
_DIGITS = re.compile(r"[0-9]{1,3}")
_BYDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_POSITIVE = re.compile(r"[1-9][0-9]{0,5}")


class Slot(NamedTuple):
    """One expanded start: wall-clock date and times in the facility, and the instants in UTC."""

    session_date: date
    start_time: time
    end_time: time
    starts_at: datetime
    ends_at: datetime


def recurrence_rule_problem(
    rule: str, anchor: datetime | None = None, first_start_years: int = FIRST_START_YEARS
) -> str | None:
    """Why the RRULE value cannot be used (malformed, carries DTSTART, more frequent than DAILY, no
    first start within `first_start_years` of its anchor: GS_RECURRENCE_FIRST_START_YEARS)."""
    text = _rule_text(rule)
    if not text:
        return "recurrenceRule must not be empty"
    if len(text) > 500:
        return "recurrenceRule must be at most 500 characters"
    if "DTSTART" in text.upper() or "\n" in text:
        return "recurrenceRule is an RRULE value only (no DTSTART line); recurrenceStart anchors it"
    problem = rule_syntax_problem(text)
    if problem:
        return problem
    try:
        parsed = rrulestr(text, dtstart=anchor or datetime(2000, 1, 3, 9, 0))
    except Exception:  # noqa: BLE001 - dateutil's own wording (and its crashes) never reach the caller
        return "recurrenceRule does not parse as an RFC 5545 RRULE value"
    if not isinstance(parsed, rrule):
        return "recurrenceRule does not parse as an RFC 5545 RRULE value"
    if parsed._freq > MAX_FREQUENCY:  # noqa: SLF001 - dateutil exposes no public accessor
        return "recurrenceRule may not be more frequent than DAILY"
    if parsed._interval < 1:  # noqa: SLF001
        return "recurrenceRule INTERVAL must be at least 1"
    per_day = starts_per_day(parsed)
    if per_day > 1:
        return (
            f"recurrenceRule yields {per_day} starts a day (several BYHOUR, BYMINUTE or BYSECOND values): "
            "more frequent than DAILY; make one group per start time"
        )
    if parsed._count is not None and parsed._count < 1:  # noqa: SLF001
        return "recurrenceRule COUNT must be at least 1"
    if parsed._until is not None and parsed._until < parsed._dtstart:  # noqa: SLF001
        return "recurrenceRule ends (UNTIL) before recurrenceStart: it never produces an occurrence"
    if _never_matches(parsed):
        return "recurrenceRule never produces an occurrence: no date satisfies all of its BY parts"
    if first_start_within(parsed, first_start_years) is None:
        return (
            f"recurrenceRule {text} produces no occurrence within {first_start_years} years of recurrenceStart "
            "(its INTERVAL, BY parts and start never meet)"
        )
    if parsed._count is not None and _count_until(text, parsed._dtstart) is None:  # noqa: SLF001
        return (
            f"recurrenceRule COUNT must end within {MAX_COUNT_SPAN_TEXT} of recurrenceStart; "
            "a longer schedule ends with UNTIL"
        )
    return None


def rule_syntax_problem(text: str) -> str | None:
    """Why `text` is not an RFC 5545 RRULE value (NAME=VALUE parts joined by ';'), in our words."""
    if ":" in text:
        return "recurrenceRule is one RRULE value (such as FREQ=WEEKLY;BYDAY=MO); RDATE, EXDATE and EXRULE are not accepted"
    seen: set[str] = set()
    for part in text.split(";"):
        if not part.strip():
            continue  # a trailing or doubled ';'
        name, equals, value = part.partition("=")
        name = name.strip().upper()
        if not equals or name not in _RULE_PARTS:
            return f"recurrenceRule parts are NAME=VALUE with NAME one of {', '.join(_RULE_PARTS)}"
        if name in seen:
            return f"recurrenceRule gives {name} more than once"
        seen.add(name)
        problem = _part_problem(name, value.strip().upper())
        if problem:
            return f"recurrenceRule {name} {problem}"
    if "FREQ" not in seen:
        return "recurrenceRule needs FREQ"
    if {"COUNT", "UNTIL"} <= seen:
        return "recurrenceRule may end with COUNT or UNTIL, not both"
    return None


def _part_problem(name: str, value: str) -> str | None:
    if name == "FREQ":
        return None if value in _FREQUENCIES else "must be one of " + ", ".join(_FREQUENCIES)
    if name == "UNTIL":
        return None if _UNTIL.fullmatch(value) else "must be a UTC date and time such as 20271231T235959Z"
    if name in ("COUNT", "INTERVAL"):
        return None if _POSITIVE.fullmatch(value) else "must be a whole number from 1 to 999999"
    if name == "WKST":
        return None if value in _WEEKDAYS else "must be one of " + ", ".join(_WEEKDAYS)
    if name == "BYDAY":
        for item in value.split(","):
            match = _BYDAY.fullmatch(item)
            if not match or (match.group(1) and not 1 <= abs(int(match.group(1))) <= 53):
                return "must list weekdays (MO … SU), each optionally preceded by a position from ±1 to ±53"
        return None
    low, high, signed = _NUMBER_LISTS[name]
    for item in value.split(","):
        number = item.lstrip("+-") if signed else item
        if not _DIGITS.fullmatch(number) or not low <= int(number) <= high or item.count("-") + item.count("+") > 1:
            return f"must list whole numbers from {'±' if signed else ''}{low} to {'±' if signed else ''}{high}"
    return None


def expand_recurrence(  # noqa: PLR0917 - a rule and its window
    rule: str,
    anchor: datetime,
    tz_name: str,
    first_day: date,
    last_day: date,
    duration_minutes: int,
    limit: int,
) -> list[Slot]:
    """The rule's starts from first_day to last_day (inclusive), in facility wall time.

    `anchor` is the first start as a naive wall-clock datetime in `tz_name`. Each start keeps its
    wall time across DST (09:00 stays 09:00) and ends durationMinutes later on the wall clock.
    At most limit + 1 slots are returned, so a caller can tell that the limit was passed.

    Expansion starts from the window, not from the anchor: a rule anchored in 1900 asked about
    2199 walks a week, not three centuries (which held the event loop for seconds per call).
    """
    zone = ZoneInfo(tz_name)
    duration = timedelta(minutes=duration_minutes)
    slots: list[Slot] = []
    if first_day > last_day:
        return slots
    windowed = _from_window(_parse(_rule_text(rule), anchor.replace(tzinfo=zone)), first_day)
    # The walk stops in the year after last_day: no later year has a start in the window.
    years = last_day.year - windowed._dtstart.year + 1  # noqa: SLF001
    try:
        for start in budgeted(windowed, max(years, 1)):
            if start.date() > last_day:
                break
            if start.date() >= first_day:
                slots.append(_slot(start, start + duration))  # aware + timedelta is wall-clock arithmetic
                if len(slots) > limit:
                    break
    except WalkTooLong:
        pass
    return slots


def _parse(text: str, dtstart: datetime) -> rrule:
    parsed = rrulestr(text, dtstart=dtstart)
    if not isinstance(parsed, rrule):
        raise ValueError("not an RRULE value")  # stored rules were checked on the way in
    if parsed._count is not None:  # noqa: SLF001
        until = _count_until(text, dtstart)
        if until is None:
            raise ValueError("recurrenceRule COUNT runs too long to expand")
        parsed = parsed.replace(count=None, until=until)
    return parsed


@lru_cache(maxsize=1024)
def _count_until(text: str, dtstart: datetime) -> datetime | None:
    """The last start of a COUNT rule, or None when it lies past MAX_COUNT_SPAN (the walk stops there)."""
    limit = dtstart + MAX_COUNT_SPAN
    last = None
    try:
        for last in budgeted(rrulestr(text, dtstart=dtstart), MAX_COUNT_SPAN.days // 365 + 1):
            if last > limit:
                return None
    except WalkTooLong:
        return None
    return last


def _from_window(parsed: rrule, first_day: date) -> rrule:
    """The same rule, its start moved forward by whole INTERVALs of its period to at least one period
    before `first_day`. Whole intervals keep its phase (every other week stays the same weeks), and
    the defaults dateutil derives from the start (weekday, day of month, month, time) are made
    explicit so the later start does not change them."""
    start, interval, freq = parsed._dtstart, parsed._interval, parsed._freq  # noqa: SLF001
    if parsed._count is not None or first_day <= start.date():  # noqa: SLF001
        return parsed
    days = (first_day - start.date()).days
    periods = {
        DAILY: days,
        WEEKLY: days // 7,
        MONTHLY: (first_day.year - start.year) * 12 + first_day.month - start.month,
        YEARLY: first_day.year - start.year,
    }[freq]
    skip = (periods - 1) // interval * interval
    if skip <= 0:
        return parsed
    if freq == DAILY:
        moved = start + timedelta(days=skip)
    elif freq == WEEKLY:
        moved = start + timedelta(weeks=skip)
    elif freq == MONTHLY:
        month = start.month - 1 + skip
        moved = start.replace(year=start.year + month // 12, month=month % 12 + 1, day=1)
    else:
        moved = start.replace(year=start.year + skip, month=1, day=1)
    return parsed.replace(dtstart=moved, **_derived_parts(parsed))


def _derived_parts(parsed: rrule) -> dict:
    explicit: dict = {
        "byhour": parsed._byhour,  # noqa: SLF001 - dateutil exposes no public accessor
        "byminute": parsed._byminute,  # noqa: SLF001 - dateutil exposes no public accessor
        "bysecond": parsed._bysecond,  # noqa: SLF001
    }
    if parsed._bymonth:  # noqa: SLF001
        explicit["bymonth"] = parsed._bymonth  # noqa: SLF001
    monthdays = tuple(parsed._bymonthday) + tuple(parsed._bynmonthday)  # noqa: SLF001
    if monthdays:
        explicit["bymonthday"] = monthdays
    weekdays = [weekday(d) for d in parsed._byweekday or ()] + [weekday(d, n) for d, n in parsed._bynweekday or ()]  # noqa: SLF001
    if weekdays:
        explicit["byweekday"] = weekdays
    return explicit


def facility_instant(value: datetime, tz_name: str) -> datetime:
    """recurrenceStart in the facility's zone: a value without an offset is the facility's wall
    clock (a time DST skips moves to the real one), one with an offset is converted to it."""
    zone = ZoneInfo(tz_name)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone).astimezone(timezone.utc).astimezone(zone)
    return value.astimezone(zone)


def wall_anchor(recurrence_start: datetime, tz_name: str) -> datetime:
    """recurrenceStart as the facility's wall clock shows it (naive), whatever offset it was sent with."""
    return recurrence_start.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


def wall_slot(session_date: date, start_time: time, end_time: time, tz_name: str) -> Slot:
    zone = ZoneInfo(tz_name)
    return _slot(datetime.combine(session_date, start_time, zone), datetime.combine(session_date, end_time, zone))


def slot_problem(slot: Slot) -> str | None:
    """Why a slot cannot be an occurrence: it must end after it starts, on the same day."""
    if slot.ends_at <= slot.starts_at:
        return "an occurrence must end after it starts"
    if slot.end_time <= slot.start_time:
        return "an occurrence must end on the day it starts (before midnight)"
    return None


def _slot(start: datetime, end: datetime) -> Slot:
    """Wall times as the clock on the wall shows them: a time that DST skips moves to the real one."""
    starts_at, ends_at = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    real_start, real_end = starts_at.astimezone(start.tzinfo), ends_at.astimezone(end.tzinfo)
    return Slot(
        session_date=real_start.date(),
        start_time=real_start.time(),
        end_time=real_end.time() if real_end.date() == real_start.date() else time(0),
        starts_at=starts_at,
        ends_at=ends_at,
    )


# Inside one century every date falls on every weekday within 28 years, leap days included, so a
# rule that matches no date in 9972-9999 matches none ever. dateutil stops at year 9999, so this
# probe is short even when nothing matches, where expanding from the anchor would walk ~8,000 years.
PROBE_YEAR = 9972


def _never_matches(parsed: rrule) -> bool:
    """No date satisfies the rule's BY parts. The probe keeps the anchor's month, day and time (the
    defaults dateutil derives from them) and drops COUNT, UNTIL and INTERVAL, which only thin out dates."""
    start = parsed._dtstart.replace(tzinfo=None)  # noqa: SLF001
    probe = parsed.replace(dtstart=start.replace(year=PROBE_YEAR), count=None, until=None, interval=1)
    return next(iter(probe), None) is None


def starts_per_day(parsed: rrule) -> int:
    """How many starts the rule yields on a day it matches: the product of its BYHOUR, BYMINUTE
    and BYSECOND lists (one when it has none)."""
    count = 1
    for values in (parsed._byhour, parsed._byminute, parsed._bysecond):  # noqa: SLF001
        count *= len(values or (0,))
    return count


def _rule_text(rule: str) -> str:
    text = rule.strip()
    return text[6:] if text.upper().startswith("RRULE:") else text
