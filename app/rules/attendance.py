"""The attendance state machine (rules.md §7), the checks on one attendance change, and the
derived session status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from app.errors import ErrorCode


class AttendanceStatus(StrEnum):
    """A roster or supervisor row's attendance; SCHEDULED until someone marks it."""

    SCHEDULED = "SCHEDULED"
    ATTENDED = "ATTENDED"
    LATE = "LATE"
    ABSENT = "ABSENT"


class SessionStatus(StrEnum):
    """A group session's status, derived from its times, cancellation, finalization and billing.

    ENDED: past its end and not billed yet. AWAITING_FINALIZATION: ended, and billing found a
    BLOCKING issue in its preview (someone still SCHEDULED, missing data); it is billed when the
    last one clears or at the finalization deadline. LOCKED: billed, with a claim. CLOSED: billed
    with no billable member, so no claim (a later mark that makes someone billable bills them)."""

    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    ENDED = "ENDED"
    AWAITING_FINALIZATION = "AWAITING_FINALIZATION"
    LOCKED = "LOCKED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


SCHEDULED, ATTENDED, LATE, ABSENT = AttendanceStatus
STATUSES = tuple(AttendanceStatus)

TRANSITIONS: dict[AttendanceStatus, tuple[AttendanceStatus, ...]] = {
    SCHEDULED: (ATTENDED, ABSENT, LATE),
    ATTENDED: (ABSENT, LATE),
    LATE: (ATTENDED, ABSENT),
    ABSENT: (ATTENDED, LATE),
}

# A session longer than a working day is a typing mistake, not a group.
MAX_SESSION_MINUTES = 720


def allowed_next_statuses(status: str) -> tuple[AttendanceStatus, ...]:
    return TRANSITIONS.get(status, ())


def is_allowed_transition(current: str, new: str) -> bool:
    return new in allowed_next_statuses(current)


class SessionTimes(Protocol):
    """What a session's status is read from: a group session's row (ORM or read model) has it."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def cancelled_at(self) -> datetime | None: ...
    @property
    def locked_at(self) -> datetime | None: ...
    @property
    def billed_at(self) -> datetime | None: ...
    @property
    def awaiting_finalization_at(self) -> datetime | None: ...


def status_of(session: SessionTimes, now: datetime) -> SessionStatus:
    """The session's status at `now` (the one definition: app.db.queries.sessions.status_condition
    says the same in SQL, and tests/integration holds them to each other)."""
    if session.cancelled_at is not None:
        return SessionStatus.CANCELLED
    if session.locked_at is not None:
        return SessionStatus.LOCKED
    if session.billed_at is not None:
        return SessionStatus.CLOSED
    if now < session.starts_at:
        return SessionStatus.SCHEDULED
    if now < session.ends_at:
        return SessionStatus.IN_PROGRESS
    if session.awaiting_finalization_at is not None:
        return SessionStatus.AWAITING_FINALIZATION
    return SessionStatus.ENDED


def status_changes_at(session: SessionTimes, now: datetime) -> datetime | None:
    """The next instant after `now` at which `status_of` says something else by the clock alone (its
    start, then its end); None when only a write can change it (cancelled, locked, closed, or ended).
    A cached answer that shows the status is good until then (app/http/read_cache.py)."""
    if session.cancelled_at is not None or session.locked_at is not None or session.billed_at is not None:
        return None
    if now < session.starts_at:
        return session.starts_at
    if now < session.ends_at:
        return session.ends_at
    return None


def next_quarter_hour(now: datetime) -> datetime:
    """The next quarter of an hour (UTC) after `now`. Every time zone's offset is a whole number of
    quarter hours, so no facility's date changes between now and then: a page of "today" (or a range
    with one end left to today) says the same until it."""
    floor = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    return floor + timedelta(minutes=15)


MAX_REASON_LENGTH = 1000  # as for cancelling an occurrence or disenrolling


@dataclass(frozen=True)
class AttendanceChange:
    """One requested change to a roster or supervisor row, with what the caller knows of its session."""

    current: str
    new: str
    expected: str | None = None
    session_cancelled: bool = False
    session_locked: bool = False
    force: bool = False
    may_force: bool = False
    reason: str | None = None
    past_deadline: bool = False  # the session was billed and its finalization deadline has passed

    @property
    def late_entry(self) -> bool:
        """A first mark of a row still SCHEDULED after the finalization deadline: entered late, not a
        correction. It needs a reason (audited), never force; billing takes it as a correction."""
        return self.past_deadline and self.current == SCHEDULED and not self.session_cancelled

    @property
    def forced(self) -> bool:
        """A change that goes through only because the caller forced a locked session."""
        return self.session_locked and self.force and not self.late_entry


@dataclass(frozen=True)
class Refusal:
    code: ErrorCode
    message: str


def attendance_change_refusal(change: AttendanceChange) -> Refusal | None:
    """Why the change may not happen, or None. Checked in this order: a cancelled session, a late
    entry (reason) or a locked session (force, scope, reason), a stale `expectedStatus` (two
    tablets), then the transition table."""
    if change.session_cancelled:
        return Refusal(ErrorCode.ILLEGAL_TRANSITION, "The session is cancelled; its attendance cannot change")
    if change.late_entry:
        if not (change.reason or "").strip():
            return Refusal(
                ErrorCode.BAD_USER_INPUT,
                "reason is required for a late entry (a first mark after the session's finalization deadline)",
            )
        if len(change.reason) > MAX_REASON_LENGTH:
            return Refusal(ErrorCode.BAD_USER_INPUT, f"reason must be at most {MAX_REASON_LENGTH} characters")
    elif change.session_locked:
        if not change.force:
            return Refusal(ErrorCode.LOCKED, "The session is locked by billing; pass force with a reason to correct it")
        if not change.may_force:
            return Refusal(ErrorCode.FORBIDDEN, "Missing scope clinical.attendance.write.force")
        if not (change.reason or "").strip():
            return Refusal(ErrorCode.BAD_USER_INPUT, "reason is required to force a change on a locked session")
        if len(change.reason) > MAX_REASON_LENGTH:
            return Refusal(ErrorCode.BAD_USER_INPUT, f"reason must be at most {MAX_REASON_LENGTH} characters")
    if change.expected is not None and change.expected != change.current:
        return Refusal(
            ErrorCode.CONFLICT,
            f"Attendance is {change.current}, not the expected {change.expected}; reload and try again",
        )
    if not is_allowed_transition(change.current, change.new):
        allowed = ", ".join(allowed_next_statuses(change.current)) or "none"
        return Refusal(
            ErrorCode.ILLEGAL_TRANSITION,
            f"Attendance cannot change from {change.current} to {change.new} (allowed: {allowed})",
        )
    return None


@dataclass(frozen=True)
class AttendanceCounts:
    scheduled: int
    attended: int
    late: int
    absent: int

    @property
    def total(self) -> int:
        return self.scheduled + self.attended + self.late + self.absent

    @property
    def terminal(self) -> bool:
        """No participant left at SCHEDULED (an empty roster is trivially terminal)."""
        return self.scheduled == 0


def count_attendance(statuses: Iterable[str]) -> AttendanceCounts:
    counts = Counter(statuses)
    return AttendanceCounts(
        scheduled=counts[SCHEDULED], attended=counts[ATTENDED], late=counts[LATE], absent=counts[ABSENT]
    )


def session_window_problem(starts_at: datetime, ends_at: datetime) -> str | None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        return "startsAt and endsAt must carry a UTC offset"
    if ends_at <= starts_at:
        return "endsAt must be after startsAt"
    if ends_at - starts_at > timedelta(minutes=MAX_SESSION_MINUTES):
        return f"a session may last at most {MAX_SESSION_MINUTES} minutes"
    return None


def session_date_range(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """The list page's date range (facility-local, inclusive): today when neither end is given,
    a single day when only one is."""
    start = date_from or date_to or today
    end = date_to or date_from or today
    return start, end


def date_range_problem(start: date, end: date, max_days: int = 366) -> str | None:
    if end < start:
        return "to must not be before from"
    if (end - start).days + 1 > max_days:
        return f"the date range may span at most {max_days} days"
    return None


@dataclass(frozen=True)
class LocalWindow:
    session_date: date
    start_time: time
    end_time: time


def local_window(starts_at: datetime, ends_at: datetime, timezone: str) -> LocalWindow:
    """A session's date and wall-clock times in its facility's time zone."""
    zone = ZoneInfo(timezone)
    start = starts_at.astimezone(zone)
    return LocalWindow(
        start.date(), start.time().replace(tzinfo=None), ends_at.astimezone(zone).time().replace(tzinfo=None)
    )
