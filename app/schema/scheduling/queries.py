"""Scheduling reads: groups, one group, one occurrence, and this area's node fetchers."""

from __future__ import annotations

import uuid

import strawberry

from app.db.queries import groups as queries
from app.errors import NotFound
from app.ids import decode_id
from app.operations import scheduling as ops
from app.operations.common import facilities_seen, require_scope, visible_or_not_found
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.enums import GroupType
from app.schema.loaders import scheduling
from app.schema.pagination import page_args
from app.schema.permissions import scoped
from app.schema.scheduling.types import GroupDefinition, GroupOccurrence


@strawberry.input
class GroupFilter:
    facility_id: strawberry.ID | None = None
    group_type: GroupType | None = None
    search: str | None = None
    include_deleted: bool | None = False


async def group_node(info: Info, pk: uuid.UUID) -> GroupDefinition:
    actor = info.context.principal
    require_scope(actor, Scope.GROUP_DEFINITIONS_VIEW)  # as `group`
    group = visible_or_not_found(actor, await scheduling.groups(info).load(pk), "GroupDefinition")
    if group.deleted_at is not None and not ops.may_read_deleted(actor):
        raise NotFound("No GroupDefinition with that id")
    return group


async def occurrence_node(info: Info, pk: uuid.UUID, *, include_deleted: bool = True) -> GroupOccurrence:
    actor = info.context.principal
    require_scope(actor, Scope.GROUP_SCHEDULE_VIEW)
    async with info.context.db() as db:
        occurrence, _ = await ops.visible_occurrence(
            db, actor, pk, include_deleted=include_deleted and ops.may_read_deleted(actor)
        )
    return occurrence


@strawberry.type
class SchedulingQuery:
    @strawberry.field(**scoped(Scope.GROUP_DEFINITIONS_VIEW))
    async def groups(
        self, info: Info, filter: GroupFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[GroupDefinition]:
        actor = info.context.principal
        window = page_args(first, after)
        include_deleted = bool(filter and filter.include_deleted)
        if include_deleted:
            require_scope(actor, Scope.GROUP_DEFINITIONS_DELETE, "includeDeleted")
        among = facilities_seen(actor)
        if filter and filter.facility_id:
            facility_id = decode_id(filter.facility_id, "Facility")
            if not actor.sees_facility(facility_id):
                raise NotFound("No Facility with that id")
            among = [facility_id]
        async with info.context.db() as db:
            rows, total = await queries.groups_page(
                db,
                among_facilities=among,
                include_deleted=include_deleted,
                group_type=filter.group_type if filter else None,
                search=filter.search if filter else None,
                window=window,
            )
        return Connection.from_page(rows, window, total)

    @strawberry.field(**scoped(Scope.GROUP_DEFINITIONS_VIEW))
    async def group(
        self, info: Info, id: strawberry.ID, include_deleted: bool | None = False
    ) -> GroupDefinition | None:
        async with info.context.db() as db:
            return await ops.live_group(
                db, info.context.principal, decode_id(id, "GroupDefinition"), include_deleted=bool(include_deleted)
            )

    @strawberry.field(**scoped(Scope.GROUP_SCHEDULE_VIEW))
    async def occurrence(self, info: Info, id: strawberry.ID) -> GroupOccurrence | None:
        return await occurrence_node(info, decode_id(id, "GroupOccurrence"), include_deleted=False)
