"""Enrollment (PM-04): enroll, disenroll, remove, and the self-filling waitlist.

Each change locks its group row first (queries.groups.lock_group), so one group's line is
changed by one transaction at a time and the waitlist rules see every committed change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.auth import Principal
from app.db import models
from app.db.queries import enrollments as queries
from app.db.queries.groups import lock_group, lock_live_group
from app.db.uow import UnitOfWork
from app.errors import NotFound
from app.operations.common import require_scope, require_text, visible_or_not_found
from app.rules import waitlist as rules
from app.rules.scopes import Scope
from app.rules.waitlist import EnrollmentStatus

ENROLLED, WAITLISTED, DISENROLLED = EnrollmentStatus
ACTIVE = (ENROLLED, WAITLISTED)

Row = models.Enrollment
Enrollments = dict[uuid.UUID, Row]  # a group's live enrollments, by patient


@dataclass(frozen=True)
class Enrolled:
    enrollment: Row
    outcome: EnrollmentStatus
    message: str


@dataclass(frozen=True)
class Disenrolled:
    enrollment: Row
    promoted: Row | None
    message: str


async def enroll_patient(uow: UnitOfWork, actor: Principal, group_id: uuid.UUID, patient_id: uuid.UUID) -> Enrolled:
    db, now = uow.db, uow.clock.now()
    group = visible_or_not_found(actor, await lock_live_group(db, group_id), "GroupDefinition")
    patient = await db.get(models.Patient, patient_id)
    if patient is None or patient.facility_id != group.facility_id:
        raise NotFound("No Patient with that id")
    line = rules.enroll(_line(group, await queries.live_enrollments(db, group.id)), patient.id).line
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
    db.add(row)
    _record(uow, group, row, row.status.lower(), before=None)
    if row.status == ENROLLED:
        message = f"Enrolled in {group.name} ({len(line.enrolled)}/{group.max_capacity})"
    else:
        message = f"Group is full: waitlisted at position {row.waitlist_position}"
    return Enrolled(row, EnrollmentStatus(row.status), message)


async def disenroll_patient(
    uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID, reason: str | None
) -> Disenrolled:
    reason = require_text("reason", reason, max_length=1000) if reason and reason.strip() else None
    now = uow.clock.now()
    group, row = await _lock_enrollment(uow.db, actor, enrollment_id)
    enrollments = await queries.live_enrollments(uow.db, group.id)
    change = rules.leave(_line(group, enrollments), row.patient_id)
    before = _snapshot(row)
    row.status, row.waitlist_position = DISENROLLED, None
    row.disenrolled_at, row.disenroll_reason = now, reason
    _record(uow, group, row, "disenrolled", before=before, reason=reason)
    promoted = _settle(uow, group, enrollments, change, now)
    where = "the waitlist of " if before["status"] == WAITLISTED else ""
    message = f"Disenrolled from {where}{group.name}" + _promotion_note(change, group)
    return Disenrolled(row, promoted[0] if promoted else None, message)


@dataclass(frozen=True)
class Removed:
    enrollment: Row
    promoted: list[Row]


async def remove_enrollment(uow: UnitOfWork, actor: Principal, enrollment_id: uuid.UUID) -> Removed:
    """Soft-delete the enrollment; an ENROLLED one's seat goes to the waitlist's first (promoted)."""
    now = uow.clock.now()
    group, row = await _lock_enrollment(uow.db, actor, enrollment_id)
    enrollments = await queries.live_enrollments(uow.db, group.id)
    change = rules.leave(_line(group, enrollments), row.patient_id) if row.status in ACTIVE else None
    before = _snapshot(row)
    row.deleted_at, row.waitlist_position = now, None
    _record(uow, group, row, "removed", before=before)
    promoted = _settle(uow, group, enrollments, change, now) if change is not None else []
    return Removed(row, promoted)


async def fill_open_seats(uow: UnitOfWork, group: models.GroupDefinition) -> list[Row]:
    """After a change to maxCapacity of a group the caller has locked: promote into free seats."""
    enrollments = await queries.live_enrollments(uow.db, group.id)
    change = rules.change_capacity(_line(group, enrollments), group.max_capacity)
    return _settle(uow, group, enrollments, change, uow.clock.now())


def seen_enrollment(actor: Principal, row: Row | None, group: models.GroupDefinition | None) -> Row:
    """The enrollment when its group is visible and not deleted (needs the view scope). A removed
    enrollment is still read, with its deletedAt: the group's history and the event that removed it
    name it; nothing changes it any more."""
    require_scope(actor, Scope.ENROLLMENTS_VIEW)
    row = visible_or_not_found(actor, row, "Enrollment", facility_id=group.facility_id if group else None)
    if group.deleted_at is not None:
        raise NotFound("No Enrollment with that id")
    return row


async def _lock_enrollment(db, actor: Principal, enrollment_id: uuid.UUID) -> tuple[models.GroupDefinition, Row]:
    """The enrollment's group, locked, and the enrollment as committed once the lock is held."""
    found = await queries.enrollment(db, enrollment_id)
    if found is None:
        raise NotFound("No Enrollment with that id")
    group = visible_or_not_found(actor, await lock_group(db, found.group_id), "Enrollment")
    row = await queries.enrollment(db, enrollment_id, fresh=True)
    if row.deleted_at is not None or group.deleted_at is not None:
        raise NotFound("No Enrollment with that id")
    return group, row


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
                "enrollment.waitlist_moved",
                "Enrollment",
                row.id,
                before=before,
                after=_snapshot(row),
                group_id=group.id,
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
        f"enrollment.{kind}",
        "Enrollment",
        row.id,
        before=before,
        after=_snapshot(row),
        reason=reason,
        group_id=group.id,
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
    return f"; the next waitlisted patient was promoted to enrolled ({len(change.line.enrolled)}/{group.max_capacity})"
