"""A patient's attendance history (issue 20): their sessions in a date range, paged, with the
tallies per group; a fixed number of statements whatever the range."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.auth import Principal
from app.db import models
from app.db.queries import history as queries
from app.db.queries.common import Page
from app.operations.common import check, visible_or_not_found
from app.rules.attendance import LocalWindow, local_window
from app.rules.history import (
    AttendanceTally,
    history_range,
    history_range_problem,
    local_day_bounds,
    minutes_attended,
    tally_attendance,
)


@dataclass(frozen=True)
class AttendanceRecord:
    """One session the patient was on the roster of, with what attendance says of them."""

    entry: models.RosterEntry
    session: models.GroupSession
    minutes_attended: int
    local: LocalWindow  # date and wall times in the facility's zone


@dataclass(frozen=True)
class AttendanceHistory:
    records: list[AttendanceRecord]
    total: int
    window: Page
    tallies: list[AttendanceTally]
    first_day: date
    last_day: date


async def visible_patient(db, actor: Principal, patient_id: uuid.UUID) -> models.Patient:
    return visible_or_not_found(actor, await db.get(models.Patient, patient_id), "Patient")


async def patient_attendance(
    db,
    patient: models.Patient,
    *,
    date_from: date | None,
    date_to: date | None,
    group_id: uuid.UUID | None,
    window: Page,
    now: datetime,
) -> AttendanceHistory:
    """Dates are the patient's facility's, and so are the sessions: a patient is only ever put on
    the rosters of their own facility's sessions (enrollment and ad-hoc sessions check it)."""
    facility = await db.get(models.Facility, patient.facility_id)
    first_day, last_day = history_range(date_from, date_to, now.astimezone(ZoneInfo(facility.timezone)).date())
    check(history_range_problem(first_day, last_day))
    starts_from, starts_before = local_day_bounds(first_day, last_day, facility.timezone)
    span = {
        "facility_id": facility.id,
        "starts_from": starts_from,
        "starts_before": starts_before,
        "group_id": group_id,
    }
    tallies = tally_attendance(await queries.attendance_buckets(db, patient.id, **span))
    tallies.sort(key=lambda t: (t.group_id is None, t.title, str(t.group_id)))
    total = sum(t.sessions for t in tallies)
    rows = await queries.attendance_page(db, patient.id, **span, window=window) if window.limit else []
    records = [
        AttendanceRecord(
            entry,
            session,
            minutes_attended(entry.status, session.starts_at, session.ends_at, session.cancelled_at is not None),
            local_window(session.starts_at, session.ends_at, facility.timezone),
        )
        for entry, session in rows
    ]
    return AttendanceHistory(records, total, window, tallies, first_day, last_day)
