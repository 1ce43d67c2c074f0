"""Scheduling operations (PM-04): group definitions and their occurrences."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.db import models
from app.errors import Forbidden, NotFound
from app.resolvers import scheduling as ops
from app.resolvers.common import visible_or_not_found
from app.schema.node import node_fetcher
from app.schema.connection import Connection
from app.schema.permissions import scoped
from app.schema.scheduling import (
    AddOccurrenceInput,
    CreateGroupInput,
    GenerateOccurrencesResult,
    GroupDefinition,
    GroupFilter,
    GroupOccurrence,
    UpdateGroupInput,
    UpdateOccurrenceInput,
)


@node_fetcher("GroupDefinition")
async def _group_node(info: Info, pk: uuid.UUID) -> GroupDefinition:
    if not info.context.principal.has_scope("pm.group_definitions.view"):
        raise Forbidden("Missing scope pm.group_definitions.view")  # as `group`
    row = await info.context.loaders.by_id(models.GroupDefinition).load(pk)
    row = visible_or_not_found(info.context, row, "GroupDefinition")
    if row.deleted_at is not None:
        raise NotFound("No GroupDefinition with that id")
    return GroupDefinition.from_row(row)


@node_fetcher("GroupOccurrence")
async def _occurrence_node(info: Info, pk: uuid.UUID) -> GroupOccurrence:
    if not info.context.principal.has_scope("pm.group_schedule.view"):
        raise Forbidden("Missing scope pm.group_schedule.view")
    async with info.context.db() as session:
        occurrence, _ = await ops.load_occurrence(info.context, session, pk)
    return GroupOccurrence.from_row(occurrence)


@strawberry.type
class SchedulingQuery:
    @strawberry.field(**scoped("pm.group_definitions.view"))
    async def groups(
        self, info: Info, filter: GroupFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[GroupDefinition]:
        return await ops.list_groups(info, filter, first, after)

    @strawberry.field(**scoped("pm.group_definitions.view"))
    async def group(
        self, info: Info, id: strawberry.ID, include_deleted: bool | None = False
    ) -> GroupDefinition | None:
        return GroupDefinition.from_row(await ops.get_group(info.context, id, bool(include_deleted)))

    @strawberry.field(**scoped("pm.group_schedule.view"))
    async def occurrence(self, info: Info, id: strawberry.ID) -> GroupOccurrence | None:
        return GroupOccurrence.from_row(await ops.get_occurrence(info.context, id))


@strawberry.type
class SchedulingMutation:
    @strawberry.mutation(**scoped("pm.group_definitions.create"))
    async def create_group(self, info: Info, input: CreateGroupInput) -> GroupDefinition:
        return GroupDefinition.from_row(await ops.create_group(info.context, input))

    @strawberry.mutation(**scoped("pm.group_definitions.edit"))
    async def update_group(self, info: Info, id: strawberry.ID, input: UpdateGroupInput) -> GroupDefinition:
        return GroupDefinition.from_row(await ops.update_group(info.context, id, input))

    @strawberry.mutation(**scoped("pm.group_definitions.delete"))
    async def delete_group(self, info: Info, id: strawberry.ID) -> GroupDefinition:
        return GroupDefinition.from_row(await ops.delete_group(info.context, id))

    @strawberry.mutation(**scoped("pm.group_schedule.create"))
    async def add_occurrence(self, info: Info, input: AddOccurrenceInput) -> GroupOccurrence:
        return GroupOccurrence.from_row(await ops.add_occurrence(info.context, input))

    @strawberry.mutation(**scoped("pm.group_schedule.create"))
    async def generate_occurrences(
        self,
        info: Info,
        group_id: strawberry.ID,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> GenerateOccurrencesResult:
        created, skipped = await ops.generate_occurrences(info.context, group_id, from_, to)
        return GenerateOccurrencesResult(created=[GroupOccurrence.from_row(r) for r in created], skipped=skipped)

    @strawberry.mutation(**scoped("pm.group_schedule.edit"))
    async def update_occurrence(
        self, info: Info, id: strawberry.ID, input: UpdateOccurrenceInput
    ) -> GroupOccurrence:
        return GroupOccurrence.from_row(await ops.update_occurrence(info.context, id, input))

    @strawberry.mutation(**scoped("pm.group_schedule.delete"))
    async def cancel_occurrence(self, info: Info, id: strawberry.ID, reason: str) -> GroupOccurrence:
        return GroupOccurrence.from_row(await ops.cancel_occurrence(info.context, id, reason))
