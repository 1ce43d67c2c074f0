"""RFC 5545 recurrence rules for group schedules: validation and expansion in facility wall time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, rrule, rrulestr

MAX_FREQUENCY = DAILY  # dateutil numbers YEARLY=0 ... DAILY=3, HOURLY=4, MINUTELY=5, SECONDLY=6
# BYHOUR/BYMINUTE/BYSECOND lists multiply a day's starts; more than this is no group schedule,
# and expansion walks every start from the anchor, so the product is kept small.
MAX_STARTS_PER_DAY = 24


class Slot(NamedTuple):
    """One expanded start: wall-clock date and times in the facility, and the instants in UTC."""

    session_date: date
    start_time: time
    end_time: time
    starts_at: datetime
    ends_at: datetime


def recurrence_rule_problem(rule: str, anchor: datetime | None = None) -> str | None:
    """Why the RRULE value cannot be used (malformed, carries DTSTART, more frequent than DAILY)."""
    text = _rule_text(rule)
    if not text:
        return "recurrenceRule must not be empty"
    if len(text) > 500:
        return "recurrenceRule must be at most 500 characters"
    if "DTSTART" in text.upper() or "\n" in text:
        return "recurrenceRule is an RRULE value only (no DTSTART line); recurrenceStart anchors it"
    try:
        parsed = rrulestr(text, dtstart=anchor or datetime(2000, 1, 3, 9, 0))
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return f"recurrenceRule does not parse: {error}"
    if parsed._freq > MAX_FREQUENCY:  # noqa: SLF001 - dateutil exposes no public accessor
        return "recurrenceRule may not be more frequent than DAILY"
    if parsed._interval < 1:  # noqa: SLF001
        return "recurrenceRule INTERVAL must be at least 1"
    if _starts_per_day(parsed) > MAX_STARTS_PER_DAY:
        return f"recurrenceRule may start at most {MAX_STARTS_PER_DAY} sessions a day"
    if parsed._count is not None and parsed._count < 1:  # noqa: SLF001
        return "recurrenceRule COUNT must be at least 1"
    if parsed._until is not None and parsed._until < parsed._dtstart:  # noqa: SLF001
        return "recurrenceRule ends (UNTIL) before recurrenceStart: it never produces an occurrence"
    if _never_matches(parsed):
        return "recurrenceRule never produces an occurrence: no date satisfies all of its BY parts"
    return None


def expand_recurrence(
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
    """
    zone = ZoneInfo(tz_name)
    duration = timedelta(minutes=duration_minutes)
    slots: list[Slot] = []
    for start in rrulestr(_rule_text(rule), dtstart=anchor.replace(tzinfo=zone)):
        if start.date() > last_day:
            break
        if start.date() >= first_day:
            slots.append(_slot(start, start + duration))  # aware + timedelta is wall-clock arithmetic
            if len(slots) > limit:
                break
    return slots


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


def _starts_per_day(parsed: rrule) -> int:
    count = 1
    for values in (parsed._byhour, parsed._byminute, parsed._bysecond):  # noqa: SLF001
        count *= len(values or (0,))
    return count


def _rule_text(rule: str) -> str:
    text = rule.strip()
    return text[6:] if text.upper().startswith("RRULE:") else text
