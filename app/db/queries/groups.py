"""Group definitions, their occurrences and the compliance thresholds of IOP/PHP programs."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db import models
from app.db.queries.common import Page, contains_pattern, page
from app.rules.compliance import ComplianceThresholds, week_start
from app.rules.scheduling import GroupType, OccurrenceStatus

Group = models.GroupDefinition
Occurrence = models.GroupOccurrence


async def group(db: AsyncSession, group_id: uuid.UUID) -> Group | None:
    """The group, deleted or not."""
    return await db.get(Group, group_id)


async def lock_group(db: AsyncSession, group_id: uuid.UUID) -> Group | None:
    """The group (deleted or not) under the one row lock that every change to it, its occurrences
    and its enrollment line takes, read as committed once the lock is held."""
    return await db.get(Group, group_id, with_for_update=True, populate_existing=True)


async def lock_live_group(db: AsyncSession, group_id: uuid.UUID) -> Group | None:
    """The group under its row lock, or None when it does not exist or is deleted."""
    row = await lock_group(db, group_id)
    return row if row is not None and row.deleted_at is None else None


async def groups_page(
    db: AsyncSession,
    *,
    among_facilities: Sequence[uuid.UUID] | None,
    include_deleted: bool,
    group_type: GroupType | None,
    search: str | None,
    window: Page,
) -> tuple[list[Group], int]:
    query = select(Group)
    if not include_deleted:
        query = query.where(Group.deleted_at.is_(None))
    if among_facilities is not None:
        query = query.where(Group.facility_id.in_(among_facilities))
    if group_type is not None:
        query = query.where(Group.group_type == group_type)
    if search:
        query = query.where(Group.name.ilike(contains_pattern(search), escape="\\"))
    return await page(db, query, Group.name, Group.id, window=window)


async def occurrence(db: AsyncSession, occurrence_id: uuid.UUID, *, fresh: bool = False) -> Occurrence | None:
    return await db.get(Occurrence, occurrence_id, populate_existing=fresh)


def occurrence_status_condition(status: OccurrenceStatus, now: datetime) -> Any:
    """SQL for app.rules.scheduling.occurrence_status, case by case."""
    if status == OccurrenceStatus.CANCELLED:
        return Occurrence.cancelled_at.is_not(None)
    live = Occurrence.cancelled_at.is_(None)
    if status == OccurrenceStatus.COMPLETED:
        return and_(live, Occurrence.ends_at <= now)
    return and_(live, Occurrence.ends_at > now)


async def occurrences_page(
    db: AsyncSession,
    group_id: uuid.UUID,
    *,
    first_day: date | None,
    last_day: date | None,
    status: OccurrenceStatus | None,
    now: datetime,
    window: Page,
) -> tuple[list[Occurrence], int]:
    query = select(Occurrence).where(Occurrence.group_id == group_id)
    if first_day:
        query = query.where(Occurrence.session_date >= first_day)
    if last_day:
        query = query.where(Occurrence.session_date <= last_day)
    if status is not None:
        query = query.where(occurrence_status_condition(status, now))
    return await page(db, query, Occurrence.starts_at, Occurrence.id, window=window)


async def taken_slots(db: AsyncSession, group_id: uuid.UUID, first_day: date, last_day: date) -> set[tuple[date, time]]:
    """Every (date, start) that already has an occurrence, cancelled ones included."""
    rows = await db.execute(
        select(Occurrence.session_date, Occurrence.start_time).where(
            Occurrence.group_id == group_id, Occurrence.session_date.between(first_day, last_day)
        )
    )
    return {(row.session_date, row.start_time) for row in rows}


async def lock_future_occurrences(db: AsyncSession, group_id: uuid.UUID, now: datetime) -> list[Occurrence]:
    """The group's live occurrences that have not started, locked, in time order."""
    rows = await db.scalars(
        select(Occurrence)
        .where(Occurrence.group_id == group_id, Occurrence.cancelled_at.is_(None), Occurrence.starts_at > now)
        .order_by(Occurrence.starts_at)
        .with_for_update()
    )
    return list(rows.all())


async def add_occurrences(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[Occurrence]:
    """Insert many occurrences in one statement; returned in the order given. (SQLAlchemy's
    insertmanyvalues sends one multi-row INSERT ... RETURNING per 1,000 rows, compiled once.)"""
    if not rows:
        return []
    return list(await db.scalars(insert(Occurrence).returning(Occurrence, sort_by_parameter_order=True), list(rows)))


async def week_occurrences(db: AsyncSession, keys: Sequence[tuple[uuid.UUID, date]]) -> list[list[tuple]]:
    """Every occurrence (cancelled ones too) of each (group, Monday) week, as (date, starts, ends,
    cancelled at), in one statement."""
    first = min(monday for _, monday in keys)
    last = max(monday for _, monday in keys) + timedelta(days=6)
    rows = await db.execute(
        select(
            Occurrence.group_id,
            Occurrence.session_date,
            Occurrence.starts_at,
            Occurrence.ends_at,
            Occurrence.cancelled_at,
        ).where(
            Occurrence.group_id.in_({group_id for group_id, _ in keys}), Occurrence.session_date.between(first, last)
        )
    )
    by_week: dict[tuple[uuid.UUID, date], list[tuple]] = defaultdict(list)
    for row in rows:
        by_week[(row.group_id, week_start(row.session_date))].append(
            (row.session_date, row.starts_at, row.ends_at, row.cancelled_at)
        )
    return [by_week.get(key, []) for key in keys]


async def compliance_thresholds(db: AsyncSession, programs: Sequence[str]) -> list[ComplianceThresholds | None]:
    rows = await db.scalars(select(models.ComplianceThreshold).where(models.ComplianceThreshold.program.in_(programs)))
    found = {
        row.program: ComplianceThresholds(
            hours_per_week=float(row.min_hours_per_week),
            days_per_week=row.min_days_per_week,
            hours_per_day=float(row.min_hours_per_day) if row.min_hours_per_day is not None else None,
        )
        for row in rows
    }
    return [found.get(program) for program in programs]


async def bump_sequence(db: AsyncSession, group_id: uuid.UUID) -> int | None:
    """The group's next live-update sequence number, taken in this transaction."""
    return await db.scalar(
        update(Group)
        .where(Group.id == group_id)
        .values(update_sequence=Group.update_sequence + 1)
        .returning(Group.update_sequence)
    )


async def audit_pages(
    db: AsyncSession,
    group_ids: Sequence[uuid.UUID],
    offset: int,
    limit: int,
    hidden_types: tuple[str, ...] = (),
) -> list[tuple[list[models.AuditEntry], int]]:
    """One page of each group's audit entries (the group, its occurrences and enrollments), newest
    first, and each group's total; entries about `hidden_types` are left out of both."""
    return await audit_pages_by(db, models.AuditEntry.group_id, group_ids, offset, limit, hidden_types)


async def audit_pages_by(  # noqa: PLR0917 - a page of a column's entries
    db: AsyncSession,
    column: Any,
    ids: Sequence[uuid.UUID],
    offset: int,
    limit: int,
    hidden_types: tuple[str, ...] = (),
) -> list[tuple[list[models.AuditEntry], int]]:
    """One page of the audit entries of each id in `column` (a group's, a session's), newest first,
    and each one's total, without the entries about `hidden_types`."""
    Entry = models.AuditEntry
    matching = column.in_(ids)
    if hidden_types:
        matching = and_(matching, Entry.entity_type.not_in(hidden_types))
    totals = dict((await db.execute(select(column, func.count()).where(matching).group_by(column))).all())
    rank = func.row_number().over(partition_by=column, order_by=Entry.id.desc())
    numbered = select(Entry, rank.label("rank")).where(matching).subquery()
    page_row = aliased(Entry, numbered)
    rows = await db.scalars(
        select(page_row)
        .where(numbered.c.rank > offset, numbered.c.rank <= offset + limit)
        .order_by(numbered.c[column.key], numbered.c.rank)
    )
    pages: dict[uuid.UUID, list[models.AuditEntry]] = {pk: [] for pk in ids}
    for row in rows:
        pages[getattr(row, column.key)].append(row)
    return [(pages[pk], int(totals.get(pk, 0))) for pk in ids]
