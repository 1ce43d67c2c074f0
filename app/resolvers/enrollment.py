"""Enrollment operations (PM-04): enroll, disenroll, remove, and the self-filling waitlist.

Each change locks its group row first (`lock_group_for_enrollment`), so one group's line is
changed by one transaction at a time and the waitlist rules see every committed change.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased
from strawberry.types import Info

from app.db import models
from app.db.uow import UnitOfWork
from app.errors import Forbidden, NotFound
from app.ids import decode_id
from app.resolvers.common import require_text, visible_or_not_found
from app.resolvers.scheduling import load_live_group
from app.rules import waitlist as rules
from app.rules.waitlist import DISENROLLED, ENROLLED, WAITLISTED
from app.schema.connection import Connection
from app.schema.enums import EnrollmentStatus
from app.schema.pagination import page_args
from app.schema.scheduling import Capacity, DisenrollResult, Enrollment, EnrollmentResult

ACTIVE = (ENROLLED, WAITLISTED)
ALL_STATUSES = (ENROLLED, WAITLISTED, DISENROLLED)
VIEW_SCOPE = "pm.group_enrollments.view"

Row = models.Enrollment
Enrollments = dict[uuid.UUID, Row]  # a group's live enrollments, by patient
LIVE = and_(Row.status.in_(ACTIVE), Row.deleted_at.is_(None))


# ------------------------------------------------------------------ changes


async def enroll_patient(ctx, group_id: str, patient_id: str) -> EnrollmentResult:
    async with ctx.unit_of_work() as uow:
        session, now = uow.session, uow.clock.now()
        patient_pk = decode_id(patient_id, "Patient")
        group = await load_live_group(ctx, session, group_id, for_update=True)
        patient = await session.get(models.Patient, patient_pk)
        if patient is None or patient.facility_id != group.facility_id:
            raise NotFound("No Patient with that id")
        line = rules.enroll(_line(group, await _live_enrollments(session, group.id)), patient.id).line
        row = Row(
            id=uuid.uuid4(),
            group_id=group.id,
            patient_id=patient.id,
            status=line.status_of(patient.id),
            waitlist_position=line.position_of(patient.id),
        )
        if row.status == ENROLLED:
            row.enrolled_at = now
        else:
            row.waitlisted_at = now
        session.add(row)
        _record(uow, group, row, row.status.lower(), before=None)
    if row.status == ENROLLED:
        message = f"Enrolled in {group.name} ({len(line.enrolled)}/{group.max_capacity})"
    else:
        message = f"Group is full: waitlisted at position {row.waitlist_position}"
    return EnrollmentResult(
        enrollment=Enrollment.from_row(row), outcome=EnrollmentStatus(row.status), message=message
    )


async def disenroll_patient(ctx, enrollment_id: str, reason: str | None) -> DisenrollResult:
    reason = require_text("reason", reason, max_length=1000) if reason and reason.strip() else None
    async with ctx.unit_of_work() as uow:
        now = uow.clock.now()
        group, row = await _lock_enrollment(ctx, uow.session, enrollment_id)
        enrollments = await _live_enrollments(uow.session, group.id)
        change = rules.leave(_line(group, enrollments), row.patient_id)
        before = _snapshot(row)
        row.status, row.waitlist_position = DISENROLLED, None
        row.disenrolled_at, row.disenroll_reason = now, reason
        _record(uow, group, row, "disenrolled", before=before, reason=reason)
        promoted = _settle(uow, group, enrollments, change, now)
    where = "the waitlist of " if before["status"] == WAITLISTED else ""
    message = f"Disenrolled from {where}{group.name}" + _promotion_note(change, group)
    return DisenrollResult(
        enrollment=Enrollment.from_row(row),
        promoted=Enrollment.from_row(promoted[0]) if promoted else None,
        message=message,
    )


async def remove_enrollment(ctx, enrollment_id: str) -> Enrollment:
    async with ctx.unit_of_work() as uow:
        now = uow.clock.now()
        group, row = await _lock_enrollment(ctx, uow.session, enrollment_id)
        enrollments = await _live_enrollments(uow.session, group.id)
        change = rules.leave(_line(group, enrollments), row.patient_id) if row.status in ACTIVE else None
        before = _snapshot(row)
        row.deleted_at, row.waitlist_position = now, None
        _record(uow, group, row, "removed", before=before)
        if change is not None:
            _settle(uow, group, enrollments, change, now)
    return Enrollment.from_row(row)


async def fill_open_seats(uow: UnitOfWork, group: models.GroupDefinition) -> list[Row]:
    """After a change to maxCapacity of a group the caller has locked: promote into free seats."""
    enrollments = await _live_enrollments(uow.session, group.id)
    change = rules.change_capacity(_line(group, enrollments), group.max_capacity)
    return _settle(uow, group, enrollments, change, uow.clock.now())


async def lock_group_for_enrollment(session, group_id: uuid.UUID) -> models.GroupDefinition:
    """SELECT … FOR UPDATE on the group row: the one lock every change to its line takes."""
    return await session.get(models.GroupDefinition, group_id, with_for_update=True, populate_existing=True)


async def _lock_enrollment(ctx, session, global_id: str) -> tuple[models.GroupDefinition, Row]:
    """The enrollment's group, locked, and the enrollment as committed once the lock is held."""
    pk = decode_id(global_id, "Enrollment")
    found = await session.get(Row, pk)
    if found is None:
        raise NotFound("No Enrollment with that id")
    group = await lock_group_for_enrollment(session, found.group_id)
    visible_or_not_found(ctx, group, "Enrollment")
    row = await session.get(Row, pk, populate_existing=True)
    if row.deleted_at is not None or group.deleted_at is not None:
        raise NotFound("No Enrollment with that id")
    return group, row


async def _live_enrollments(session, group_id: uuid.UUID) -> Enrollments:
    rows = await session.scalars(
        select(Row).where(Row.group_id == group_id, LIVE).execution_options(populate_existing=True)
    )
    return {row.patient_id: row for row in rows}


def _line(group: models.GroupDefinition, enrollments: Enrollments) -> rules.Line:
    rows = enrollments.values()
    waiting = sorted((r for r in rows if r.status == WAITLISTED), key=lambda r: r.waitlist_position)
    return rules.Line(
        max_capacity=group.max_capacity,
        enrolled=tuple(r.patient_id for r in rows if r.status == ENROLLED),
        waitlist=tuple(r.patient_id for r in waiting),
    )


def _settle(
    uow: UnitOfWork, group: models.GroupDefinition, enrollments: Enrollments, change: rules.Change, now: datetime
) -> list[Row]:
    """Write the line back to the rows that stay in it: promotions (returned, lowest position
    first) and waitlist positions closing up, each audited."""
    for patient_id, row in enrollments.items():
        if change.line.status_of(patient_id) is None or patient_id in change.promoted:
            continue
        if row.waitlist_position != change.line.position_of(patient_id):
            before = _snapshot(row)
            row.waitlist_position = change.line.position_of(patient_id)
            uow.audit(
                "enrollment.waitlist_moved", "Enrollment", row.id,
                before=before, after=_snapshot(row), group_id=group.id,
            )
    promoted = []
    for patient_id in change.promoted:
        row = enrollments[patient_id]
        before = _snapshot(row)
        row.status, row.waitlist_position, row.enrolled_at = ENROLLED, None, now
        _record(uow, group, row, "promoted", before=before)
        promoted.append(row)
    return promoted


def _record(
    uow: UnitOfWork,
    group: models.GroupDefinition,
    row: Row,
    kind: str,
    *,
    before: dict | None,
    reason: str | None = None,
) -> None:
    """Audit one enrollment change and announce it (kind: enrolled, waitlisted, promoted,
    disenrolled, removed); session rosters follow these events."""
    uow.audit(
        f"enrollment.{kind}", "Enrollment", row.id,
        before=before, after=_snapshot(row), reason=reason, group_id=group.id,
    )
    uow.record_event(
        f"pm_group_enrollment_{kind}",
        {
            "enrollmentId": str(row.id),
            "groupId": str(group.id),
            "patientId": str(row.patient_id),
            "facilityId": str(group.facility_id),
            "status": row.status,
            "waitlistPosition": row.waitlist_position,
        },
    )


def _snapshot(row: Row) -> dict[str, Any]:
    """The audit view of an enrollment: ids and states only, never patient details."""
    return {
        "patientId": str(row.patient_id),
        "status": row.status,
        "waitlistPosition": row.waitlist_position,
        "enrolledAt": _iso(row.enrolled_at),
        "waitlistedAt": _iso(row.waitlisted_at),
        "disenrolledAt": _iso(row.disenrolled_at),
        "deletedAt": _iso(row.deleted_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _promotion_note(change: rules.Change, group: models.GroupDefinition) -> str:
    if not change.promoted:
        return ""
    return (
        f"; the next waitlisted patient was promoted to enrolled "
        f"({len(change.line.enrolled)}/{group.max_capacity})"
    )


# ------------------------------------------------------------------ reads


def _require_view(ctx) -> None:
    if not ctx.principal.has_scope(VIEW_SCOPE):
        raise Forbidden(f"Missing scope {VIEW_SCOPE}")


async def get_enrollment(info: Info, pk: uuid.UUID) -> Enrollment:
    ctx = info.context
    _require_view(ctx)
    row = await ctx.loaders.by_id(Row).load(pk)
    group = await ctx.loaders.by_id(models.GroupDefinition).load(row.group_id) if row else None
    row = visible_or_not_found(ctx, row, "Enrollment", facility_id=group.facility_id if group else None)
    if row.deleted_at is not None or group.deleted_at is not None:
        raise NotFound("No Enrollment with that id")
    return Enrollment.from_row(row)


async def group_capacity(info: Info, group: models.GroupDefinition) -> Capacity:
    counts = await info.context.loaders.custom("enrollment_counts", _count_active).load(group.id)
    enrolled, waitlisted = counts.get(ENROLLED, 0), counts.get(WAITLISTED, 0)
    return Capacity(
        enrolled=enrolled,
        max=group.max_capacity,
        min=group.min_capacity,
        waitlisted=waitlisted,
        at_capacity=rules.at_capacity(enrolled, group.max_capacity),
        over_capacity=rules.over_capacity(enrolled, group.max_capacity),
    )


async def group_waitlist(info: Info, group: models.GroupDefinition) -> list[Enrollment]:
    _require_view(info.context)
    waiting = and_(Row.status == WAITLISTED, Row.deleted_at.is_(None))
    loader = info.context.loaders.children(Row.group_id, Row.waitlist_position, where=waiting)
    return [Enrollment.from_row(row) for row in await loader.load(group.id)]


async def group_enrollments(
    info: Info, group: models.GroupDefinition, status, first: int | None, after: str | None
) -> Connection[Enrollment]:
    _require_view(info.context)
    page = page_args(first, after)
    statuses = tuple(sorted(s.value for s in status)) if status else ALL_STATUSES

    async def batch(session, group_ids: Sequence[uuid.UUID]) -> list[tuple[list, int]]:
        return await _enrollment_pages(session, group_ids, statuses, page.offset, page.limit)

    rows, total = await info.context.loaders.custom(("enrollments", statuses, page), batch).load(group.id)
    return Connection.from_page([Enrollment.from_row(r) for r in rows], page, total)


async def _count_active(session, group_ids: Sequence[uuid.UUID]) -> list[dict[str, int]]:
    result = await session.execute(
        select(Row.group_id, Row.status, func.count())
        .where(Row.group_id.in_(group_ids), LIVE)
        .group_by(Row.group_id, Row.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {pk: {} for pk in group_ids}
    for group_id, status, count in result:
        counts[group_id][status] = count
    return [counts[pk] for pk in group_ids]


async def _enrollment_pages(
    session, group_ids: Sequence[uuid.UUID], statuses: tuple[str, ...], offset: int, limit: int
) -> list[tuple[list[Row], int]]:
    """One page of each group's enrollments (enrolled, then the waitlist in order, then
    disenrolled), and each group's total: two statements for any number of groups."""
    matching = and_(Row.group_id.in_(group_ids), Row.status.in_(statuses), Row.deleted_at.is_(None))
    counted = await session.execute(select(Row.group_id, func.count()).where(matching).group_by(Row.group_id))
    totals = dict(counted.all())
    status_rank = case({ENROLLED: 0, WAITLISTED: 1}, value=Row.status, else_=2)
    rank = func.row_number().over(
        partition_by=Row.group_id, order_by=(status_rank, Row.waitlist_position, Row.created_at, Row.id)
    )
    numbered = select(Row, rank.label("rank")).where(matching).subquery()
    page_row = aliased(Row, numbered)
    rows = await session.scalars(
        select(page_row)
        .where(numbered.c.rank > offset, numbered.c.rank <= offset + limit)
        .order_by(numbered.c.group_id, numbered.c.rank)
    )
    pages: dict[uuid.UUID, list[Row]] = {pk: [] for pk in group_ids}
    for row in rows:
        pages[row.group_id].append(row)
    return [(pages[pk], int(totals.get(pk, 0))) for pk in group_ids]
