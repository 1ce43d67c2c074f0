"""Scheduling (PM-04): group definitions and their occurrences.

Every change to a group or its occurrences takes the group's row lock first
(queries.groups.lock_live_group), so slot checks and cancellations never interleave.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.auth import Principal
from app.db import models
from app.db.queries import groups as queries
from app.db.queries.sessions import Lock, session_of_occurrence
from app.db.uow import UnitOfWork
from app.errors import BadInput, Conflict, IllegalTransition, Locked, NotFound
from app.live.publish import stage_group_update, stage_schedule_change
from app.operations import enrollment
from app.operations.common import (
    camel,
    check,
    require_scope,
    require_text,
    visible_or_not_found,
)
from app.rules.groups import FOLLOWED, GroupShape, group_problems, occurrence_follows
from app.rules.recurrence import (
    Slot,
    expand_recurrence,
    facility_instant,
    slot_problem,
    wall_anchor,
    wall_slot,
)
from app.rules.scheduling import GroupType
from app.rules.scopes import Scope
from app.rules.updates import GroupUpdateKind

GROUP_FIELDS = (
    "name",
    "group_type",
    "location",
    "facilitator_id",
    "co_facilitator_id",
    "min_capacity",
    "max_capacity",
    "duration_minutes",
    "recurrence_rule",
    "recurrence_start",
)
REQUIRED_FIELDS = ("name", "group_type", "facilitator_id", "max_capacity", "duration_minutes")
LIVE_SLOT_INDEX = "uq_group_occurrences_live_slot"
MAX_GENERATE_DAYS = 366
MAX_GENERATE_OCCURRENCES = 1000


@dataclass(frozen=True)
class NewGroup:
    name: str
    group_type: GroupType
    facility_id: uuid.UUID
    facilitator_id: uuid.UUID
    max_capacity: int
    duration_minutes: int
    co_facilitator_id: uuid.UUID | None = None
    location: str | None = None
    min_capacity: int | None = None
    recurrence_rule: str | None = None
    recurrence_start: datetime | None = None


@dataclass(frozen=True)
class GroupUpdated:
    group: models.GroupDefinition
    promoted: list[models.Enrollment]  # from the waitlist into seats a raised capacity opened


@dataclass(frozen=True)
class NewOccurrence:
    group_id: uuid.UUID
    session_date: date
    start_time: time
    end_time: time
    facilitator_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Generated:
    created: list[models.GroupOccurrence]
    skipped: int


# ------------------------------------------------------------------ groups


def group_snapshot(group: models.GroupDefinition) -> dict[str, Any]:
    """The audit view of a group: plain JSON values."""
    out: dict[str, Any] = {}
    for name in GROUP_FIELDS:
        value = getattr(group, name)
        out[name] = (
            value.isoformat()
            if hasattr(value, "isoformat")
            else (str(value) if isinstance(value, uuid.UUID) else value)
        )
    return out


def _not_found() -> NotFound:
    return NotFound("No GroupDefinition with that id")


async def live_group(
    db, actor: Principal, group_id: uuid.UUID, *, include_deleted: bool = False
) -> models.GroupDefinition:
    """The group when visible to the caller and not deleted (deleted groups read as NOT_FOUND,
    unless the caller may see them and asks)."""
    if include_deleted:
        require_scope(actor, Scope.GROUP_DEFINITIONS_DELETE, "includeDeleted")
    group = visible_or_not_found(actor, await queries.group(db, group_id), "GroupDefinition")
    if group.deleted_at is not None and not include_deleted:
        raise _not_found()
    return group


async def lock_live_group(db, actor: Principal, group_id: uuid.UUID) -> models.GroupDefinition:
    return visible_or_not_found(actor, await queries.lock_live_group(db, group_id), "GroupDefinition")


async def _facilitator(db, actor: Principal, staff_id: uuid.UUID, facility_id: uuid.UUID, label: str) -> uuid.UUID:
    """A staff member the caller cannot see is NOT_FOUND, as one that does not exist; one of
    another of the caller's facilities is the wrong staff member (BAD_USER_INPUT)."""
    staff = visible_or_not_found(actor, await db.get(models.Staff, staff_id), "Staff")
    if staff.facility_id != facility_id:
        raise BadInput(f"{label} must be a staff member of the group's facility")
    return staff.id


async def _check(uow: UnitOfWork, group: models.GroupDefinition) -> None:
    """The group's problems, in a worker thread: a rule's first start is looked for up to
    `uow.first_start_years` ahead (GS_RECURRENCE_FIRST_START_YEARS, 30: tens of milliseconds for a rare
    one), which must not hold the event loop."""
    shape = GroupShape(
        name=group.name,
        max_capacity=group.max_capacity,
        min_capacity=group.min_capacity,
        duration_minutes=group.duration_minutes,
        recurrence_rule=group.recurrence_rule,
        recurrence_start=group.recurrence_start,
        facilitator_id=group.facilitator_id,
        co_facilitator_id=group.co_facilitator_id,
    )
    years = uow.first_start_years
    problems = (
        await asyncio.to_thread(group_problems, shape, years) if shape.recurrence_rule else group_problems(shape, years)
    )
    if problems:
        raise BadInput("; ".join(problems))


async def create_group(uow: UnitOfWork, actor: Principal, data: NewGroup) -> models.GroupDefinition:
    db = uow.db
    facility = visible_or_not_found(actor, await db.get(models.Facility, data.facility_id), "Facility")
    group = models.GroupDefinition(
        name=data.name.strip(),
        group_type=data.group_type,
        facility_id=facility.id,
        location=data.location,
        facilitator_id=await _facilitator(db, actor, data.facilitator_id, facility.id, "facilitator"),
        co_facilitator_id=(
            await _facilitator(db, actor, data.co_facilitator_id, facility.id, "coFacilitator")
            if data.co_facilitator_id
            else None
        ),
        min_capacity=data.min_capacity,
        max_capacity=data.max_capacity,
        duration_minutes=data.duration_minutes,
        recurrence_rule=data.recurrence_rule.strip() if data.recurrence_rule else None,
        recurrence_start=facility_instant(data.recurrence_start, facility.timezone) if data.recurrence_start else None,
    )
    await _check(uow, group)
    db.add(group)
    await db.flush()
    await db.refresh(group)
    uow.audit("group.create", "GroupDefinition", group.id, after=group_snapshot(group), group_id=group.id)
    return group


async def update_group(uow: UnitOfWork, actor: Principal, group_id: uuid.UUID, changes: dict[str, Any]) -> GroupUpdated:
    """Only the fields given change (None clears an optional one); a raised capacity fills from the waitlist."""
    db = uow.db
    group = await lock_live_group(db, actor, group_id)
    before = group_snapshot(group)
    changes = dict(changes)
    for name in REQUIRED_FIELDS:
        if name in changes and changes[name] is None:
            raise BadInput(f"{camel(name)} cannot be cleared")
    if "facilitator_id" in changes:
        changes["facilitator_id"] = await _facilitator(
            db, actor, changes["facilitator_id"], group.facility_id, "facilitator"
        )
    if changes.get("co_facilitator_id") is not None:
        changes["co_facilitator_id"] = await _facilitator(
            db, actor, changes["co_facilitator_id"], group.facility_id, "coFacilitator"
        )
    if isinstance(changes.get("name"), str):
        changes["name"] = changes["name"].strip()
    if changes.get("recurrence_start") is not None:
        facility = await db.get(models.Facility, group.facility_id)
        changes["recurrence_start"] = facility_instant(changes["recurrence_start"], facility.timezone)
    followed = {name: getattr(group, name) for name in (*FOLLOWED, "name")}
    for name, value in changes.items():
        setattr(group, name, value)
    await _check(uow, group)
    group.updated_at = uow.clock.now()
    await db.flush()
    await _carry_to_future_occurrences(uow, group, followed)
    await uow.apply_recorded_events()
    promoted = await enrollment.fill_open_seats(uow, group)
    await stage_group_update(uow, group.id, GroupUpdateKind.GROUP_CHANGED)
    if group.location != before.get("location"):
        await stage_schedule_change(uow, group.facility_id)  # its sessions moved to another room
    uow.audit(
        "group.update", "GroupDefinition", group.id, before=before, after=group_snapshot(group), group_id=group.id
    )
    return GroupUpdated(group, promoted)


async def _carry_to_future_occurrences(uow: UnitOfWork, group: models.GroupDefinition, before: dict[str, Any]) -> None:
    """The group's new name, facilitators, location or duration reach its live occurrences that have
    not started (and, through pm_group_session_updated, their sessions); started, ended and billed
    ones keep what they had."""
    after = {name: getattr(group, name) for name in before}
    if after == before:
        return
    db = uow.db
    facility = await db.get(models.Facility, group.facility_id)
    for occurrence in await queries.lock_future_occurrences(db, group.id, uow.clock.now()):
        current = {
            "facilitator_id": occurrence.facilitator_id,
            "co_facilitator_id": occurrence.co_facilitator_id,
            "location": occurrence.location,
            "duration_minutes": _wall_minutes(occurrence.start_time, occurrence.end_time),
        }
        follows = occurrence_follows(before, after, current)
        if not follows and before["name"] == after["name"]:
            continue
        snapshot = occurrence_snapshot(occurrence)
        for name in ("facilitator_id", "co_facilitator_id", "location"):
            if name in follows:
                setattr(occurrence, name, follows[name])
        if "duration_minutes" in follows:
            start = datetime.combine(occurrence.session_date, occurrence.start_time)
            end = (start + timedelta(minutes=follows["duration_minutes"])).time()
            slot = wall_slot(occurrence.session_date, occurrence.start_time, end, facility.timezone)
            if slot_problem(slot):
                raise BadInput(
                    f"durationMinutes {follows['duration_minutes']} would run the occurrence on "
                    f"{occurrence.session_date.isoformat()} past midnight"
                )
            occurrence.end_time, occurrence.ends_at = slot.end_time, slot.ends_at
        occurrence.updated_at = uow.clock.now()
        occurrence.sequence += 1
        uow.audit(
            "occurrence.update",
            "GroupOccurrence",
            occurrence.id,
            before=snapshot,
            after={**occurrence_snapshot(occurrence), "title": group.name},
            group_id=group.id,
        )
        uow.record_event("pm_group_session_updated", occurrence_event(group, occurrence))


GROUP_DELETED = "The group was deleted"


async def delete_group(uow: UnitOfWork, actor: Principal, group_id: uuid.UUID) -> models.GroupDefinition:
    """Soft delete: the group keeps its rows (deletedAt), and its occurrences that have not started are
    cancelled with their sessions, each with its pm_group_session_cancelled event."""
    db = uow.db
    group = await lock_live_group(db, actor, group_id)
    group.deleted_at = uow.clock.now()
    group.updated_at = group.deleted_at
    for occurrence in await queries.lock_future_occurrences(db, group.id, group.deleted_at):
        session = await session_of_occurrence(db, occurrence.id, lock=Lock.SHARE)
        if session is None or session.locked_at is None:  # a billed session is never undone here
            _cancel(uow, group, occurrence, GROUP_DELETED)
    await uow.apply_recorded_events()  # their sessions are cancelled with them
    await stage_group_update(uow, group.id, GroupUpdateKind.GROUP_CHANGED)
    await stage_schedule_change(uow, group.facility_id)  # its sessions leave their room's display
    uow.audit(
        "group.delete",
        "GroupDefinition",
        group.id,
        before={"deletedAt": None},
        after={"deletedAt": group.deleted_at.isoformat()},
        group_id=group.id,
    )
    return group


def may_read_deleted(actor: Principal) -> bool:
    """Who reads a deleted group and its occurrences by id: whoever may ask for deleted groups, and an
    integrator following the events that name them."""
    return actor.has_scope(Scope.GROUP_DEFINITIONS_DELETE) or actor.has_scope(Scope.EVENTS_READ)


# ------------------------------------------------------------------ occurrences


def occurrence_snapshot(occurrence: models.GroupOccurrence) -> dict[str, Any]:
    """The audit view of an occurrence: ids, times and room."""
    return {
        "sessionDate": occurrence.session_date.isoformat(),
        "startTime": _hms(occurrence.start_time),
        "endTime": _hms(occurrence.end_time),
        "startsAt": _utc_iso(occurrence.starts_at),
        "endsAt": _utc_iso(occurrence.ends_at),
        "facilitatorId": str(occurrence.facilitator_id),
        "coFacilitatorId": str(occurrence.co_facilitator_id) if occurrence.co_facilitator_id else None,
        "location": occurrence.location,
    }


def occurrence_event(group: models.GroupDefinition, occurrence: models.GroupOccurrence) -> dict[str, Any]:
    """The payload of pm_group_session_* events; the clinical side builds its sessions from it."""
    return {
        "occurrenceId": str(occurrence.id),
        "groupId": str(group.id),
        "facilityId": str(group.facility_id),
        "groupType": group.group_type,
        "title": group.name,
        "startsAt": _utc_iso(occurrence.starts_at),
        "endsAt": _utc_iso(occurrence.ends_at),
        "sessionDate": occurrence.session_date.isoformat(),
        "startTime": _hms(occurrence.start_time),
        "facilitatorId": str(occurrence.facilitator_id),
        "coFacilitatorId": str(occurrence.co_facilitator_id) if occurrence.co_facilitator_id else None,
        "location": occurrence.location,
    }


async def visible_occurrence(
    db, actor: Principal, occurrence_id: uuid.UUID, *, lock: bool = False, include_deleted: bool = False
) -> tuple[models.GroupOccurrence, models.GroupDefinition]:
    """(occurrence, group) when the occurrence's group is visible to the caller and not deleted (or,
    with include_deleted, deleted too). Writers lock the group row, then read the occurrence again as
    committed."""
    occurrence = await queries.occurrence(db, occurrence_id)
    group = None
    if occurrence is not None:
        group = await (queries.lock_group(db, occurrence.group_id) if lock else queries.group(db, occurrence.group_id))
    if group is None or (group.deleted_at is not None and not include_deleted):
        raise NotFound("No GroupOccurrence with that id")
    visible_or_not_found(actor, occurrence, "GroupOccurrence", facility_id=group.facility_id)
    if lock:
        occurrence = await queries.occurrence(db, occurrence_id, fresh=True)
    return occurrence, group


async def add_occurrence(uow: UnitOfWork, actor: Principal, data: NewOccurrence) -> models.GroupOccurrence:
    db = uow.db
    group = await lock_live_group(db, actor, data.group_id)
    start_time, end_time = _seconds(data.start_time), _seconds(data.end_time)
    if end_time <= start_time:
        raise BadInput("endTime must be after startTime")
    facility = await db.get(models.Facility, group.facility_id)
    slot = wall_slot(data.session_date, start_time, end_time, facility.timezone)
    check(slot_problem(slot))
    facilitator_id = (
        await _facilitator(db, actor, data.facilitator_id, group.facility_id, "facilitator")
        if data.facilitator_id
        else group.facilitator_id
    )
    occurrence = models.GroupOccurrence(
        group_id=group.id,
        facilitator_id=facilitator_id,
        co_facilitator_id=group.co_facilitator_id,
        location=group.location,
        **_slot_columns(slot),
    )
    db.add(occurrence)
    await _flush_live_slot(db, slot)
    uow.audit(
        "occurrence.add", "GroupOccurrence", occurrence.id, after=occurrence_snapshot(occurrence), group_id=group.id
    )
    uow.record_event("pm_group_session_scheduled", occurrence_event(group, occurrence))
    await uow.apply_recorded_events()  # its session, with the roster, in this transaction
    return occurrence


async def generate_occurrences(
    uow: UnitOfWork, actor: Principal, group_id: uuid.UUID, first_day: date, last_day: date
) -> Generated:
    """The rule's occurrences in [first_day, last_day], in facility wall time; a date and start that
    already has an occurrence (cancelled ones included) is skipped and counted."""
    if first_day > last_day:
        raise BadInput("from must not be after to")
    if (last_day - first_day).days + 1 > MAX_GENERATE_DAYS:
        raise BadInput(f"Generate at most {MAX_GENERATE_DAYS} days in one call")
    db = uow.db
    group = await lock_live_group(db, actor, group_id)
    if not group.recurrence_rule or group.recurrence_start is None:
        raise BadInput("The group has no recurrenceRule to generate from")
    facility = await db.get(models.Facility, group.facility_id)
    slots = await asyncio.to_thread(  # off the event loop, as compliance does
        expand_recurrence,
        group.recurrence_rule,
        wall_anchor(group.recurrence_start, facility.timezone),
        facility.timezone,
        first_day,
        last_day,
        group.duration_minutes,
        limit=MAX_GENERATE_OCCURRENCES,
    )
    if len(slots) > MAX_GENERATE_OCCURRENCES:
        raise BadInput(
            f"The rule gives more than {MAX_GENERATE_OCCURRENCES} occurrences in that range; generate a shorter range"
        )
    for slot in slots:
        check(slot_problem(slot))
    taken = await queries.taken_slots(db, group.id, first_day, last_day)
    fresh = [slot for slot in slots if (slot.session_date, slot.start_time) not in taken]
    created = await queries.add_occurrences(
        db,
        [
            {
                "id": uuid.uuid4(),
                "group_id": group.id,
                "facilitator_id": group.facilitator_id,
                "co_facilitator_id": group.co_facilitator_id,
                "location": group.location,
                **_slot_columns(slot),
            }
            for slot in fresh
        ],
    )
    for occurrence in created:
        uow.record_event("pm_group_session_scheduled", occurrence_event(group, occurrence))
    if created:
        uow.audit(
            "occurrence.generate",
            "GroupDefinition",
            group.id,
            after={
                "from": first_day.isoformat(),
                "to": last_day.isoformat(),
                "occurrenceIds": [str(o.id) for o in created],
                "skipped": len(slots) - len(fresh),
            },
            group_id=group.id,
        )
    await uow.apply_recorded_events()
    return Generated(created, len(slots) - len(fresh))


async def update_occurrence(
    uow: UnitOfWork, actor: Principal, occurrence_id: uuid.UUID, changes: dict[str, Any]
) -> models.GroupOccurrence:
    for name, value in changes.items():
        if value is None:
            raise BadInput(f"{camel(name)} cannot be cleared")
    db = uow.db
    occurrence, group = await visible_occurrence(db, actor, occurrence_id, lock=True)
    if occurrence.cancelled_at is not None:
        raise IllegalTransition("A cancelled occurrence cannot be changed")
    await _refuse_locked_session(db, occurrence, "changed")
    before = occurrence_snapshot(occurrence)
    if "facilitator_id" in changes:
        occurrence.facilitator_id = await _facilitator(
            db, actor, changes["facilitator_id"], group.facility_id, "facilitator"
        )
    if changes.keys() & {"session_date", "start_time", "end_time"}:
        session_date = changes.get("session_date", occurrence.session_date)
        start_time = _seconds(changes.get("start_time", occurrence.start_time))
        end_time = _seconds(changes.get("end_time", occurrence.end_time))
        if end_time <= start_time:
            raise BadInput("endTime must be after startTime")
        facility = await db.get(models.Facility, group.facility_id)
        slot = wall_slot(session_date, start_time, end_time, facility.timezone)
        check(slot_problem(slot))
        for name, value in _slot_columns(slot).items():
            setattr(occurrence, name, value)
    after = occurrence_snapshot(occurrence)
    if after == before:
        return occurrence
    occurrence.updated_at = uow.clock.now()
    occurrence.sequence += 1  # calendar clients take the change only with a higher SEQUENCE
    await _flush_live_slot(db, occurrence)
    uow.audit("occurrence.update", "GroupOccurrence", occurrence.id, before=before, after=after, group_id=group.id)
    uow.record_event("pm_group_session_updated", occurrence_event(group, occurrence))
    await uow.apply_recorded_events()  # the session moves with it
    return occurrence


async def cancel_occurrence(
    uow: UnitOfWork, actor: Principal, occurrence_id: uuid.UUID, reason: str
) -> models.GroupOccurrence:
    reason = require_text("reason", reason, max_length=1000)
    occurrence, group = await visible_occurrence(uow.db, actor, occurrence_id, lock=True)
    if occurrence.cancelled_at is not None:
        raise IllegalTransition("The occurrence is already cancelled")
    await _refuse_locked_session(uow.db, occurrence, "cancelled")
    _cancel(uow, group, occurrence, reason)
    await uow.apply_recorded_events()  # the session is cancelled with it
    return occurrence


def _cancel(uow: UnitOfWork, group: models.GroupDefinition, occurrence: models.GroupOccurrence, reason: str) -> None:
    occurrence.cancelled_at = uow.clock.now()
    occurrence.cancellation_reason = reason
    occurrence.updated_at = occurrence.cancelled_at
    occurrence.sequence += 1
    uow.audit(
        "occurrence.cancel",
        "GroupOccurrence",
        occurrence.id,
        before={"cancelledAt": None},
        after={"cancelledAt": _utc_iso(occurrence.cancelled_at)},
        reason=reason,
        group_id=group.id,
    )
    uow.record_event("pm_group_session_cancelled", {**occurrence_event(group, occurrence), "reason": reason})


async def _refuse_locked_session(db, occurrence: models.GroupOccurrence, verb: str) -> None:
    # SHARE: a billing run building this session's claims finishes first, and then the lock is seen.
    session = await session_of_occurrence(db, occurrence.id, lock=Lock.SHARE)
    if session is not None and session.locked_at is not None:
        raise Locked(f"The occurrence's session is locked (billed); it cannot be {verb}")


async def _flush_live_slot(db, at: Slot | models.GroupOccurrence) -> None:
    """Write the pending change; a second live occurrence at one date and start is CONFLICT."""
    taken = f"The group already has a live occurrence on {at.session_date.isoformat()} at {_hms(at.start_time)}"
    try:
        await db.flush()
    except IntegrityError as error:
        if LIVE_SLOT_INDEX in str(error.orig):
            raise Conflict(taken) from None
        raise


def _slot_columns(slot: Slot) -> dict[str, Any]:
    return {
        "session_date": slot.session_date,
        "start_time": slot.start_time,
        "end_time": slot.end_time,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
    }


def _wall_minutes(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def _seconds(value: time) -> time:
    return value.replace(microsecond=0, tzinfo=None)


def _hms(value: time) -> str:
    return value.strftime("%H:%M:%S")


def _utc_iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()
