"""AHCCCS IOP/PHP compliance over one Monday–Sunday week (rules.md §6)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

from app.rules.recurrence import expand_recurrence, slot_problem, wall_anchor


class ComplianceProgram(StrEnum):
    IOP = "IOP"
    PHP = "PHP"


class ComplianceStatus(StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"


class ComplianceRequirement(StrEnum):
    HOURS_PER_WEEK = "HOURS_PER_WEEK"
    DAYS_PER_WEEK = "DAYS_PER_WEEK"
    HOURS_PER_DAY = "HOURS_PER_DAY"


HOURS_PER_WEEK, DAYS_PER_WEEK, HOURS_PER_DAY = ComplianceRequirement
COMPLIANT, NON_COMPLIANT = ComplianceStatus
PROGRAMS = tuple(ComplianceProgram)


@dataclass(frozen=True)
class ComplianceThresholds:
    hours_per_week: float
    days_per_week: int
    hours_per_day: float | None  # PHP sets no per-day minimum


@dataclass(frozen=True)
class ComplianceGap:
    requirement: str
    required: float
    actual: float
    short_by: float
    message: str
    date: date | None = None


@dataclass(frozen=True)
class ComplianceResult:
    program: str
    status: str
    week_start: date
    hours_per_week: float
    days_per_week: int
    min_hours_per_session_day: float | None
    gaps: tuple[ComplianceGap, ...]


def week_start(day: date) -> date:
    """The Monday of the week containing `day`."""
    return day - timedelta(days=day.weekday())


def union_hours(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    """Hours covered by the intervals together: overlapping ones count their overlap once
    (13:00-14:00 and 13:30-14:30 are 1.5 hours, not 2)."""
    total = 0.0
    current: tuple[datetime, datetime] | None = None
    for start, end in sorted((s.astimezone(timezone.utc), e.astimezone(timezone.utc)) for s, e in intervals):
        if end <= start:
            continue
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            total += (current[1] - current[0]).total_seconds()
        current = (start, end)
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total / 3600


def session_hours(occurrences: Iterable[tuple[date, datetime, datetime, datetime | None]]) -> list[tuple[date, float]]:
    """(date, hours) of each session day from the live occurrences given as (session date, starts
    at, ends at, cancelled at): the union of the day's occurrences, so time two overlapping
    occurrences share counts once.

    Hours are elapsed time, so a session spanning a DST change counts what the clock really ran."""
    by_day: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    for session_date, starts_at, ends_at, cancelled_at in occurrences:
        if cancelled_at is None:
            by_day[session_date].append((starts_at, ends_at))
    return [(day, union_hours(intervals)) for day, intervals in sorted(by_day.items())]


def evaluate_compliance(
    program: str,
    thresholds: ComplianceThresholds,
    sessions: Sequence[tuple[date, float]],
    week_of: date,
) -> ComplianceResult:
    """Hours, session days and hours on each session day over the week containing `week_of`;
    each unmet requirement is a gap, one HOURS_PER_DAY gap per short day."""
    monday = week_start(week_of)
    daily: dict[date, float] = defaultdict(float)
    for day, hours in sessions:
        if monday <= day < monday + timedelta(days=7) and hours > 0:
            daily[day] += hours
    hours_per_week = _round(sum(daily.values()))
    days_per_week = len(daily)
    gaps: list[ComplianceGap] = []
    if hours_per_week < thresholds.hours_per_week:
        gaps.append(_gap(HOURS_PER_WEEK, thresholds.hours_per_week, hours_per_week, "hour", "/week"))
    if days_per_week < thresholds.days_per_week:
        gaps.append(_gap(DAYS_PER_WEEK, thresholds.days_per_week, days_per_week, "day", "/week"))
    if thresholds.hours_per_day is not None:
        for day in sorted(daily):
            actual = _round(daily[day])
            if actual < thresholds.hours_per_day:
                gaps.append(
                    _gap(HOURS_PER_DAY, thresholds.hours_per_day, actual, "hour", f" on {day.isoformat()}", day)
                )
    return ComplianceResult(
        program=program,
        status=NON_COMPLIANT if gaps else COMPLIANT,
        week_start=monday,
        hours_per_week=hours_per_week,
        days_per_week=days_per_week,
        min_hours_per_session_day=_round(min(daily.values())) if daily else None,
        gaps=tuple(gaps),
    )


def _gap(  # noqa: PLR0917 - one gap's fields
    requirement: str, required: float, actual: float, unit: str, where: str, day: date | None = None
) -> ComplianceGap:
    short_by = _round(required - actual)
    amount = _number(short_by)
    noun = unit if amount == "1" else unit + "s"
    return ComplianceGap(
        requirement=requirement,
        required=float(required),
        actual=float(actual),
        short_by=short_by,
        message=f"Need {amount} more {noun}{where}",
        date=day,
    )


def _round(hours: float) -> float:
    return round(float(hours), 2)


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


MAX_SLOTS_PER_WEEK = 7 * 24


def projected_sessions(
    rule: str | None, anchor: datetime | None, tz_name: str, monday: date, duration_minutes: int
) -> list[tuple[date, float]]:
    """(date, hours) of the week's sessions as generateOccurrences would create them from the rule,
    for a week with no occurrences yet."""
    if not rule or anchor is None:
        return []
    slots = expand_recurrence(
        rule,
        wall_anchor(anchor, tz_name),
        tz_name,
        monday,
        monday + timedelta(days=6),
        duration_minutes,
        MAX_SLOTS_PER_WEEK,
    )
    return session_hours((s.session_date, s.starts_at, s.ends_at, None) for s in slots if slot_problem(s) is None)
