"""Absence alerts: a patient who misses a group's sessions several times in a row is flagged on
their enrollment until they come to one again."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.rules.attendance import AttendanceStatus
from app.rules.scheduling import GroupType

# What migration 0020 seeds; a group type without a row in absence_thresholds falls back to these.
PROGRAM_THRESHOLD = 2  # IOP and PHP: two missed days of a program is already a lapse in care
OTHER_THRESHOLD = 3


class AlertState(StrEnum):
    """What a change did to an enrollment's alert (the `state` of pm_group_attendance_alert)."""

    RAISED = "RAISED"
    CLEARED = "CLEARED"


@dataclass(frozen=True)
class SessionMark:
    """One of the group's sessions with the patient on its roster, as attendance left it."""

    session_id: uuid.UUID
    starts_at: datetime
    status: str
    cancelled: bool = False


@dataclass(frozen=True)
class AbsenceRun:
    """The absences since the patient last came, oldest first, and the threshold they reached."""

    absences: tuple[SessionMark, ...]
    threshold: int

    @property
    def since(self) -> datetime:
        return self.absences[0].starts_at

    @property
    def session_ids(self) -> list[uuid.UUID]:
        return [mark.session_id for mark in self.absences]


def absence_threshold(group_type: str, thresholds: Mapping[str, int]) -> int:
    """The consecutive absences that flag a patient of this group type: the stored value, else the default."""
    stored = thresholds.get(group_type)
    if stored:
        return stored
    return PROGRAM_THRESHOLD if group_type in (GroupType.IOP, GroupType.PHP) else OTHER_THRESHOLD


def consecutive_absences(marks: Iterable[SessionMark]) -> tuple[SessionMark, ...]:
    """The ABSENT sessions since the last ATTENDED or LATE one, in time order. Cancelled sessions
    and unmarked (SCHEDULED) ones neither count nor break the run: a session nobody marked says
    nothing about the patient."""
    run: list[SessionMark] = []
    for mark in sorted(marks, key=lambda m: (m.starts_at, str(m.session_id))):
        if mark.cancelled or mark.status == AttendanceStatus.SCHEDULED:
            continue
        if mark.status == AttendanceStatus.ABSENT:
            run.append(mark)
        else:
            run = []
    return tuple(run)


def absence_alert(marks: Iterable[SessionMark], threshold: int) -> AbsenceRun | None:
    """The run that flags the patient, when it is at least `threshold` long."""
    run = consecutive_absences(marks)
    return AbsenceRun(run, threshold) if len(run) >= threshold else None


def alert_change(flagged: bool, run: AbsenceRun | None) -> AlertState | None:
    """RAISED when a run reaches the threshold of an unflagged enrollment, CLEARED when a flagged one
    has no run any more, None when nothing changes (a longer run keeps the alert it has)."""
    if run is not None and not flagged:
        return AlertState.RAISED
    if run is None and flagged:
        return AlertState.CLEARED
    return None
