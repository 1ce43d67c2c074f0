"""Attendance (rules.md §7): one roster or supervisor row at a time, or a whole roster at once.

Writers lock the session row (Lock.WRITE: readers are not blocked, billing's Lock.BILL is) and
then the attendance row, so two tablets marking one room serialize and the second sees the
first's status: `expectedStatus` turns that race into CONFLICT.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.auth import Principal
from app.db import models
from app.db.queries import sessions as queries
from app.db.queries.sessions import Lock
from app.db.uow import UnitOfWork
from app.errors import BadInput, IllegalTransition, Locked, NotFound, error_for
from app.ids import encode_id
from app.operations.common import check, visible_or_not_found
from app.operations.consequences import AttendanceMarked, VisitChanged, handle
from app.rules.attendance import (
    AttendanceChange,
    AttendanceStatus,
    Refusal,
    attendance_change_refusal,
)
from app.rules.finalization import finalization_deadline
from app.rules.scopes import Scope
from app.rules.updates import SessionUpdateKind, touched
from app.rules.visits import Modality, Stay, default_stay, stay_problem

MAX_BATCH = 200


@dataclass(frozen=True)
class Mark:
    """One requested attendance change."""

    status: AttendanceStatus
    expected: AttendanceStatus | None = None
    force: bool = False
    reason: str | None = None
    arrived_at: datetime | None = None
    departed_at: datetime | None = None


@dataclass(frozen=True)
class Visit:
    """How one member was at the session: arrival, departure, how they joined (only the fields given change)."""

    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    modality: Modality | None = None
    patient_at_home: bool | None = None


@dataclass(frozen=True)
class SupervisorMark:
    """A supervisor's attendance, as the Supervisors card shows it."""

    session_id: uuid.UUID
    staff_id: uuid.UUID
    status: AttendanceStatus


async def past_deadline(uow: UnitOfWork, session: models.GroupSession) -> bool:
    """Whether the session was billed and its finalization deadline has passed: a first mark of a row
    then is a late entry (app.rules.attendance.AttendanceChange.late_entry)."""
    if session.billed_at is None:
        return False
    facility = await uow.db.get(models.Facility, session.facility_id)
    return uow.clock.now() >= finalization_deadline(session.ends_at, facility.timezone, uow.finalize_hours)


def _decide(  # noqa: PLR0917 - the change's parts
    actor: Principal,
    session: models.GroupSession,
    current: str,
    mark: Mark,
    subject: str | None = None,
    late: bool = False,
) -> AttendanceChange:
    change = AttendanceChange(
        current=current,
        new=mark.status,
        expected=mark.expected,
        session_cancelled=session.cancelled_at is not None,
        session_locked=session.locked_at is not None,
        force=mark.force,
        may_force=actor.has_scope(Scope.ATTENDANCE_FORCE),
        reason=mark.reason,
        past_deadline=late,
    )
    refusal = attendance_change_refusal(change)
    if refusal is not None:
        _raise(refusal, subject)
    return change


def _raise(refusal: Refusal, subject: str | None) -> None:
    message = f"{subject}: {refusal.message}" if subject else refusal.message
    raise error_for(refusal.code, message)


def _audit_values(  # noqa: PLR0917 - one audit row's columns
    uow: UnitOfWork,
    change: AttendanceChange,
    entity_type: str,
    entity_id: uuid.UUID,
    session_id: uuid.UUID,
    ids: dict[str, str],
) -> dict[str, Any]:
    action = (
        "attendance.late_entry"
        if change.late_entry
        else "attendance.force_update"
        if change.forced
        else "attendance.set"
    )
    return uow.audit_values(
        action,
        entity_type,
        entity_id,
        before={**ids, "status": change.current},
        after={**ids, "status": change.new},
        reason=change.reason.strip() if (change.forced or change.late_entry) and change.reason else None,
        session_id=session_id,
    )


def _audit(  # noqa: PLR0917 - one audit row's columns
    uow: UnitOfWork,
    change: AttendanceChange,
    entity_type: str,
    entity_id: uuid.UUID,
    session_id: uuid.UUID,
    ids: dict[str, str],
) -> None:
    uow.db.add(models.AuditEntry(**_audit_values(uow, change, entity_type, entity_id, session_id, ids)))


def _stay(session: models.GroupSession, mark: Mark, now: datetime) -> Stay:
    """The times given with the mark, or the defaults of the new status (rules.visits.default_stay)."""
    stay = default_stay(mark.status, session.starts_at, session.ends_at, now)
    if mark.arrived_at is not None or mark.departed_at is not None:
        if mark.status not in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE):
            raise BadInput("arrivedAt and departedAt are recorded only for ATTENDED or LATE")
        stay = Stay(mark.arrived_at or stay.arrived_at, mark.departed_at or stay.departed_at)
    check(stay_problem(stay, session.starts_at, session.ends_at))
    return stay


def _apply(uow: UnitOfWork, change: AttendanceChange, entry: models.RosterEntry, stay: Stay) -> None:
    entry.status = change.new
    entry.arrived_at, entry.departed_at = stay.arrived_at, stay.departed_at
    entry.updated_at = uow.clock.now()
    _audit(uow, change, "RosterEntry", entry.id, entry.session_id, {"patientId": str(entry.patient_id)})


async def set_attendance(uow: UnitOfWork, actor: Principal, entry_id: uuid.UUID, mark: Mark) -> models.RosterEntry:
    db = uow.db
    missing = NotFound("No RosterEntry with that id")
    # One statement finds the entry's session, locks it (Lock.WRITE) and takes the live update's
    # sequence number; a refusal below rolls the number back with the rest.
    session = await queries.lock_session_of_entry_for_update(db, entry_id)
    if session is None or not actor.sees_facility(session.facility_id):
        raise missing
    # The entry locked and whether the session has a group note (member-note drafting), in one
    # statement sent once the session's lock is held.
    entry, has_group_note = await queries.lock_roster_entry_noting_group_note(db, session.id, entry_id)
    if entry is None:  # taken off the roster while this request waited for the session lock
        raise missing
    change = _decide(actor, session, entry.status, mark, late=await past_deadline(uow, session))
    stay = _stay(session, mark, uow.clock.now())
    # The entry's write and its audit entry in one statement.
    await queries.write_entry_with_audit(
        db,
        entry,
        {
            "status": change.new,
            "arrived_at": stay.arrived_at,
            "departed_at": stay.departed_at,
            "updated_at": uow.clock.now(),
        },
        _audit_values(uow, change, "RosterEntry", entry.id, entry.session_id, {"patientId": str(entry.patient_id)}),
    )
    await handle(
        uow,
        AttendanceMarked(
            session,
            SessionUpdateKind.ATTENDANCE_CHANGED,
            [touched("RosterEntry", entry_id)],
            [entry.patient_id],
            forced=change.forced,
            sequence=session.update_sequence,
            has_group_note=has_group_note,
        ),
    )
    return entry


async def set_attendance_batch(
    uow: UnitOfWork, actor: Principal, session_id: uuid.UUID, marks: Mapping[uuid.UUID, Mark]
) -> list[models.RosterEntry]:
    """Mark several roster entries in one transaction: every change is checked first and one
    refusal refuses them all."""
    if not marks:
        raise BadInput("entries must not be empty")
    if len(marks) > MAX_BATCH:
        raise BadInput(f"entries may list at most {MAX_BATCH} participants")
    db = uow.db
    session = visible_or_not_found(actor, await queries.session(db, session_id, lock=Lock.WRITE), "GroupSession")
    entries = await queries.lock_roster_entries(db, session.id, list(marks))
    late = await past_deadline(uow, session)
    changes = []
    for entry_id, mark in marks.items():
        entry = entries.get(entry_id)
        label = encode_id("RosterEntry", entry_id)
        if entry is None:
            facility_id = await queries.roster_entry_facility(db, entry_id)
            if facility_id is None or not actor.sees_facility(facility_id):
                raise NotFound("No RosterEntry with that id")
            raise BadInput(f"{label} is not on this session's roster")
        changes.append(
            (_decide(actor, session, entry.status, mark, label, late), entry, _stay(session, mark, uow.clock.now()))
        )
    for change, entry, stay in changes:
        _apply(uow, change, entry, stay)
    await handle(
        uow,
        AttendanceMarked(
            session,
            SessionUpdateKind.ATTENDANCE_CHANGED,
            [touched("RosterEntry", pk) for pk in marks],
            [e.patient_id for _, e, _ in changes],
            forced=any(change.forced for change, _, _ in changes),
        ),
    )
    return [entries[pk] for pk in marks]


async def set_supervisor_attendance(
    uow: UnitOfWork, actor: Principal, session_id: uuid.UUID, staff_id: uuid.UUID, mark: Mark
) -> SupervisorMark:
    db = uow.db
    session = visible_or_not_found(actor, await queries.session(db, session_id, lock=Lock.WRITE), "GroupSession")
    # Another facility's staff member reads as one that does not exist: their existence is not revealed.
    visible_or_not_found(actor, await db.get(models.Staff, staff_id), "Staff")
    supervisors = (await queries.supervisors_by_session(db, [session.id]))[session.id]
    if staff_id not in {staff for staff, _status in supervisors}:
        raise BadInput("staffId is not a supervisor of this session (no SUPERVISING assignment to a rostered patient)")
    row = await queries.lock_supervisor_attendance(db, session.id, staff_id, now=uow.clock.now())
    change = _decide(actor, session, row.status, mark, late=await past_deadline(uow, session))
    row.status = change.new
    row.updated_at = uow.clock.now()
    # The audit entity is the (session, staff) pair the API names; entity_id keeps the staff id.
    _audit(uow, change, "SupervisorAttendance", staff_id, session.id, {"staffId": str(staff_id)})
    changed = touched("SupervisorAttendance", f"{session.id}.{staff_id}")
    await handle(uow, AttendanceMarked(session, SessionUpdateKind.SUPERVISORS_CHANGED, [changed], forced=change.forced))
    return SupervisorMark(session.id, staff_id, AttendanceStatus(row.status))


def _visit_snapshot(entry: models.RosterEntry) -> dict[str, Any]:
    return {
        "patientId": str(entry.patient_id),
        "arrivedAt": entry.arrived_at.isoformat() if entry.arrived_at else None,
        "departedAt": entry.departed_at.isoformat() if entry.departed_at else None,
        "modality": entry.modality,
        "patientAtHome": entry.patient_at_home,
    }


async def set_roster_entry_visit(
    uow: UnitOfWork, actor: Principal, entry_id: uuid.UUID, visit: Visit, given: set[str]
) -> models.RosterEntry:
    """Correct a member's arrival and departure, or record that they joined by telehealth; the
    attendance status is not touched (the transition table is unchanged)."""
    if not given:
        raise BadInput("Give at least one of arrivedAt, departedAt, modality, patientAtHome")
    db = uow.db
    missing = NotFound("No RosterEntry with that id")
    session_id = await queries.roster_entry_session(db, entry_id)
    session = await queries.session(db, session_id, lock=Lock.WRITE) if session_id else None
    if session is None or not actor.sees_facility(session.facility_id):
        raise missing
    entry = (await queries.lock_roster_entries(db, session.id, [entry_id])).get(entry_id)
    if entry is None:
        raise missing
    if session.cancelled_at is not None:
        raise IllegalTransition("The session is cancelled; its attendance cannot change")
    if session.locked_at is not None:
        raise Locked("The session is locked by billing; correct attendance with a forced change")
    times = {"arrived_at", "departed_at"} & given
    if times and entry.status not in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE):
        raise BadInput("arrivedAt and departedAt are recorded only for ATTENDED or LATE")
    stay = Stay(
        visit.arrived_at if "arrived_at" in given else entry.arrived_at,
        visit.departed_at if "departed_at" in given else entry.departed_at,
    )
    check(stay_problem(stay, session.starts_at, session.ends_at))
    if "patient_at_home" in given and visit.patient_at_home is None:
        raise BadInput("patientAtHome must be true or false")
    before = _visit_snapshot(entry)
    entry.arrived_at, entry.departed_at = stay.arrived_at, stay.departed_at
    for name in ("modality", "patient_at_home"):
        if name in given:
            setattr(entry, name, getattr(visit, name))
    entry.updated_at = uow.clock.now()
    uow.audit(
        "attendance.visit", "RosterEntry", entry.id, before=before, after=_visit_snapshot(entry), session_id=session.id
    )
    await handle(uow, VisitChanged(session, [touched("RosterEntry", entry.id)]))
    return entry
