"""Absence alerts: consecutive absences in time order, per group type's threshold."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from app.rules.absences import (
    AbsenceRun,
    AlertState,
    SessionMark,
    absence_alert,
    absence_threshold,
    alert_change,
    consecutive_absences,
)
from app.rules.scheduling import GroupType

MONDAY = datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc)


def marks(*statuses: str) -> list[SessionMark]:
    """One session a day in time order; 'X' is a cancelled session left ABSENT, '-' one left SCHEDULED."""
    out = []
    for day, code in enumerate(statuses):
        status = {"A": "ATTENDED", "L": "LATE", "N": "ABSENT", "-": "SCHEDULED", "X": "ABSENT"}[code]
        out.append(SessionMark(uuid.UUID(int=day + 1), MONDAY + timedelta(days=day), status, cancelled=code == "X"))
    return out


@pytest.mark.parametrize(
    ("history", "run_days"),
    [
        ((), []),
        (("A", "A"), []),
        (("N",), [0]),
        (("N", "N"), [0, 1]),
        (("N", "N", "A"), []),  # an attendance clears the run
        (("N", "N", "L"), []),  # so does a late arrival
        (("A", "N", "N", "N"), [1, 2, 3]),
        (("N", "A", "N", "N"), [2, 3]),  # only the absences since the last attendance
        (("N", "-", "N"), [0, 2]),  # an unmarked session neither counts nor breaks the run
        (("N", "X", "N"), [0, 2]),  # nor does a cancelled one, whatever its roster says
        (("A", "X", "X"), []),  # cancelled absences never count
        (("N", "N", "-", "-"), [0, 1]),  # upcoming sessions are unmarked
    ],
)
def test_consecutive_absences_are_those_since_the_last_attendance(history, run_days):
    assert [m.session_id.int - 1 for m in consecutive_absences(marks(*history))] == run_days


def test_sessions_are_taken_in_time_order_not_in_the_order_marked():
    # The patient came on day 0 and missed days 1 and 2; day 0 was marked last.
    missed_1, missed_2, came = marks("N", "N", "A")[0:3]
    out_of_order = [
        SessionMark(missed_1.session_id, MONDAY + timedelta(days=1), "ABSENT"),
        SessionMark(missed_2.session_id, MONDAY + timedelta(days=2), "ABSENT"),
        SessionMark(came.session_id, MONDAY, "ATTENDED"),
    ]
    assert [m.starts_at for m in consecutive_absences(out_of_order)] == [
        MONDAY + timedelta(days=1),
        MONDAY + timedelta(days=2),
    ]


@pytest.mark.parametrize(
    ("history", "threshold", "flagged_days"),
    [
        (("N",), 2, None),
        (("N", "N"), 2, [0, 1]),
        (("N", "N"), 3, None),
        (("N", "N", "N"), 3, [0, 1, 2]),
        (("N", "N", "N", "N"), 2, [0, 1, 2, 3]),  # the alert lists every session of the run
        (("N", "N", "A"), 2, None),
        (("N", "-", "N"), 2, [0, 2]),
    ],
)
def test_absence_alert_when_the_run_reaches_the_threshold(history, threshold, flagged_days):
    run = absence_alert(marks(*history), threshold)
    if flagged_days is None:
        assert run is None
    else:
        assert [pk.int - 1 for pk in run.session_ids] == flagged_days
        assert run.since == MONDAY + timedelta(days=flagged_days[0])
        assert run.threshold == threshold


@pytest.mark.parametrize(
    ("group_type", "stored", "threshold"),
    [
        (GroupType.IOP, {}, 2),
        (GroupType.PHP, {}, 2),
        (GroupType.THERAPY, {}, 3),
        (GroupType.SUPPORT, {}, 3),
        (GroupType.OTHER, {}, 3),
        (GroupType.IOP, {"IOP": 4}, 4),  # the stored value wins
        (GroupType.THERAPY, {"IOP": 4}, 3),
        (GroupType.SKILLS_TRAINING, {"SKILLS_TRAINING": 1}, 1),
    ],
)
def test_absence_threshold_per_group_type(group_type, stored, threshold):
    assert absence_threshold(group_type, stored) == threshold


RUN = AbsenceRun(tuple(marks("N", "N")), 2)


@pytest.mark.parametrize(
    ("flagged", "run", "change"),
    [
        (False, None, None),
        (False, RUN, AlertState.RAISED),
        (True, RUN, None),  # still absent: the alert stays (its sessions are updated, no new event)
        (True, None, AlertState.CLEARED),
    ],
)
def test_alert_change(flagged, run, change):
    assert alert_change(flagged, run) == change
