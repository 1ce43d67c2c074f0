"""A patient's attendance history: minutes per session and the tallies per group that treatment
plans and payers read (IOP/PHP programs are audited on them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.rules.attendance import AttendanceStatus

MAX_HISTORY_DAYS = 3 * 366 + 1  # three years in one request: a long program's whole record
DEFAULT_HISTORY_DAYS = 365


def counts_as_present(status: str) -> bool:
    return status in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE)


def minutes_attended(status: str, starts_at: datetime, ends_at: datetime, cancelled: bool) -> int:
    """The session's length for ATTENDED and LATE (no arrival time is recorded, and a late arrival is
    billed for the session), 0 for ABSENT, unmarked (SCHEDULED) and cancelled sessions."""
    if cancelled or not counts_as_present(status):
        return 0
    return int((ends_at - starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class TallyBucket:
    """One (group, status, cancelled) cell of the history, as the query counts it."""

    group_id: uuid.UUID | None
    title: str
    status: str
    cancelled: bool
    sessions: int
    session_minutes: int


@dataclass
class AttendanceTally:
    """A group's line of the history. attendance_rate = (attended + late) / (attended + late + absent),
    None while nothing is marked; unmarked and cancelled sessions are left out of it."""

    group_id: uuid.UUID | None
    title: str
    attended: int = 0
    late: int = 0
    absent: int = 0
    unmarked: int = 0
    cancelled: int = 0
    minutes_attended: int = 0

    @property
    def sessions(self) -> int:
        return self.attended + self.late + self.absent + self.unmarked + self.cancelled

    @property
    def marked(self) -> int:
        return self.attended + self.late + self.absent

    @property
    def attendance_rate(self) -> float | None:
        return (self.attended + self.late) / self.marked if self.marked else None


def tally_attendance(buckets: Iterable[TallyBucket]) -> list[AttendanceTally]:
    """One tally per group (ad-hoc sessions together under None), in the order the groups first appear."""
    tallies: dict[uuid.UUID | None, AttendanceTally] = {}
    for bucket in buckets:
        tally = tallies.setdefault(bucket.group_id, AttendanceTally(bucket.group_id, bucket.title))
        if bucket.cancelled:
            tally.cancelled += bucket.sessions
            continue
        if bucket.status == AttendanceStatus.ATTENDED:
            tally.attended += bucket.sessions
        elif bucket.status == AttendanceStatus.LATE:
            tally.late += bucket.sessions
        elif bucket.status == AttendanceStatus.ABSENT:
            tally.absent += bucket.sessions
        else:
            tally.unmarked += bucket.sessions
        if counts_as_present(bucket.status):
            tally.minutes_attended += bucket.session_minutes
    return list(tallies.values())


def history_range(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """The dates asked for (facility-local, inclusive): by default the year up to today; one end
    given, a year from or to it."""
    if date_from is None and date_to is None:
        date_to = today
    if date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_HISTORY_DAYS - 1)
    if date_to is None:
        date_to = date_from + timedelta(days=DEFAULT_HISTORY_DAYS - 1)
    return date_from, date_to


def history_range_problem(start: date, end: date) -> str | None:
    if end < start:
        return "to must not be before from"
    if (end - start).days + 1 > MAX_HISTORY_DAYS:
        return f"the date range may span at most {MAX_HISTORY_DAYS} days"
    return None


def local_day_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """[start's midnight, the midnight after end) in the facility's zone: the instants of those days."""
    zone = ZoneInfo(timezone)
    return datetime.combine(start, time(0), zone), datetime.combine(end + timedelta(days=1), time(0), zone)
