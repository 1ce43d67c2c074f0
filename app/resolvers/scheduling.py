"""Scheduling operations (PM-04): group definitions and their occurrences."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import IntegrityError
from strawberry.types import Info

from app.db import models
from app.errors import BadInput, Conflict, Forbidden, IllegalTransition, Locked, NotFound
from app.ids import decode_id
from app.live.publish import stage_group_update
from app.resolvers.common import check, contains_pattern, given_fields, require_text, visible_or_not_found
from app.rules.groups import GroupShape, group_problems
from app.rules.recurrence import Slot, expand_recurrence, slot_problem, wall_anchor, wall_slot
from app.schema.connection import Connection
from app.schema.pagination import page_args

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


def group_snapshot(group: models.GroupDefinition) -> dict[str, Any]:
    """The audit view of a group: plain JSON values."""
    out: dict[str, Any] = {}
    for name in GROUP_FIELDS:
        value = getattr(group, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else (str(value) if isinstance(value, uuid.UUID) else value)
    return out


async def load_live_group(ctx, session, global_id: str, *, for_update: bool = False, include_deleted: bool = False) -> models.GroupDefinition:
    """The group when visible to the caller and not deleted (deleted groups read as NOT_FOUND)."""
    pk = decode_id(global_id, "GroupDefinition")
    group = await session.get(models.GroupDefinition, pk, with_for_update=for_update, populate_existing=for_update)
    group = visible_or_not_found(ctx, group, "GroupDefinition")
    if group.deleted_at is not None and not include_deleted:
        raise NotFound("No GroupDefinition with that id")
    return group


async def _staff_of_facility(ctx, session, global_id: str, facility_id: uuid.UUID, label: str) -> uuid.UUID:
    """A staff member the caller cannot see is NOT_FOUND, as one that does not exist; one of
    another of the caller's facilities is the wrong staff member (BAD_USER_INPUT)."""
    staff = visible_or_not_found(ctx, await session.get(models.Staff, decode_id(global_id, "Staff")), "Staff")
    if staff.facility_id != facility_id:
        raise BadInput(f"{label} must be a staff member of the group's facility")
    return staff.id


def _check(shape: GroupShape) -> None:
    problems = group_problems(shape)
    if problems:
        raise BadInput("; ".join(problems))


def _shape(group: models.GroupDefinition) -> GroupShape:
    return GroupShape(
        name=group.name,
        max_capacity=group.max_capacity,
        min_capacity=group.min_capacity,
        duration_minutes=group.duration_minutes,
        recurrence_rule=group.recurrence_rule,
        recurrence_start=group.recurrence_start,
        facilitator_id=group.facilitator_id,
        co_facilitator_id=group.co_facilitator_id,
    )


async def create_group(ctx, data) -> models.GroupDefinition:
    async with ctx.unit_of_work() as uow:
        session = uow.session
        facility_pk = decode_id(data.facility_id, "Facility")
        facility = visible_or_not_found(ctx, await session.get(models.Facility, facility_pk), "Facility")
        group = models.GroupDefinition(
            name=data.name.strip(),
            group_type=data.group_type.value,
            facility_id=facility.id,
            location=data.location,
            facilitator_id=await _staff_of_facility(ctx, session, data.facilitator_id, facility.id, "facilitator"),
            co_facilitator_id=(
                await _staff_of_facility(ctx, session, data.co_facilitator_id, facility.id, "coFacilitator")
                if data.co_facilitator_id
                else None
            ),
            min_capacity=data.min_capacity,
            max_capacity=data.max_capacity,
            duration_minutes=data.duration_minutes,
            recurrence_rule=data.recurrence_rule.strip() if data.recurrence_rule else None,
            recurrence_start=data.recurrence_start,
        )
        _check(_shape(group))
        session.add(group)
        await session.flush()
        await session.refresh(group)
        uow.audit("group.create", "GroupDefinition", group.id, after=group_snapshot(group), group_id=group.id)
    return group


async def update_group(ctx, global_id: str, data) -> models.GroupDefinition:
    from app.resolvers.enrollment import fill_open_seats

    async with ctx.unit_of_work() as uow:
        session = uow.session
        group = await load_live_group(ctx, session, global_id, for_update=True)
        before = group_snapshot(group)
        given = given_fields(data)
        for required in ("name", "group_type", "facilitator_id", "max_capacity", "duration_minutes"):
            if required in given and given[required] is None:
                raise BadInput(f"{_camel(required)} cannot be cleared")
        if "facilitator_id" in given:
            given["facilitator_id"] = await _staff_of_facility(ctx, session, given["facilitator_id"], group.facility_id, "facilitator")
        if given.get("co_facilitator_id") is not None:
            given["co_facilitator_id"] = await _staff_of_facility(
                ctx, session, given["co_facilitator_id"], group.facility_id, "coFacilitator"
            )
        if "group_type" in given:
            given["group_type"] = given["group_type"].value
        if isinstance(given.get("name"), str):
            given["name"] = given["name"].strip()
        for name, value in given.items():
            setattr(group, name, value)
        _check(_shape(group))
        group.updated_at = ctx.services.clock.now()
        await session.flush()
        promoted = await fill_open_seats(uow, group)
        await stage_group_update(uow, group.id, "GROUP_CHANGED")
        uow.audit(
            "group.update",
            "GroupDefinition",
            group.id,
            before=before,
            after=group_snapshot(group),
            group_id=group.id,
        )
    group.promoted = promoted  # type: ignore[attr-defined]
    return group


async def delete_group(ctx, global_id: str) -> models.GroupDefinition:
    async with ctx.unit_of_work() as uow:
        group = await load_live_group(ctx, uow.session, global_id, for_update=True)
        group.deleted_at = ctx.services.clock.now()
        group.updated_at = group.deleted_at
        await stage_group_update(uow, group.id, "GROUP_CHANGED")
        uow.audit(
            "group.delete",
            "GroupDefinition",
            group.id,
            before={"deletedAt": None},
            after={"deletedAt": group.deleted_at.isoformat()},
            group_id=group.id,
        )
    return group


async def get_group(ctx, global_id: str, include_deleted: bool = False) -> models.GroupDefinition:
    if include_deleted and not ctx.principal.has_scope("pm.group_definitions.delete"):
        raise Forbidden("includeDeleted needs scope pm.group_definitions.delete")
    async with ctx.db() as session:
        return await load_live_group(ctx, session, global_id, include_deleted=include_deleted)


async def list_groups(info: Info, filter, first: int | None, after: str | None) -> Connection:
    from app.schema.scheduling import GroupDefinition

    ctx = info.context
    page = page_args(first, after)
    query = select(models.GroupDefinition)
    principal = ctx.principal
    if filter and filter.include_deleted:
        if not principal.has_scope("pm.group_definitions.delete"):
            raise Forbidden("includeDeleted needs scope pm.group_definitions.delete")
    else:
        query = query.where(models.GroupDefinition.deleted_at.is_(None))
    if filter and filter.facility_id:
        facility_pk = decode_id(filter.facility_id, "Facility")
        if not principal.sees_facility(facility_pk):
            raise NotFound("No Facility with that id")
        query = query.where(models.GroupDefinition.facility_id == facility_pk)
    elif not principal.all_facilities:
        query = query.where(models.GroupDefinition.facility_id.in_(principal.facility_uuids))
    if filter and filter.group_type:
        query = query.where(models.GroupDefinition.group_type == filter.group_type.value)
    if filter and filter.search:
        query = query.where(models.GroupDefinition.name.ilike(contains_pattern(filter.search), escape="\\"))
    async with ctx.db() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await session.scalars(
                query.order_by(models.GroupDefinition.name, models.GroupDefinition.id).offset(page.offset).limit(page.limit)
            )
        ).all()
    return Connection.from_page([GroupDefinition.from_row(r) for r in rows], page, int(total or 0))


def _camel(name: str) -> str:
    head, *rest = name.removesuffix("_id").split("_")
    return head + "".join(p.title() for p in rest) + ("Id" if name.endswith("_id") else "")


# ------------------------------------------------------------------ occurrences

LIVE_SLOT_INDEX = "uq_group_occurrences_live_slot"
MAX_GENERATE_DAYS = 366
MAX_GENERATE_OCCURRENCES = 1000


def occurrence_snapshot(occurrence: models.GroupOccurrence) -> dict[str, Any]:
    """The audit view of an occurrence: ids and times only."""
    return {
        "sessionDate": occurrence.session_date.isoformat(),
        "startTime": _hms(occurrence.start_time),
        "endTime": _hms(occurrence.end_time),
        "startsAt": _utc_iso(occurrence.starts_at),
        "endsAt": _utc_iso(occurrence.ends_at),
        "facilitatorId": str(occurrence.facilitator_id),
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
    }


async def load_occurrence(ctx, session, pk: uuid.UUID, *, for_update: bool = False):
    """(occurrence, group) when the occurrence's group is visible to the caller and not deleted.

    Writers lock the group row, then read the occurrence again: every change to a group's
    occurrences takes that one lock, so slot checks and cancellations never interleave.
    """
    occurrence = await session.get(models.GroupOccurrence, pk)
    group = None
    if occurrence is not None:
        group = await session.get(
            models.GroupDefinition, occurrence.group_id, with_for_update=for_update, populate_existing=for_update
        )
    if group is None or group.deleted_at is not None:
        raise NotFound("No GroupOccurrence with that id")
    visible_or_not_found(ctx, occurrence, "GroupOccurrence", facility_id=group.facility_id)
    if for_update:
        await session.refresh(occurrence)
    return occurrence, group


async def get_occurrence(ctx, global_id: str) -> models.GroupOccurrence:
    async with ctx.db() as session:
        occurrence, _ = await load_occurrence(ctx, session, decode_id(global_id, "GroupOccurrence"))
    return occurrence


async def add_occurrence(ctx, data) -> models.GroupOccurrence:
    async with ctx.unit_of_work() as uow:
        session = uow.session
        group = await load_live_group(ctx, session, data.group_id, for_update=True)
        start_time, end_time = _seconds(data.start_time), _seconds(data.end_time)
        if end_time <= start_time:
            raise BadInput("endTime must be after startTime")
        facility = await session.get(models.Facility, group.facility_id)
        slot = wall_slot(data.session_date, start_time, end_time, facility.timezone)
        check(slot_problem(slot))
        facilitator_id = (
            await _staff_of_facility(ctx, session, data.facilitator_id, group.facility_id, "facilitator")
            if data.facilitator_id
            else group.facilitator_id
        )
        occurrence = models.GroupOccurrence(group_id=group.id, facilitator_id=facilitator_id, **_slot_columns(slot))
        session.add(occurrence)
        await _flush_live_slot(session, slot)
        uow.audit("occurrence.add", "GroupOccurrence", occurrence.id, after=occurrence_snapshot(occurrence), group_id=group.id)
        uow.record_event("pm_group_session_scheduled", occurrence_event(group, occurrence))
    return occurrence


async def generate_occurrences(ctx, group_id: str, first_day: date, last_day: date) -> tuple[list[models.GroupOccurrence], int]:
    if first_day > last_day:
        raise BadInput("from must not be after to")
    if (last_day - first_day).days + 1 > MAX_GENERATE_DAYS:
        raise BadInput(f"Generate at most {MAX_GENERATE_DAYS} days in one call")
    async with ctx.unit_of_work() as uow:
        session = uow.session
        group = await load_live_group(ctx, session, group_id, for_update=True)
        if not group.recurrence_rule or group.recurrence_start is None:
            raise BadInput("The group has no recurrenceRule to generate from")
        facility = await session.get(models.Facility, group.facility_id)
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
            raise BadInput(f"The rule gives more than {MAX_GENERATE_OCCURRENCES} occurrences in that range; generate a shorter range")
        for slot in slots:
            check(slot_problem(slot))
        taken = await _taken_slots(session, group.id, first_day, last_day)
        fresh = [slot for slot in slots if (slot.session_date, slot.start_time) not in taken]
        created: list[models.GroupOccurrence] = []
        if fresh:
            rows = [
                {"id": uuid.uuid4(), "group_id": group.id, "facilitator_id": group.facilitator_id, **_slot_columns(slot)}
                for slot in fresh
            ]
            created = list(
                await session.scalars(
                    insert(models.GroupOccurrence).returning(models.GroupOccurrence, sort_by_parameter_order=True), rows
                )
            )
            for occurrence in created:
                uow.record_event("pm_group_session_scheduled", occurrence_event(group, occurrence))
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
    return created, len(slots) - len(fresh)


async def update_occurrence(ctx, global_id: str, data) -> models.GroupOccurrence:
    given = given_fields(data)
    for name, value in given.items():
        if value is None:
            raise BadInput(f"{_camel(name)} cannot be cleared")
    async with ctx.unit_of_work() as uow:
        session = uow.session
        occurrence, group = await _load_occurrence_for_change(ctx, session, global_id)
        if occurrence.cancelled_at is not None:
            raise IllegalTransition("A cancelled occurrence cannot be changed")
        await _refuse_locked_session(session, occurrence, "changed")
        before = occurrence_snapshot(occurrence)
        if "facilitator_id" in given:
            occurrence.facilitator_id = await _staff_of_facility(ctx, session, given["facilitator_id"], group.facility_id, "facilitator")
        if given.keys() & {"session_date", "start_time", "end_time"}:
            session_date = given.get("session_date", occurrence.session_date)
            start_time = _seconds(given.get("start_time", occurrence.start_time))
            end_time = _seconds(given.get("end_time", occurrence.end_time))
            if end_time <= start_time:
                raise BadInput("endTime must be after startTime")
            facility = await session.get(models.Facility, group.facility_id)
            slot = wall_slot(session_date, start_time, end_time, facility.timezone)
            check(slot_problem(slot))
            for name, value in _slot_columns(slot).items():
                setattr(occurrence, name, value)
        after = occurrence_snapshot(occurrence)
        if after == before:
            return occurrence
        occurrence.updated_at = ctx.services.clock.now()
        await _flush_live_slot(session, occurrence)
        uow.audit("occurrence.update", "GroupOccurrence", occurrence.id, before=before, after=after, group_id=group.id)
        uow.record_event("pm_group_session_updated", occurrence_event(group, occurrence))
    return occurrence


async def cancel_occurrence(ctx, global_id: str, reason: str) -> models.GroupOccurrence:
    reason = require_text("reason", reason, max_length=1000)
    async with ctx.unit_of_work() as uow:
        session = uow.session
        occurrence, group = await _load_occurrence_for_change(ctx, session, global_id)
        if occurrence.cancelled_at is not None:
            raise IllegalTransition("The occurrence is already cancelled")
        await _refuse_locked_session(session, occurrence, "cancelled")
        occurrence.cancelled_at = ctx.services.clock.now()
        occurrence.cancellation_reason = reason
        occurrence.updated_at = occurrence.cancelled_at
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
    return occurrence


async def group_occurrences(
    info: Info, group: models.GroupDefinition, first_day: date | None, last_day: date | None, status, first: int | None, after: str | None
) -> Connection:
    from app.schema.scheduling import GroupOccurrence

    if first_day and last_day and first_day > last_day:
        raise BadInput("from must not be after to")
    page = page_args(first, after)
    occurrence = models.GroupOccurrence
    query = select(occurrence).where(occurrence.group_id == group.id)
    if first_day:
        query = query.where(occurrence.session_date >= first_day)
    if last_day:
        query = query.where(occurrence.session_date <= last_day)
    if status is not None:
        query = query.where(_status_condition(status.value, info.context.services.clock.now()))
    async with info.context.db() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (await session.scalars(query.order_by(occurrence.starts_at, occurrence.id).offset(page.offset).limit(page.limit))).all()
    return Connection.from_page([GroupOccurrence.from_row(r) for r in rows], page, int(total or 0))


def _status_condition(status: str, now: datetime):
    occurrence = models.GroupOccurrence
    if status == "CANCELLED":
        return occurrence.cancelled_at.is_not(None)
    live = occurrence.cancelled_at.is_(None)
    return and_(live, occurrence.ends_at <= now) if status == "COMPLETED" else and_(live, occurrence.ends_at > now)


async def _load_occurrence_for_change(ctx, session, global_id: str):
    return await load_occurrence(ctx, session, decode_id(global_id, "GroupOccurrence"), for_update=True)


async def _refuse_locked_session(session, occurrence: models.GroupOccurrence, verb: str) -> None:
    # FOR SHARE: a billing run building this session's claims finishes first, and then the lock is seen.
    locked_at = await session.scalar(
        select(models.GroupSession.locked_at)
        .where(models.GroupSession.occurrence_id == occurrence.id)
        .with_for_update(read=True)
    )
    if locked_at is not None:
        raise Locked(f"The occurrence's session is locked (billed); it cannot be {verb}")


async def _taken_slots(session, group_id: uuid.UUID, first_day: date, last_day: date) -> set[tuple[date, time]]:
    """Every (date, start) that already has an occurrence, cancelled ones included."""
    occurrence = models.GroupOccurrence
    rows = await session.execute(
        select(occurrence.session_date, occurrence.start_time).where(
            occurrence.group_id == group_id, occurrence.session_date.between(first_day, last_day)
        )
    )
    return {(row.session_date, row.start_time) for row in rows}


async def _flush_live_slot(session, at: Slot | models.GroupOccurrence) -> None:
    """Write the pending change; a second live occurrence at one date and start is CONFLICT."""
    taken = f"The group already has a live occurrence on {at.session_date.isoformat()} at {_hms(at.start_time)}"
    try:
        await session.flush()
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


def _seconds(value: time) -> time:
    return value.replace(microsecond=0, tzinfo=None)


def _hms(value: time) -> str:
    return value.strftime("%H:%M:%S")


def _utc_iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()
