"""Absence alerts: thresholds, the marks since a patient last came to a group, the alerts themselves."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page, page
from app.rules.absences import SessionMark
from app.rules.attendance import AttendanceStatus
from app.rules.waitlist import EnrollmentStatus

GS = models.GroupSession
RE = models.RosterEntry
Alert = models.AbsenceAlert
Enrollment = models.Enrollment
PRESENT = (AttendanceStatus.ATTENDED, AttendanceStatus.LATE)


async def absence_thresholds(db: AsyncSession) -> dict[str, int]:
    rows = await db.execute(select(models.AbsenceThreshold.group_type, models.AbsenceThreshold.consecutive_absences))
    return dict(rows.all())


async def marks_since_last_attendance(
    db: AsyncSession, group_id: uuid.UUID, patient_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[SessionMark]]:
    """Each patient's roster rows of the group's sessions after the last one they attended (or came
    late to) that was not cancelled: all a run of absences can be made of, in one statement (each
    patient's last attendance found once, then joined: the work grows with their rows, not its square)."""
    of_group = and_(RE.patient_id.in_(patient_ids), GS.group_id == group_id)
    last_present = (
        select(RE.patient_id.label("patient_id"), func.max(GS.starts_at).label("at"))
        .select_from(RE)
        .join(GS, GS.id == RE.session_id)
        .where(of_group, RE.status.in_(PRESENT), GS.cancelled_at.is_(None))
        .group_by(RE.patient_id)
        .subquery()
    )
    rows = await db.execute(
        select(RE.patient_id, GS.id, GS.starts_at, RE.status, GS.cancelled_at.is_not(None))
        .select_from(RE)
        .join(GS, GS.id == RE.session_id)
        .outerjoin(last_present, last_present.c.patient_id == RE.patient_id)
        .where(of_group, or_(last_present.c.at.is_(None), GS.starts_at > last_present.c.at))
        .order_by(RE.patient_id, GS.starts_at, GS.id)
    )
    marks: dict[uuid.UUID, list[SessionMark]] = defaultdict(list)
    for patient_id, session_id, starts_at, status, cancelled in rows.all():
        marks[patient_id].append(SessionMark(session_id, starts_at, status, bool(cancelled)))
    return marks


async def lock_enrollments_of(
    db: AsyncSession, group_id: uuid.UUID, patient_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, models.Enrollment]:
    """The patients' ENROLLED enrollments in the group, locked in one order (one alert decision per
    patient at a time: two tablets marking two sessions of one group serialize here)."""
    rows = await db.scalars(
        select(Enrollment)
        .where(
            Enrollment.group_id == group_id,
            Enrollment.patient_id.in_(patient_ids),
            Enrollment.status == EnrollmentStatus.ENROLLED,
            Enrollment.deleted_at.is_(None),
        )
        .order_by(Enrollment.id)
        .with_for_update(key_share=True)
    )
    return {row.patient_id: row for row in rows}


async def alerts_of_enrollments(db: AsyncSession, enrollment_ids: Sequence[uuid.UUID]) -> list[Alert | None]:
    rows = await db.scalars(select(Alert).where(Alert.enrollment_id.in_(enrollment_ids)))
    found = {row.enrollment_id: row for row in rows}
    return [found.get(pk) for pk in enrollment_ids]


async def delete_alert(db: AsyncSession, enrollment_id: uuid.UUID) -> None:
    await db.execute(delete(Alert).where(Alert.enrollment_id == enrollment_id))


async def alerts_page(db: AsyncSession, facility_id: uuid.UUID, window: Page) -> tuple[list[Alert], int]:
    """The facility's flagged enrollments that are still ENROLLED, longest-running first."""
    query = (
        select(Alert)
        .join(Enrollment, Enrollment.id == Alert.enrollment_id)
        .where(
            Alert.facility_id == facility_id,
            Enrollment.status == EnrollmentStatus.ENROLLED,
            Enrollment.deleted_at.is_(None),
        )
    )
    return await page(db, query, Alert.since, Alert.enrollment_id, window=window)


async def sessions_of_alerts(
    db: AsyncSession, alert_keys: Sequence[tuple[uuid.UUID, ...]]
) -> list[list[models.GroupSession]]:
    """The sessions each alert lists (a key is its tuple of session ids), in time order."""
    wanted = {pk for key in alert_keys for pk in key}
    found = {row.id: row for row in await db.scalars(select(GS).where(GS.id.in_(wanted)))} if wanted else {}
    return [sorted((found[pk] for pk in key if pk in found), key=lambda s: s.starts_at) for key in alert_keys]
