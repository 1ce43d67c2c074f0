"""Group sessions (CL-14): the list page, the detail page, ad-hoc sessions and late participants."""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, false, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import DateTime
from strawberry.types import Info

from app.db import models
from app.errors import BadInput, Conflict, Forbidden, IllegalTransition, Locked, NotFound
from app.ids import decode_id, encode_id
from app.live.publish import stage_session_update
from app.resolvers.common import check, get_visible, require_text, visible_or_not_found
from app.rules.attendance import (
    AttendanceCounts,
    count_attendance,
    date_range_problem,
    session_date_range,
    session_window_problem,
)
from app.schema.connection import Connection
from app.schema.pagination import page_args

READ_SCOPE = "clinical.group-session.read"
MAX_AD_HOC_PATIENTS = 100

GS = models.GroupSession
SP = models.SessionParticipant


# ------------------------------------------------------------------ queries


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _facility_scope(ctx, filter) -> Any:
    """The facility condition: the one asked for (visible or NOT_FOUND), else the viewer's home
    facility, else (all-facility tokens) every facility."""
    principal = ctx.principal
    if filter is not None and filter.facility_id:
        facility_pk = decode_id(filter.facility_id, "Facility")
        if not principal.sees_facility(facility_pk):
            raise NotFound("No Facility with that id")
        return GS.facility_id == facility_pk
    if principal.all_facilities:
        return None
    home = _uuid_or_none(principal.home_facility or "")
    return GS.facility_id == home if home is not None else false()


def _status_condition(status: str, now: datetime) -> Any:
    """SQL for the derived status (app.rules.attendance.session_status), case by case."""
    live = and_(GS.cancelled_at.is_(None), GS.locked_at.is_(None))
    return {
        "CANCELLED": GS.cancelled_at.is_not(None),
        "LOCKED": and_(GS.cancelled_at.is_(None), GS.locked_at.is_not(None)),
        "SCHEDULED": and_(live, GS.starts_at > now),
        "IN_PROGRESS": and_(live, GS.starts_at <= now, GS.ends_at > now),
        "ENDED": and_(live, GS.ends_at <= now),
    }[status]


def _date_condition(filter, now: datetime) -> Any:
    """Facility-local dates, inclusive; by default today in each facility's own time zone."""
    facility_zone = select(models.Facility.timezone).where(models.Facility.id == GS.facility_id).scalar_subquery()
    local_date = func.date(func.timezone(facility_zone, GS.starts_at))
    date_from = filter.from_ if filter is not None else None
    date_to = filter.to if filter is not None else None
    if date_from is None and date_to is None:
        now_param = literal(now, DateTime(timezone=True))
        # The coarse UTC bound lets the (facility, starts_at) index narrow the scan.
        return and_(
            GS.starts_at >= now - timedelta(days=2),
            GS.starts_at < now + timedelta(days=2),
            local_date == func.date(func.timezone(facility_zone, now_param)),
        )
    start, end = session_date_range(date_from, date_to, now.date())
    check(date_range_problem(start, end))
    return and_(
        GS.starts_at >= datetime.combine(start - timedelta(days=1), time(0), timezone.utc),
        GS.starts_at < datetime.combine(end + timedelta(days=2), time(0), timezone.utc),
        local_date >= start,
        local_date <= end,
    )


async def list_sessions(info: Info, filter, first: int | None, after: str | None) -> Connection:
    from app.schema.sessions import GroupSession

    ctx = info.context
    page = page_args(first, after)
    now = ctx.services.clock.now()
    conditions = [_date_condition(filter, now)]
    facility = _facility_scope(ctx, filter)
    if facility is not None:
        conditions.append(facility)
    if filter is not None and filter.group_type:
        conditions.append(GS.group_type == filter.group_type.value)
    if filter is not None and filter.status:
        conditions.append(_status_condition(filter.status.value, now))
    query = select(GS).where(*conditions)
    async with ctx.db() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (await session.scalars(query.order_by(GS.starts_at, GS.id).offset(page.offset).limit(page.limit))).all()
    return Connection.from_page([GroupSession.from_row(r) for r in rows], page, int(total or 0))


async def load_visible_session(ctx, session: AsyncSession, global_id: str, *, lock: bool = False) -> models.GroupSession:
    """The session when in one of the caller's facilities; `lock` serializes attendance writers
    (and billing) on the session row without blocking readers."""
    pk = decode_id(global_id, "GroupSession")
    query = select(GS).where(GS.id == pk).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update(key_share=True)
    return visible_or_not_found(ctx, await session.scalar(query), "GroupSession")


async def get_session(ctx, global_id: str) -> models.GroupSession:
    async with ctx.db() as session:
        return await load_visible_session(ctx, session, global_id)


async def session_for_occurrence(info: Info, occurrence_pk: uuid.UUID):
    from app.schema.sessions import GroupSession

    if not info.context.principal.has_scope(READ_SCOPE):
        raise Forbidden(f"Missing scope {READ_SCOPE}")

    async def batch(session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[Any]:
        rows = (await session.scalars(select(GS).where(GS.occurrence_id.in_(keys)))).all()
        found = {row.occurrence_id: row for row in rows}
        return [found.get(key) for key in keys]

    row = await info.context.loaders.custom("session_by_occurrence", batch).load(occurrence_pk)
    if row is None or not info.context.principal.sees_facility(row.facility_id):
        return None
    return GroupSession.from_row(row)


# ------------------------------------------------------- detail (batched)


async def _rosters(session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[list[models.SessionParticipant]]:
    query = (
        select(SP)
        .join(models.Patient, models.Patient.id == SP.patient_id)
        .where(SP.session_id.in_(keys))
        .order_by(models.Patient.name, SP.id)
    )
    grouped: dict[uuid.UUID, list[models.SessionParticipant]] = defaultdict(list)
    for row in (await session.scalars(query)).all():
        grouped[row.session_id].append(row)
    return [grouped.get(key, []) for key in keys]


async def session_roster(info: Info, session_pk: uuid.UUID) -> list[models.SessionParticipant]:
    return await info.context.loaders.custom("session_roster", _rosters).load(session_pk)


async def attendance_counts(info: Info, session_pk: uuid.UUID) -> AttendanceCounts:
    return count_attendance(row.status for row in await session_roster(info, session_pk))


async def attendance_summary(info: Info, session_pk: uuid.UUID):
    from app.schema.sessions import AttendanceSummary

    counts = await attendance_counts(info, session_pk)
    return AttendanceSummary(
        scheduled=counts.scheduled,
        attended=counts.attended,
        late=counts.late,
        absent=counts.absent,
        total=counts.total,
        terminal=counts.terminal,
    )


@dataclass(frozen=True)
class SupervisorRow:
    staff_id: uuid.UUID
    status: str


def supervisors_query(session_ids: Any):
    """Every distinct staff member with a SUPERVISING assignment to a patient on the roster, with
    their attendance (no row reads SCHEDULED), ordered by name."""
    sa, att, staff = models.StaffAssignment, models.SupervisorAttendanceRow, models.Staff
    return (
        select(SP.session_id, sa.staff_id, func.coalesce(att.status, "SCHEDULED"), staff.name)
        .select_from(SP)
        .join(sa, and_(sa.patient_id == SP.patient_id, sa.role == "SUPERVISING"))
        .join(staff, staff.id == sa.staff_id)
        .outerjoin(att, and_(att.session_id == SP.session_id, att.staff_id == sa.staff_id))
        .where(SP.session_id.in_(session_ids))
        .distinct()
        .order_by(SP.session_id, staff.name, sa.staff_id)
    )


async def _supervisors(session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[list[SupervisorRow]]:
    grouped: dict[uuid.UUID, list[SupervisorRow]] = defaultdict(list)
    for session_id, staff_id, status, _name in (await session.execute(supervisors_query(keys))).all():
        grouped[session_id].append(SupervisorRow(staff_id, status))
    return [grouped.get(key, []) for key in keys]


async def session_supervisor_rows(info: Info, session_pk: uuid.UUID) -> list[SupervisorRow]:
    return await info.context.loaders.custom("session_supervisors", _supervisors).load(session_pk)


async def session_supervisors(info: Info, row: models.GroupSession):
    from app.schema.sessions import SupervisorAttendance

    return [
        SupervisorAttendance.build(row.id, s.staff_id, s.status)
        for s in await session_supervisor_rows(info, row.id)
    ]


# ---------------------------------------------------------------- mutations


def session_snapshot(row: models.GroupSession) -> dict[str, Any]:
    """The audit view of a session: ids and times, never free text that could name a patient."""
    return {
        "facilityId": str(row.facility_id),
        "groupId": str(row.group_id) if row.group_id else None,
        "occurrenceId": str(row.occurrence_id) if row.occurrence_id else None,
        "groupType": row.group_type,
        "startsAt": row.starts_at.isoformat(),
        "endsAt": row.ends_at.isoformat(),
    }


async def _patients_of_facility(ctx, session: AsyncSession, patient_pks: list[uuid.UUID], facility_id: uuid.UUID) -> None:
    """Patients the caller cannot see are NOT_FOUND, as ones that do not exist; patients of another
    of the caller's facilities are the wrong patients (BAD_USER_INPUT)."""
    if not patient_pks:
        return
    facility_of = dict(
        (
            await session.execute(
                select(models.Patient.id, models.Patient.facility_id).where(models.Patient.id.in_(patient_pks))
            )
        ).all()
    )
    for pk in patient_pks:
        if pk not in facility_of or not ctx.principal.sees_facility(facility_of[pk]):
            raise NotFound("No Patient with that id")
    missing = [pk for pk in patient_pks if facility_of[pk] != facility_id]
    if missing:
        raise BadInput(
            "patientIds must name patients of the session's facility: "
            + ", ".join(encode_id("Patient", pk) for pk in missing)
        )


async def create_group_session(ctx, data) -> models.GroupSession:
    title = require_text("title", data.title)
    check(session_window_problem(data.starts_at, data.ends_at))
    patient_pks = [decode_id(p, "Patient") for p in data.patient_ids]
    if len(set(patient_pks)) != len(patient_pks):
        raise BadInput("patientIds lists a patient more than once")
    if len(patient_pks) > MAX_AD_HOC_PATIENTS:
        raise BadInput(f"patientIds may list at most {MAX_AD_HOC_PATIENTS} patients")
    async with ctx.unit_of_work() as uow:
        session = uow.session
        facility = await get_visible(ctx, session, models.Facility, data.facility_id, "Facility")
        await _patients_of_facility(ctx, session, patient_pks, facility.id)
        row = GS(
            facility_id=facility.id,
            group_type=data.group_type.value,
            title=title,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
        )
        session.add(row)
        await session.flush()
        session.add_all(SP(session_id=row.id, patient_id=pk, status="SCHEDULED") for pk in patient_pks)
        await session.flush()
        await session.refresh(row)
        uow.audit(
            "session.create",
            "GroupSession",
            row.id,
            after={**session_snapshot(row), "patientIds": [str(pk) for pk in patient_pks]},
            session_id=row.id,
        )
    return row


async def add_session_participant(ctx, session_id: str, patient_id: str) -> models.SessionParticipant:
    patient_pk = decode_id(patient_id, "Patient")
    async with ctx.unit_of_work() as uow:
        session = uow.session
        row = await load_visible_session(ctx, session, session_id, lock=True)
        patient = visible_or_not_found(ctx, await session.get(models.Patient, patient_pk), "Patient")
        if patient.facility_id != row.facility_id:
            raise BadInput("patientId must name a patient of the session's facility")
        if row.cancelled_at is not None:
            raise IllegalTransition("The session is cancelled; its roster cannot change")
        if row.locked_at is not None:
            raise Locked("The session is locked by billing; its roster cannot change")
        now = ctx.services.clock.now()
        participant_pk = await session.scalar(
            insert(SP)
            .values(id=uuid.uuid4(), session_id=row.id, patient_id=patient.id, status="SCHEDULED", added_late=True, created_at=now, updated_at=now)
            .on_conflict_do_nothing(constraint="uq_session_participants_patient")
            .returning(SP.id)
        )
        if participant_pk is None:
            raise Conflict("The patient is already on this session's roster")
        participant = await session.get(SP, participant_pk)
        uow.audit(
            "session.participant_add",
            "RosterEntry",
            participant_pk,
            after={"patientId": str(patient.id), "status": "SCHEDULED", "addedLate": True},
            session_id=row.id,
        )
        await stage_session_update(uow, row.id, "ROSTER_CHANGED", [encode_id("RosterEntry", participant_pk)])
    return participant
