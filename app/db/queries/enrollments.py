"""Enrollments: a group's line (enrolled and waitlisted), its counts, and pages of its history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db import models
from app.db.queries.common import rows_by_column
from app.rules.waitlist import EnrollmentStatus

Row = models.Enrollment
ACTIVE = (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED)
LIVE = and_(Row.status.in_(ACTIVE), Row.deleted_at.is_(None))


async def enrollment(db: AsyncSession, enrollment_id: uuid.UUID, *, fresh: bool = False) -> Row | None:
    return await db.get(Row, enrollment_id, populate_existing=fresh)


async def live_enrollments(db: AsyncSession, group_id: uuid.UUID) -> dict[uuid.UUID, Row]:
    """The group's enrolled and waitlisted patients (as committed), by patient."""
    rows = await db.scalars(select(Row).where(Row.group_id == group_id, LIVE).execution_options(populate_existing=True))
    return {row.patient_id: row for row in rows}


async def enrolled_patients(db: AsyncSession, group_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await db.scalars(
        select(Row.patient_id)
        .where(Row.group_id == group_id, Row.status == EnrollmentStatus.ENROLLED, Row.deleted_at.is_(None))
        .order_by(Row.patient_id)
    )
    return list(rows.all())


async def counts_by_group(db: AsyncSession, group_ids: Sequence[uuid.UUID]) -> list[dict[str, int]]:
    """Enrolled and waitlisted counts of each group."""
    result = await db.execute(
        select(Row.group_id, Row.status, func.count())
        .where(Row.group_id.in_(group_ids), LIVE)
        .group_by(Row.group_id, Row.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {pk: {} for pk in group_ids}
    for group_id, status, count in result:
        counts[group_id][status] = count
    return [counts[pk] for pk in group_ids]


async def waitlists(db: AsyncSession, group_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    """Each group's waitlist in position order."""
    waiting = and_(Row.status == EnrollmentStatus.WAITLISTED, Row.deleted_at.is_(None))
    return await rows_by_column(db, Row.group_id, group_ids, Row.waitlist_position, where=waiting)


async def enrollment_pages(
    db: AsyncSession, group_ids: Sequence[uuid.UUID], statuses: Sequence[str], offset: int, limit: int
) -> list[tuple[list[Row], int]]:
    """One page of each group's enrollments (enrolled, then the waitlist in order, then
    disenrolled), and each group's total: two statements for any number of groups."""
    matching = and_(Row.group_id.in_(group_ids), Row.status.in_(statuses), Row.deleted_at.is_(None))
    counted = await db.execute(select(Row.group_id, func.count()).where(matching).group_by(Row.group_id))
    totals = dict(counted.all())
    status_rank = case({EnrollmentStatus.ENROLLED: 0, EnrollmentStatus.WAITLISTED: 1}, value=Row.status, else_=2)
    rank = func.row_number().over(
        partition_by=Row.group_id, order_by=(status_rank, Row.waitlist_position, Row.created_at, Row.id)
    )
    numbered = select(Row, rank.label("rank")).where(matching).subquery()
    page_row = aliased(Row, numbered)
    rows = await db.scalars(
        select(page_row)
        .where(numbered.c.rank > offset, numbered.c.rank <= offset + limit)
        .order_by(numbered.c.group_id, numbered.c.rank)
    )
    pages: dict[uuid.UUID, list[Row]] = {pk: [] for pk in group_ids}
    for row in rows:
        pages[row.group_id].append(row)
    return [(pages[pk], int(totals.get(pk, 0))) for pk in group_ids]


async def enrollment_history_pages(
    db: AsyncSession, group_ids: Sequence[uuid.UUID], offset: int, limit: int
) -> list[tuple[list[Row], int]]:
    """One page of each group's enrollments of every status, removed ones included, newest first,
    and each group's total: two statements for any number of groups."""
    matching = Row.group_id.in_(group_ids)
    totals = dict((await db.execute(select(Row.group_id, func.count()).where(matching).group_by(Row.group_id))).all())
    rank = func.row_number().over(partition_by=Row.group_id, order_by=(Row.created_at.desc(), Row.id.desc()))
    numbered = select(Row, rank.label("rank")).where(matching).subquery()
    page_row = aliased(Row, numbered)
    rows = await db.scalars(
        select(page_row)
        .where(numbered.c.rank > offset, numbered.c.rank <= offset + limit)
        .order_by(numbered.c.group_id, numbered.c.rank)
    )
    pages: dict[uuid.UUID, list[Row]] = {pk: [] for pk in group_ids}
    for row in rows:
        pages[row.group_id].append(row)
    return [(pages[pk], int(totals.get(pk, 0))) for pk in group_ids]


async def audit_entries_of_enrollments(
    db: AsyncSession, enrollment_ids: Sequence[uuid.UUID]
) -> list[list[models.AuditEntry]]:
    """Each enrollment's audit entries (its changes and absence alerts), oldest first."""
    return await rows_by_column(
        db,
        models.AuditEntry.entity_id,
        enrollment_ids,
        models.AuditEntry.id,
        where=models.AuditEntry.entity_type == "Enrollment",
    )


async def group_line(
    db: AsyncSession,
    group_id: uuid.UUID,
    enrollment_id: uuid.UUID | None = None,
    occurrence_id: uuid.UUID | None = None,
    *,
    refresh: bool = False,
) -> tuple[models.GroupDefinition, dict[str, int], list[Row], Row | None, models.GroupOccurrence | None] | None:
    """A live group update's reads: the group, its enrolled and waitlisted counts (as counts_by_group
    has them), its waitlist in position order (as waitlists has it), and the changed enrollment and
    occurrence; None when the group does not exist. `refresh`: read inside a writing transaction
    (flushed first), so the rows overwrite the instances it holds (populate_existing)."""
    fresh = {"populate_existing": refresh}
    group = await db.get(models.GroupDefinition, group_id, populate_existing=refresh)
    if group is None:
        return None
    (counts,) = await counts_by_group(db, [group_id])
    waiting = and_(Row.group_id == group_id, Row.status == EnrollmentStatus.WAITLISTED, Row.deleted_at.is_(None))
    waitlist = list(
        (await db.scalars(select(Row).where(waiting).order_by(Row.waitlist_position).execution_options(**fresh))).all()
    )
    enrollment = await db.get(Row, enrollment_id, populate_existing=refresh) if enrollment_id else None
    occurrence = (
        await db.get(models.GroupOccurrence, occurrence_id, populate_existing=refresh) if occurrence_id else None
    )
    return group, counts, waitlist, enrollment, occurrence
