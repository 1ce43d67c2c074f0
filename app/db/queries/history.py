"""A patient's attendance history: one page of their roster rows with the sessions, and the
tallies of the whole range; two statements whatever the range. The sessions are looked up in the
patient's facility (every session a patient can be on the roster of is there), so the planner reads
the facility's year by (facility_id, starts_at) beside the patient's roster rows, and never the
whole table's year (bench/README.md, benchmark 7)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, extract, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page
from app.rules.history import TallyBucket

GS = models.GroupSession
RE = models.RosterEntry


def _of_patient(  # noqa: PLR0917 - the page's filters, in the order of the page query's
    query: Select,
    patient_id: uuid.UUID,
    facility_id: uuid.UUID,
    starts_from: datetime,
    starts_before: datetime,
    group_id: uuid.UUID | None,
) -> Select:
    conditions: list[Any] = [
        RE.patient_id == patient_id,
        GS.facility_id == facility_id,
        GS.starts_at >= starts_from,
        GS.starts_at < starts_before,
    ]
    if group_id is not None:
        conditions.append(GS.group_id == group_id)
    return query.join(GS, GS.id == RE.session_id).where(and_(*conditions))


def attendance_page_query(  # noqa: PLR0917 - the filters of the attendance page, as its callers name them
    patient_id: uuid.UUID,
    facility_id: uuid.UUID,
    starts_from: datetime,
    starts_before: datetime,
    group_id: uuid.UUID | None,
    window: Page,
) -> Select:
    """The statement of attendance_page (bench/ and the integration tests EXPLAIN it)."""
    query = _of_patient(select(RE, GS).select_from(RE), patient_id, facility_id, starts_from, starts_before, group_id)
    return query.order_by(GS.starts_at.desc(), GS.id.desc()).offset(window.offset).limit(window.limit)


def attendance_buckets_query(
    patient_id: uuid.UUID,
    facility_id: uuid.UUID,
    starts_from: datetime,
    starts_before: datetime,
    group_id: uuid.UUID | None,
) -> Select:
    cancelled = GS.cancelled_at.is_not(None)
    latest_title = func.array_agg(aggregate_order_by(GS.title, GS.starts_at.desc()))[1]  # a renamed group reads as now
    minutes = func.coalesce(func.sum(extract("epoch", GS.ends_at - GS.starts_at) / 60), 0)
    query = select(GS.group_id, latest_title, RE.status, cancelled, func.count(), minutes).select_from(RE)
    return (
        _of_patient(query, patient_id, facility_id, starts_from, starts_before, group_id)
        .group_by(GS.group_id, RE.status, cancelled)
        .order_by(GS.group_id.nulls_last(), RE.status, cancelled)
    )


async def attendance_page(
    db: AsyncSession,
    patient_id: uuid.UUID,
    *,
    facility_id: uuid.UUID,
    starts_from: datetime,
    starts_before: datetime,
    group_id: uuid.UUID | None,
    window: Page,
) -> list[tuple[models.RosterEntry, models.GroupSession]]:
    """The patient's roster rows of the facility's sessions starting in [starts_from, starts_before), newest first."""
    rows = await db.execute(
        attendance_page_query(patient_id, facility_id, starts_from, starts_before, group_id, window)
    )
    return [(entry, session) for entry, session in rows.all()]


async def attendance_buckets(
    db: AsyncSession,
    patient_id: uuid.UUID,
    *,
    facility_id: uuid.UUID,
    starts_from: datetime,
    starts_before: datetime,
    group_id: uuid.UUID | None,
) -> list[TallyBucket]:
    """How many of the patient's sessions in the range fall in each (group, status, cancelled), and their minutes."""
    rows = await db.execute(attendance_buckets_query(patient_id, facility_id, starts_from, starts_before, group_id))
    return [
        TallyBucket(group, title, status, bool(cancelled), int(count), int(round(float(minutes))))
        for group, title, status, cancelled, count, minutes in rows.all()
    ]
