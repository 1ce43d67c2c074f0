"""Attendance (rules.md §7): one roster or supervisor row at a time, or a whole roster at once.

Writers lock the session row (FOR NO KEY UPDATE: readers are not blocked, billing's FOR UPDATE
is) and then the attendance row (FOR UPDATE), so two tablets marking one room serialize and the
second sees the first's status: `expectedStatus` turns that race into CONFLICT.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.db import models
from app.db.uow import UnitOfWork
from app.errors import BadInput, Conflict, DomainError, Forbidden, IllegalTransition, Locked, NotFound
from app.ids import decode_id, encode_id
from app.live.publish import stage_session_update
from app.resolvers.common import visible_or_not_found
from app.resolvers.sessions import load_visible_session, supervisors_query
from app.rules.attendance import AttendanceChange, Refusal, attendance_change_refusal

FORCE_SCOPE = "clinical.attendance.write.force"
MAX_BATCH = 200

_ERRORS: dict[str, type[DomainError]] = {
    "ILLEGAL_TRANSITION": IllegalTransition,
    "LOCKED": Locked,
    "FORBIDDEN": Forbidden,
    "BAD_USER_INPUT": BadInput,
    "CONFLICT": Conflict,
}


@dataclass(frozen=True)
class Requested:
    status: str
    expected: str | None
    force: bool
    reason: str | None


def _raise(refusal: Refusal, subject: str | None = None) -> None:
    message = f"{subject}: {refusal.message}" if subject else refusal.message
    raise _ERRORS[refusal.code](message)


def _decide(ctx, session_row: models.GroupSession, current: str, wanted: Requested, subject: str | None = None) -> AttendanceChange:
    change = AttendanceChange(
        current=current,
        new=wanted.status,
        expected=wanted.expected,
        session_cancelled=session_row.cancelled_at is not None,
        session_locked=session_row.locked_at is not None,
        force=wanted.force,
        may_force=ctx.principal.has_scope(FORCE_SCOPE),
        reason=wanted.reason,
    )
    refusal = attendance_change_refusal(change)
    if refusal is not None:
        _raise(refusal, subject)
    return change


def _audit_change(
    uow: UnitOfWork,
    change: AttendanceChange,
    entity_type: str,
    entity_id: uuid.UUID,
    session_pk: uuid.UUID,
    ids: dict[str, str],
) -> None:
    uow.audit(
        "attendance.force_update" if change.forced else "attendance.set",
        entity_type,
        entity_id,
        before={**ids, "status": change.current},
        after={**ids, "status": change.new},
        reason=change.reason.strip() if change.forced and change.reason else None,
        session_id=session_pk,
    )


async def _rebill_if_billed(uow: UnitOfWork, session_row: models.GroupSession) -> None:
    """A billed session follows its attendance: a forced correction, or a mark after a run that
    found nobody billable (the session was billed without claims, so it is not locked)."""
    from app.resolvers import billing_pipeline

    await billing_pipeline.rebill_session(uow, session_row)


async def _announce(
    uow: UnitOfWork, session_row: models.GroupSession, changes: Sequence[AttendanceChange], kind: str, changed_ids: Sequence[str]
) -> None:
    """One live update per committed change, staged in this transaction (nothing is sent on rollback)."""
    forced = any(change.forced for change in changes)
    await stage_session_update(uow, session_row.id, "FORCE_UPDATED" if forced else kind, changed_ids)


def _requested(status, expected_status, force: bool, reason: str | None) -> Requested:
    return Requested(
        status=status.value,
        expected=expected_status.value if expected_status is not None else None,
        force=force,
        reason=reason,
    )


# ------------------------------------------------------------------ roster


async def _participant_session_id(session, participant_pk: uuid.UUID) -> uuid.UUID:
    session_pk = await session.scalar(
        select(models.SessionParticipant.session_id).where(models.SessionParticipant.id == participant_pk)
    )
    if session_pk is None:
        raise NotFound("No RosterEntry with that id")
    return session_pk


async def _visible_participant(ctx, session, participant_pk: uuid.UUID) -> None:
    """NOT_FOUND for a roster row that does not exist or that the caller may not see."""
    facility_id = await session.scalar(
        select(models.GroupSession.facility_id)
        .join(models.SessionParticipant, models.SessionParticipant.session_id == models.GroupSession.id)
        .where(models.SessionParticipant.id == participant_pk)
    )
    if facility_id is None or not ctx.principal.sees_facility(facility_id):
        raise NotFound("No RosterEntry with that id")


async def _lock_participants(session, session_pk: uuid.UUID, participant_pks: Sequence[uuid.UUID]) -> dict[uuid.UUID, models.SessionParticipant]:
    rows = (
        await session.scalars(
            select(models.SessionParticipant)
            .where(
                models.SessionParticipant.id.in_(participant_pks),
                models.SessionParticipant.session_id == session_pk,
            )
            .order_by(models.SessionParticipant.id)  # one lock order for every writer
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    return {row.id: row for row in rows}


def _apply_to_participant(ctx, uow: UnitOfWork, change: AttendanceChange, row: models.SessionParticipant) -> None:
    row.status = change.new
    row.updated_at = ctx.services.clock.now()
    _audit_change(uow, change, "RosterEntry", row.id, row.session_id, {"patientId": str(row.patient_id)})


async def set_attendance(
    ctx, participant_id: str, status, expected_status, force: bool, reason: str | None
) -> models.SessionParticipant:
    participant_pk = decode_id(participant_id, "RosterEntry")
    wanted = _requested(status, expected_status, force, reason)
    async with ctx.unit_of_work() as uow:
        session = uow.session
        session_pk = await _participant_session_id(session, participant_pk)
        try:
            session_row = await load_visible_session(ctx, session, encode_id("GroupSession", session_pk), lock=True)
        except NotFound:
            raise NotFound("No RosterEntry with that id") from None
        row = (await _lock_participants(session, session_pk, [participant_pk])).get(participant_pk)
        if row is None:  # taken off the roster while this request waited for the session lock
            raise NotFound("No RosterEntry with that id")
        change = _decide(ctx, session_row, row.status, wanted)
        _apply_to_participant(ctx, uow, change, row)
        await session.flush()
        await _rebill_if_billed(uow, session_row)
        await _announce(uow, session_row, [change], "ATTENDANCE_CHANGED", [encode_id("RosterEntry", participant_pk)])
    return row


async def set_attendance_batch(
    ctx, session_id: str, entries: Sequence[Any], force: bool, reason: str | None
) -> list[models.SessionParticipant]:
    """Mark several roster rows in one transaction: every change is checked first and one
    refusal refuses them all."""
    if not entries:
        raise BadInput("entries must not be empty")
    if len(entries) > MAX_BATCH:
        raise BadInput(f"entries may list at most {MAX_BATCH} participants")
    wanted = {decode_id(e.participant_id, "RosterEntry"): _requested(e.status, e.expected_status, force, reason) for e in entries}
    if len(wanted) != len(entries):
        raise BadInput("entries lists a participant more than once")
    async with ctx.unit_of_work() as uow:
        session = uow.session
        session_row = await load_visible_session(ctx, session, session_id, lock=True)
        rows = await _lock_participants(session, session_row.id, list(wanted))
        changes = []
        for participant_pk, requested in wanted.items():
            row = rows.get(participant_pk)
            label = encode_id("RosterEntry", participant_pk)
            if row is None:
                await _visible_participant(ctx, session, participant_pk)
                raise BadInput(f"{label} is not on this session's roster")
            changes.append((_decide(ctx, session_row, row.status, requested, label), row))
        for change, row in changes:
            _apply_to_participant(ctx, uow, change, row)
        await session.flush()
        await _rebill_if_billed(uow, session_row)
        changed_ids = [encode_id("RosterEntry", pk) for pk in wanted]
        await _announce(uow, session_row, [c for c, _ in changes], "ATTENDANCE_CHANGED", changed_ids)
    return [rows[pk] for pk in wanted]


# -------------------------------------------------------------- supervisors


async def _is_supervisor(session, session_pk: uuid.UUID, staff_pk: uuid.UUID) -> bool:
    rows = (await session.execute(supervisors_query([session_pk]))).all()
    return any(staff_id == staff_pk for _, staff_id, _, _ in rows)


async def _lock_supervisor_row(ctx, session, session_pk: uuid.UUID, staff_pk: uuid.UUID) -> models.SupervisorAttendanceRow:
    """The supervisor's row, created at SCHEDULED first so there is a row to lock (the insert
    rolls back with everything else if the change is refused)."""
    row_model = models.SupervisorAttendanceRow
    await session.execute(
        insert(row_model)
        .values(id=uuid.uuid4(), session_id=session_pk, staff_id=staff_pk, status="SCHEDULED", updated_at=ctx.services.clock.now())
        .on_conflict_do_nothing(constraint="uq_supervisor_attendance_staff")
    )
    return await session.scalar(
        select(row_model)
        .where(row_model.session_id == session_pk, row_model.staff_id == staff_pk)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def set_supervisor_attendance(
    ctx, session_id: str, staff_id: str, status, expected_status, force: bool, reason: str | None
):
    from app.schema.sessions import SupervisorAttendance

    staff_pk = decode_id(staff_id, "Staff")
    wanted = _requested(status, expected_status, force, reason)
    async with ctx.unit_of_work() as uow:
        session = uow.session
        session_row = await load_visible_session(ctx, session, session_id, lock=True)
        # Another facility's staff member reads as one that does not exist: their existence is not revealed.
        visible_or_not_found(ctx, await session.get(models.Staff, staff_pk), "Staff")
        if not await _is_supervisor(session, session_row.id, staff_pk):
            raise BadInput("staffId is not a supervisor of this session (no SUPERVISING assignment to a rostered patient)")
        row = await _lock_supervisor_row(ctx, session, session_row.id, staff_pk)
        change = _decide(ctx, session_row, row.status, wanted)
        row.status = change.new
        row.updated_at = ctx.services.clock.now()
        # The audit entity is the (session, staff) pair the API names; entity_id keeps the staff id.
        _audit_change(uow, change, "SupervisorAttendance", staff_pk, session_row.id, {"staffId": str(staff_pk)})
        await session.flush()
        await _rebill_if_billed(uow, session_row)
        result = SupervisorAttendance.build(session_row.id, staff_pk, row.status)
        await _announce(uow, session_row, [change], "SUPERVISORS_CHANGED", [str(result.id)])
    return result
