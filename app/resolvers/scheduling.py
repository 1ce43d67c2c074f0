"""Scheduling operations (PM-04): group definitions and their occurrences."""
from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from app.db import models
from app.errors import BadInput, Forbidden, NotFound, NotImplementedYet
from app.ids import decode_id
from app.resolvers.common import visible_or_not_found
from app.rules.groups import GroupShape, group_problems
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


async def _staff_of_facility(session, global_id: str, facility_id: uuid.UUID, label: str) -> uuid.UUID:
    staff = await session.get(models.Staff, decode_id(global_id, "Staff"))
    if staff is None or staff.facility_id != facility_id:
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
            facilitator_id=await _staff_of_facility(session, data.facilitator_id, facility.id, "facilitator"),
            co_facilitator_id=(
                await _staff_of_facility(session, data.co_facilitator_id, facility.id, "coFacilitator")
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
        given = {name: getattr(data, name) for name in vars(data) if getattr(data, name) is not strawberry.UNSET}
        for required in ("name", "group_type", "facilitator_id", "max_capacity", "duration_minutes"):
            if required in given and given[required] is None:
                raise BadInput(f"{_camel(required)} cannot be cleared")
        if "facilitator_id" in given:
            given["facilitator_id"] = await _staff_of_facility(session, given["facilitator_id"], group.facility_id, "facilitator")
        if given.get("co_facilitator_id") is not None:
            given["co_facilitator_id"] = await _staff_of_facility(
                session, given["co_facilitator_id"], group.facility_id, "coFacilitator"
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
        query = query.where(models.GroupDefinition.facility_id.in_(_facility_uuids(principal)))
    if filter and filter.group_type:
        query = query.where(models.GroupDefinition.group_type == filter.group_type.value)
    if filter and filter.search:
        query = query.where(models.GroupDefinition.name.ilike(f"%{_escape_like(filter.search.strip()[:100])}%", escape="\\"))
    async with ctx.db() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await session.scalars(
                query.order_by(models.GroupDefinition.name, models.GroupDefinition.id).offset(page.offset).limit(page.limit)
            )
        ).all()
    return Connection.from_page([GroupDefinition.from_row(r) for r in rows], page, int(total or 0))


def _facility_uuids(principal) -> list[uuid.UUID]:
    out = []
    for value in principal.facilities:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue
    return out


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _camel(name: str) -> str:
    head, *rest = name.removesuffix("_id").split("_")
    return head + "".join(p.title() for p in rest) + ("Id" if name.endswith("_id") else "")


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #3")


get_occurrence = add_occurrence = generate_occurrences = update_occurrence = cancel_occurrence = _not_yet
group_occurrences = _not_yet
