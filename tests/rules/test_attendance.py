"""The attendance state machine, the checks on one change, and the derived session status."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace

import pytest

from app.rules.attendance import (
    STATUSES,
    AttendanceChange,
    allowed_next_statuses,
    attendance_change_refusal,
    count_attendance,
    date_range_problem,
    is_allowed_transition,
    local_window,
    session_date_range,
    session_window_problem,
    status_changes_at,
    status_of,
)

ALLOWED = {
    ("SCHEDULED", "ATTENDED"),
    ("SCHEDULED", "ABSENT"),
    ("SCHEDULED", "LATE"),
    ("ATTENDED", "ABSENT"),
    ("ATTENDED", "LATE"),
    ("LATE", "ATTENDED"),
    ("LATE", "ABSENT"),
    ("ABSENT", "ATTENDED"),
    ("ABSENT", "LATE"),
}
PAIRS = [(a, b) for a in STATUSES for b in STATUSES]


@pytest.mark.parametrize("current, new", PAIRS)
def test_transition_table_matches_the_guide(current, new):
    assert is_allowed_transition(current, new) == ((current, new) in ALLOWED)


@pytest.mark.parametrize("status", STATUSES)
def test_the_same_status_is_never_a_transition(status):
    assert status not in allowed_next_statuses(status)


def test_nothing_may_return_to_scheduled():
    assert all("SCHEDULED" not in allowed_next_statuses(s) for s in STATUSES)


def test_unknown_status_allows_nothing():
    assert allowed_next_statuses("EXCUSED") == ()


T0 = datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    "now, cancelled, locked, billed, awaiting, expected",
    [
        (T0 - HOUR, False, False, False, False, "SCHEDULED"),
        (T0, False, False, False, False, "IN_PROGRESS"),
        (T0 + HOUR / 2, False, False, False, False, "IN_PROGRESS"),
        (T0 + HOUR, False, False, False, False, "ENDED"),
        (T0 + HOUR, False, False, False, True, "AWAITING_FINALIZATION"),
        # Awaiting, then moved to later today: it has not ended any more.
        (T0 - HOUR, False, False, False, True, "SCHEDULED"),
        (T0 + 2 * HOUR, False, True, True, False, "LOCKED"),
        (T0 + 2 * HOUR, False, False, True, False, "CLOSED"),
        (T0 + 2 * HOUR, False, False, True, True, "CLOSED"),
        (T0 - HOUR, True, False, False, False, "CANCELLED"),
        (T0 + 2 * HOUR, True, True, True, False, "CANCELLED"),
    ],
)
def test_status_of(now, cancelled, locked, billed, awaiting, expected):
    def at_if(flag: bool) -> datetime | None:
        return T0 - 2 * HOUR if flag else None  # when it happened does not matter, only that it did

    session = SimpleNamespace(
        starts_at=T0,
        ends_at=T0 + HOUR,
        cancelled_at=at_if(cancelled),
        locked_at=at_if(locked),
        billed_at=at_if(billed),
        awaiting_finalization_at=at_if(awaiting),
    )
    assert status_of(session, now) == expected


@pytest.mark.parametrize(
    "now, cancelled, locked, billed, awaiting, expected",
    [
        (T0 - HOUR, False, False, False, False, T0),  # SCHEDULED until it starts
        (T0, False, False, False, False, T0 + HOUR),  # IN_PROGRESS until it ends
        (T0 + HOUR // 2, False, False, False, True, T0 + HOUR),
        (T0 + HOUR, False, False, False, False, None),  # ENDED: only a write changes it now
        (T0 + HOUR, False, False, False, True, None),  # AWAITING_FINALIZATION likewise
        (T0 - HOUR, True, False, False, False, None),
        (T0 - HOUR, False, True, False, False, None),
        (T0 - HOUR, False, False, True, False, None),
    ],
)
def test_status_changes_at(now, cancelled, locked, billed, awaiting, expected):
    def at_if(flag: bool) -> datetime | None:
        return T0 - 2 * HOUR if flag else None

    session = SimpleNamespace(
        starts_at=T0,
        ends_at=T0 + HOUR,
        cancelled_at=at_if(cancelled),
        locked_at=at_if(locked),
        billed_at=at_if(billed),
        awaiting_finalization_at=at_if(awaiting),
    )
    assert status_changes_at(session, now) == expected
    # The status is the same from `now` up to (not including) that instant, and differs at it.
    if expected is not None:
        assert status_of(session, expected - timedelta(microseconds=1)) == status_of(session, now)
        assert status_of(session, expected) != status_of(session, now)


def change(**overrides) -> AttendanceChange:
    values = {"current": "SCHEDULED", "new": "ATTENDED"}
    values.update(overrides)
    return AttendanceChange(**values)


@pytest.mark.parametrize(
    "requested, code",
    [
        (change(), None),
        (change(expected="SCHEDULED"), None),
        (change(expected="ATTENDED"), "CONFLICT"),
        (change(current="ATTENDED", new="ATTENDED"), "ILLEGAL_TRANSITION"),
        (change(new="SCHEDULED"), "ILLEGAL_TRANSITION"),
        # a stale tablet is told it is stale, not that its change is illegal
        (change(current="ATTENDED", new="ATTENDED", expected="SCHEDULED"), "CONFLICT"),
        (change(session_cancelled=True), "ILLEGAL_TRANSITION"),
        (
            change(session_cancelled=True, session_locked=True, force=True, may_force=True, reason="x"),
            "ILLEGAL_TRANSITION",
        ),
        (change(session_locked=True), "LOCKED"),
        (change(session_locked=True, may_force=True, reason="late entry"), "LOCKED"),
        (change(session_locked=True, force=True), "FORBIDDEN"),
        (change(session_locked=True, force=True, may_force=True), "BAD_USER_INPUT"),
        (change(session_locked=True, force=True, may_force=True, reason="   "), "BAD_USER_INPUT"),
        (change(session_locked=True, force=True, may_force=True, reason="chart review"), None),
        (change(session_locked=True, force=True, may_force=True, reason="r", new="SCHEDULED"), "ILLEGAL_TRANSITION"),
        (change(session_locked=True, force=True, may_force=True, reason="r", expected="LATE"), "CONFLICT"),
        # force on an unlocked session is an ordinary change
        (change(force=True), None),
        # after the finalization deadline a row's first mark is a late entry: a reason, never force
        (change(past_deadline=True, reason="Paper sign-in sheet found"), None),
        (change(past_deadline=True, session_locked=True, reason="Paper sign-in sheet found"), None),
        (change(past_deadline=True, session_locked=True), "BAD_USER_INPUT"),
        (change(past_deadline=True, reason="  "), "BAD_USER_INPUT"),
        (change(past_deadline=True, session_locked=True, reason="x" * 1001), "BAD_USER_INPUT"),
        (change(past_deadline=True, session_locked=True, reason="r", new="SCHEDULED"), "ILLEGAL_TRANSITION"),
        (change(past_deadline=True, session_locked=True, reason="r", expected="ABSENT"), "CONFLICT"),
        (change(past_deadline=True, session_cancelled=True, reason="r"), "ILLEGAL_TRANSITION"),
        # a row marked before is corrected, not entered late: a locked session still needs force
        (change(past_deadline=True, session_locked=True, current="ABSENT", reason="r"), "LOCKED"),
        (change(past_deadline=True, current="ABSENT"), None),
    ],
)
def test_attendance_change_refusal(requested, code):
    refusal = attendance_change_refusal(requested)
    assert (refusal.code if refusal else None) == code


@pytest.mark.parametrize(
    "requested, forced",
    [
        (change(), False),
        (change(force=True), False),
        (change(session_locked=True, force=True, may_force=True, reason="r"), True),
        (change(session_locked=True, force=True, may_force=True, reason="r", past_deadline=True), False),
    ],
)
def test_a_change_is_forced_only_on_a_locked_session(requested, forced):
    assert requested.forced is forced


@pytest.mark.parametrize(
    "requested, late",
    [
        (change(past_deadline=True), True),
        (change(past_deadline=True, session_locked=True), True),
        (change(), False),
        (change(session_locked=True), False),
        (change(past_deadline=True, current="LATE", new="ABSENT"), False),
        (change(past_deadline=True, session_cancelled=True), False),
    ],
)
def test_a_late_entry_is_a_first_mark_after_the_finalization_deadline(requested, late):
    assert requested.late_entry is late


def test_illegal_transition_message_names_the_allowed_statuses():
    refusal = attendance_change_refusal(change(current="LATE", new="LATE"))
    assert refusal.message == "Attendance cannot change from LATE to LATE (allowed: ATTENDED, ABSENT)"


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([], (0, 0, 0, 0, 0, True)),
        (["SCHEDULED"], (1, 0, 0, 0, 1, False)),
        (["ATTENDED", "LATE", "ABSENT", "ATTENDED"], (0, 2, 1, 1, 4, True)),
        (["ATTENDED", "SCHEDULED", "ABSENT"], (1, 1, 0, 1, 3, False)),
    ],
)
def test_count_attendance(statuses, expected):
    counts = count_attendance(statuses)
    assert (counts.scheduled, counts.attended, counts.late, counts.absent, counts.total, counts.terminal) == expected


@pytest.mark.parametrize(
    "starts_at, ends_at, problem",
    [
        (T0, T0 + HOUR, None),
        (T0, T0 + 12 * HOUR, None),
        (T0, T0, "endsAt must be after startsAt"),
        (T0, T0 - HOUR, "endsAt must be after startsAt"),
        (T0, T0 + 12 * HOUR + timedelta(minutes=1), "a session may last at most 720 minutes"),
        (T0.replace(tzinfo=None), T0.replace(tzinfo=None) + HOUR, "startsAt and endsAt must carry a UTC offset"),
    ],
)
def test_session_window_problem(starts_at, ends_at, problem):
    assert session_window_problem(starts_at, ends_at) == problem


TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    "date_from, date_to, expected",
    [
        (None, None, (TODAY, TODAY)),
        (date(2026, 3, 1), None, (date(2026, 3, 1), date(2026, 3, 1))),
        (None, date(2026, 3, 20), (date(2026, 3, 20), date(2026, 3, 20))),
        (date(2026, 3, 1), date(2026, 3, 20), (date(2026, 3, 1), date(2026, 3, 20))),
    ],
)
def test_session_date_range_defaults_to_today(date_from, date_to, expected):
    assert session_date_range(date_from, date_to, TODAY) == expected


@pytest.mark.parametrize(
    "start, end, problem",
    [
        (TODAY, TODAY, None),
        (TODAY, TODAY + timedelta(days=365), None),
        (TODAY, TODAY + timedelta(days=366), "the date range may span at most 366 days"),
        (TODAY, TODAY - timedelta(days=1), "to must not be before from"),
    ],
)
def test_date_range_problem(start, end, problem):
    assert date_range_problem(start, end) == problem


@pytest.mark.parametrize(
    "zone, expected",
    [
        ("America/Phoenix", (date(2026, 3, 10), time(9, 0), time(10, 0))),
        ("America/New_York", (date(2026, 3, 10), time(12, 0), time(13, 0))),
        ("Pacific/Auckland", (date(2026, 3, 11), time(5, 0), time(6, 0))),
    ],
)
def test_local_window_reads_the_facility_wall_clock(zone, expected):
    window = local_window(T0, T0 + HOUR, zone)
    assert (window.session_date, window.start_time, window.end_time) == expected
