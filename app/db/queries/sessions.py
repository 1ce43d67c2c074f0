"""Group sessions, their rosters and supervisors, and what the scheduling feed does to them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from typing import Any

from sqlalchemy import and_, delete, exists, false, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import DateTime

from app.db import models
from app.db.queries.common import Page, columns_of, core_rows, read_model, read_page, rows_by_column
from app.db.queries.groups import audit_pages_by
from app.rules.attendance import AttendanceStatus, SessionStatus, local_window
from app.rules.reference import StaffAssignmentRole
from app.rules.scheduling import GroupType

GS = models.GroupSession
RE = models.RosterEntry

# The read models of the list, detail and roster pages (Core rows, no ORM instances): a session
# with its facility's time zone and its local date and times worked out once; a roster entry with
# its patient, read in the roster's own statement.
SessionRow = read_model(GS, "timezone", "local")
PatientRow = read_model(models.Patient)
RosterRow = read_model(RE, "patient")


class Lock(Enum):
    """How a writer holds a session row.

    WRITE (FOR NO KEY UPDATE): attendance and roster writers serialize on the session, readers
    and inserts that reference it are not blocked. BILL (FOR UPDATE): billing excludes every
    writer, and waits for them. SHARE (FOR SHARE): scheduling waits for a billing run in flight
    before it reads the lock."""

    WRITE = "write"
    BILL = "bill"
    SHARE = "share"


def _locked(query, lock: Lock | None, *, skip_locked: bool = False):
    if lock is Lock.WRITE:
        return query.with_for_update(key_share=True)
    if lock is Lock.BILL:
        return query.with_for_update(skip_locked=skip_locked)
    if lock is Lock.SHARE:
        return query.with_for_update(read=True)
    return query


async def session(db: AsyncSession, session_id: uuid.UUID, *, lock: Lock | None = None) -> GS | None:
    """The session row; a locked read sees it as committed once the lock is held."""
    query = select(GS).where(GS.id == session_id)
    if lock is not None:
        query = _locked(query, lock).execution_options(populate_existing=True)
    return await db.scalar(query)


def _session_rows():
    facility = models.Facility.__table__.alias("session_facility")  # beside the date conditions' own subquery
    return select(*columns_of(GS), facility.c.timezone).join(facility, facility.c.id == GS.facility_id)


def _session_row(row: Any) -> Any:
    *columns, zone = row
    starts_at, ends_at = row.starts_at, row.ends_at
    return SessionRow(*columns, zone, local_window(starts_at, ends_at, zone))


async def session_row(db: AsyncSession, session_id: uuid.UUID) -> Any | None:
    """The session as a read model (SessionRow), for the detail page."""
    rows = await core_rows(db, _session_rows().where(GS.id == session_id))
    return _session_row(rows[0]) if rows else None


# ------------------------------------------------------------------ the list page


def status_condition(status: SessionStatus, now: datetime) -> Any:
    """SQL for app.rules.attendance.status_of, case by case."""
    uncancelled = GS.cancelled_at.is_(None)
    live = and_(uncancelled, GS.locked_at.is_(None), GS.billed_at.is_(None))
    ended = and_(live, GS.ends_at <= now)
    return {
        SessionStatus.CANCELLED: GS.cancelled_at.is_not(None),
        SessionStatus.LOCKED: and_(uncancelled, GS.locked_at.is_not(None)),
        SessionStatus.CLOSED: and_(uncancelled, GS.locked_at.is_(None), GS.billed_at.is_not(None)),
        SessionStatus.SCHEDULED: and_(live, GS.starts_at > now),
        SessionStatus.IN_PROGRESS: and_(live, GS.starts_at <= now, GS.ends_at > now),
        SessionStatus.AWAITING_FINALIZATION: and_(ended, GS.awaiting_finalization_at.is_not(None)),
        SessionStatus.ENDED: and_(ended, GS.awaiting_finalization_at.is_(None)),
    }[status]


def _local_date():
    facility_zone = select(models.Facility.timezone).where(models.Facility.id == GS.facility_id).scalar_subquery()
    return facility_zone, func.date(func.timezone(facility_zone, GS.starts_at))


def today_condition(now: datetime) -> Any:
    """Sessions of today in each facility's own time zone."""
    facility_zone, local_date = _local_date()
    now_param = literal(now, DateTime(timezone=True))
    # The coarse UTC bound lets the (facility, starts_at) index narrow the scan.
    return and_(
        GS.starts_at >= now - timedelta(days=2),
        GS.starts_at < now + timedelta(days=2),
        local_date == func.date(func.timezone(facility_zone, now_param)),
    )


def dates_condition(start: date, end: date) -> Any:
    """Sessions whose facility-local date is in [start, end]."""
    _, local_date = _local_date()
    return and_(
        GS.starts_at >= datetime.combine(start - timedelta(days=1), time(0), timezone.utc),
        GS.starts_at < datetime.combine(end + timedelta(days=2), time(0), timezone.utc),
        local_date >= start,
        local_date <= end,
    )


async def sessions_page(
    db: AsyncSession,
    *,
    dates: Any,
    facility_ids: Sequence[uuid.UUID] | None,
    group_type: GroupType | None,
    status: SessionStatus | None,
    now: datetime,
    window: Page,
) -> tuple[list[Any], int]:
    """The list page: `dates` from today_condition or dates_condition; facilities None = all."""
    conditions = [dates]
    if facility_ids is not None:
        conditions.append(GS.facility_id.in_(facility_ids) if facility_ids else false())
    if group_type is not None:
        conditions.append(GS.group_type == group_type)
    if status is not None:
        conditions.append(status_condition(status, now))
    return await read_page(db, _session_rows().where(*conditions), _session_row, GS.starts_at, GS.id, window=window)


async def sessions_by_occurrence(db: AsyncSession, occurrence_ids: Sequence[uuid.UUID]) -> list[GS | None]:
    rows = await db.scalars(select(GS).where(GS.occurrence_id.in_(occurrence_ids)))
    found = {row.occurrence_id: row for row in rows}
    return [found.get(pk) for pk in occurrence_ids]


async def session_of_occurrence(db: AsyncSession, occurrence_id: uuid.UUID, *, lock: Lock | None = None) -> GS | None:
    query = _locked(select(GS).where(GS.occurrence_id == occurrence_id), lock)
    if lock is not None:
        query = query.execution_options(populate_existing=True)
    return await db.scalar(query)


# ------------------------------------------------------------------ rosters and supervisors


async def rosters(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[list[Any]]:
    """Each session's roster, by patient name: RosterRow read models, each with its patient
    (PatientRow) from the same statement."""
    entry_columns = columns_of(RE)
    query = (
        select(*entry_columns, *columns_of(models.Patient))
        .join(models.Patient, models.Patient.id == RE.patient_id)
        .where(RE.session_id.in_(session_ids))
        .order_by(models.Patient.name, RE.id)
    )
    split, make_patient = len(entry_columns), PatientRow._make
    grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in await core_rows(db, query):
        entry = RosterRow(*row[:split], make_patient(row[split:]))
        grouped[entry.session_id].append(entry)
    return [grouped.get(pk, []) for pk in session_ids]


async def supervisors_by_session(
    db: AsyncSession, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """Each session's supervisors, by name: every distinct staff member with a SUPERVISING
    assignment to a patient on the roster, with their attendance (SCHEDULED until marked)."""
    sa, marked, staff = models.StaffAssignment, models.SupervisorAttendance, models.Staff
    query = (
        select(RE.session_id, sa.staff_id, func.coalesce(marked.status, AttendanceStatus.SCHEDULED.value), staff.name)
        .select_from(RE)
        .join(sa, and_(sa.patient_id == RE.patient_id, sa.role == StaffAssignmentRole.SUPERVISING))
        .join(staff, staff.id == sa.staff_id)
        .outerjoin(marked, and_(marked.session_id == RE.session_id, marked.staff_id == sa.staff_id))
        .where(RE.session_id.in_(session_ids))
        .distinct()
        .order_by(RE.session_id, staff.name, sa.staff_id)
    )
    grouped: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {pk: [] for pk in session_ids}
    for session_id, staff_id, status, _name in (await db.execute(query)).all():
        grouped[session_id].append((staff_id, status))
    return grouped


async def roster_entry_session(db: AsyncSession, entry_id: uuid.UUID) -> uuid.UUID | None:
    return await db.scalar(select(RE.session_id).where(RE.id == entry_id))


async def roster_entry_facility(db: AsyncSession, entry_id: uuid.UUID) -> uuid.UUID | None:
    """The facility of the roster entry's session (None when there is no such entry)."""
    return await db.scalar(select(GS.facility_id).join(RE, RE.session_id == GS.id).where(RE.id == entry_id))


async def lock_roster_entries(
    db: AsyncSession, session_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RE]:
    """The session's roster entries named, locked in one order for every writer, as committed."""
    rows = await db.scalars(
        select(RE)
        .where(RE.id.in_(entry_ids), RE.session_id == session_id)
        .order_by(RE.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


async def lock_roster_entry_noting_group_note(
    db: AsyncSession, session_id: uuid.UUID, entry_id: uuid.UUID
) -> tuple[RE | None, bool]:
    """The session's roster entry, locked as lock_roster_entries locks it, and whether the session
    has a group note, in one statement. Sent once the session's lock is held, its snapshot holds
    every note committed by a writer that held that lock before (a note is written under it)."""
    has_note = exists().where(models.GroupNote.session_id == session_id).label("has_group_note")
    row = (
        await db.execute(
            select(RE, has_note)
            .where(RE.id == entry_id, RE.session_id == session_id)
            .with_for_update(of=RE)
            .execution_options(populate_existing=True)
        )
    ).first()
    return (row[0], bool(row[1])) if row is not None else (None, False)


async def write_entry_with_audit(db: AsyncSession, entry: RE, values: dict[str, Any], audit: dict[str, Any]) -> None:
    """The entry's new values and its audit entry in one statement (the UPDATE as a CTE the INSERT
    reads); the entry object takes the values as written, with nothing left for the ORM to flush."""
    audit_table = models.AuditEntry.__table__
    updated = update(RE.__table__).where(RE.__table__.c.id == entry.id).values(**values).returning(RE.__table__.c.id)
    updated = updated.cte("updated")
    columns = list(audit)
    source = select(
        *(
            literal(audit[name], JSONB if name in ("before", "after") else audit_table.c[name].type).label(name)
            for name in columns
        )
    ).select_from(updated)
    await db.execute(insert(audit_table).from_select(columns, source).add_cte(updated))
    for name, value in values.items():
        set_committed_value(entry, name, value)


async def add_roster_entries(
    db: AsyncSession,
    session_id: uuid.UUID,
    patient_ids: Sequence[uuid.UUID],
    *,
    now: datetime,
    added_late: bool = False,
) -> list[uuid.UUID]:
    """Put the patients on the roster at SCHEDULED; returns the ids of the entries made (a patient
    already on it is skipped)."""
    if not patient_ids:
        return []
    rows = [
        {
            "id": uuid.uuid4(),
            "session_id": session_id,
            "patient_id": p,
            "status": AttendanceStatus.SCHEDULED,
            "added_late": added_late,
            "created_at": now,
            "updated_at": now,
        }
        for p in patient_ids
    ]
    made = await db.scalars(
        insert(RE).values(rows).on_conflict_do_nothing(constraint="uq_roster_entries_patient").returning(RE.id)
    )
    return list(made.all())


async def lock_supervisor_attendance(
    db: AsyncSession, session_id: uuid.UUID, staff_id: uuid.UUID, *, now: datetime
) -> models.SupervisorAttendance:
    """The supervisor's attendance row, created at SCHEDULED first so there is a row to lock (the
    insert rolls back with everything else if the change is refused)."""
    row = models.SupervisorAttendance
    await db.execute(
        insert(row)
        .values(
            id=uuid.uuid4(), session_id=session_id, staff_id=staff_id, status=AttendanceStatus.SCHEDULED, updated_at=now
        )
        .on_conflict_do_nothing(constraint="uq_supervisor_attendance_staff")
    )
    return await db.scalar(
        select(row)
        .where(row.session_id == session_id, row.staff_id == staff_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def audit_entries(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[list[models.AuditEntry]]:
    return await rows_by_column(db, models.AuditEntry.session_id, session_ids, models.AuditEntry.id)


async def audit_pages(
    db: AsyncSession, session_ids: Sequence[uuid.UUID], offset: int, limit: int
) -> list[tuple[list[models.AuditEntry], int]]:
    """One page of each session's audit entries, newest first, and each session's total."""
    return await audit_pages_by(db, models.AuditEntry.session_id, session_ids, offset, limit)


async def lock_session_of_entry_for_update(db: AsyncSession, entry_id: uuid.UUID) -> GS | None:
    """The session of the roster entry, locked as Lock.WRITE and with its live-update sequence
    taken, in one statement (None when there is no such entry).

    An UPDATE that changes no key column holds the row FOR NO KEY UPDATE, the lock Lock.WRITE
    takes: writers serialize on it, readers and inserts that reference it are not blocked, billing's
    FOR UPDATE waits for it (and it for billing). After a wait it sees the row as committed, like a
    locked read. The sequence is the one the change's live update carries; a refused change rolls
    it back with everything else."""
    entry_session = select(RE.session_id).where(RE.id == entry_id).scalar_subquery()
    return await db.scalar(
        update(GS).where(GS.id == entry_session).values(update_sequence=GS.update_sequence + 1).returning(GS),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )


async def bump_sequence(db: AsyncSession, session_id: uuid.UUID) -> int | None:
    """The session's next live-update sequence number, taken in this transaction."""
    return await db.scalar(
        update(GS)
        .where(GS.id == session_id)
        .values(update_sequence=GS.update_sequence + 1)
        .returning(GS.update_sequence)
    )


# ------------------------------------------------------------------ the scheduling feed


async def add_session_for_occurrence(db: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """A session for an occurrence; None when the occurrence already has one."""
    return await db.scalar(
        insert(GS)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(index_elements=[GS.occurrence_id])
        .returning(GS.id)
    )


async def add_sessions_for_occurrences(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[uuid.UUID, uuid.UUID]:
    """Sessions for many occurrences in one multi-row INSERT: {occurrence id: session id} of those
    made (an occurrence that already has one is skipped)."""
    if not rows:
        return {}
    table = GS.__table__  # Core rows: no ORM instances; insertmanyvalues makes it one statement
    made = await db.execute(
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.occurrence_id])
        .returning(table.c.occurrence_id, table.c.id),
        [{"id": uuid.uuid4(), **values} for values in rows],
    )
    return {occurrence_id: session_id for occurrence_id, session_id in made.all()}


async def add_rosters(
    db: AsyncSession, patients_by_session: dict[uuid.UUID, Sequence[uuid.UUID]], *, now: datetime
) -> None:
    """The patients on the rosters of many sessions at SCHEDULED, in one multi-row INSERT."""
    rows = [
        {
            "id": uuid.uuid4(),
            "session_id": session_id,
            "patient_id": p,
            "status": AttendanceStatus.SCHEDULED,
            "added_late": False,
            "created_at": now,
            "updated_at": now,
        }
        for session_id, patients in patients_by_session.items()
        for p in patients
    ]
    if rows:
        table = RE.__table__
        await db.execute(
            insert(table).on_conflict_do_nothing(constraint="uq_roster_entries_patient").returning(table.c.id),
            rows,
        )


def _upcoming(group_id: uuid.UUID, now: datetime):
    return select(GS.id).where(
        GS.group_id == group_id, GS.starts_at > now, GS.cancelled_at.is_(None), GS.locked_at.is_(None)
    )


async def join_upcoming_rosters(
    db: AsyncSession, group_id: uuid.UUID, patient_id: uuid.UUID, now: datetime
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The patient on the roster of every live session of the group that has not started:
    (entry, session) of each entry made."""
    session_ids = (await db.scalars(_upcoming(group_id, now))).all()
    if not session_ids:
        return []
    rows = [
        {"id": uuid.uuid4(), "session_id": s, "patient_id": patient_id, "status": AttendanceStatus.SCHEDULED}
        for s in session_ids
    ]
    made = await db.execute(
        insert(RE)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_roster_entries_patient")
        .returning(RE.id, RE.session_id)
    )
    return [tuple(row) for row in made.all()]


async def leave_upcoming_rosters(
    db: AsyncSession, group_id: uuid.UUID, patient_id: uuid.UUID, now: datetime
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The patient off the rosters of the group's sessions that have not started, wherever their
    attendance is still SCHEDULED: (entry, session) of each entry removed."""
    removed = await db.execute(
        delete(RE)
        .where(
            RE.patient_id == patient_id,
            RE.status == AttendanceStatus.SCHEDULED,
            RE.session_id.in_(_upcoming(group_id, now)),
        )
        .returning(RE.id, RE.session_id)
    )
    return [tuple(row) for row in removed.all()]
