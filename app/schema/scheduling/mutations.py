"""Scheduling changes (PM-04): group definitions and their occurrences."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import strawberry

from app.ids import decode_id
from app.operations import scheduling as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import GroupType
from app.schema.inputs import given, plain
from app.schema.permissions import scoped
from app.schema.scheduling.types import (
    GenerateOccurrencesResult,
    GroupDefinition,
    GroupOccurrence,
)

GROUP_IDS = {"facility_id": "Facility", "facilitator_id": "Staff", "co_facilitator_id": "Staff"}


@strawberry.input
class CreateGroupInput:
    name: str
    group_type: GroupType
    facility_id: strawberry.ID
    facilitator_id: strawberry.ID
    max_capacity: int
    duration_minutes: int
    co_facilitator_id: strawberry.ID | None = None
    location: str | None = None
    min_capacity: int | None = None
    recurrence_rule: str | None = None
    recurrence_start: datetime | None = None


@strawberry.input(description="Only the fields given change.")
class UpdateGroupInput:
    name: str | None = strawberry.UNSET
    group_type: GroupType | None = strawberry.UNSET
    facilitator_id: strawberry.ID | None = strawberry.UNSET
    co_facilitator_id: strawberry.ID | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    min_capacity: int | None = strawberry.UNSET
    max_capacity: int | None = strawberry.UNSET
    duration_minutes: int | None = strawberry.UNSET
    recurrence_rule: str | None = strawberry.UNSET
    recurrence_start: datetime | None = strawberry.UNSET


@strawberry.input
class AddOccurrenceInput:
    group_id: strawberry.ID
    session_date: date
    start_time: time
    end_time: time
    facilitator_id: strawberry.ID | None = None


@strawberry.input
class UpdateOccurrenceInput:
    session_date: date | None = strawberry.UNSET
    start_time: time | None = strawberry.UNSET
    end_time: time | None = strawberry.UNSET
    facilitator_id: strawberry.ID | None = strawberry.UNSET


@strawberry.type
class SchedulingMutation:
    @strawberry.mutation(**scoped(Scope.GROUP_DEFINITIONS_CREATE))
    async def create_group(self, info: Info, input: CreateGroupInput) -> GroupDefinition:
        data = plain(input, ops.NewGroup, **GROUP_IDS)
        return await ops.create_group(await info.context.transaction(), info.context.principal, data)

    @strawberry.mutation(**scoped(Scope.GROUP_DEFINITIONS_EDIT))
    async def update_group(self, info: Info, id: strawberry.ID, input: UpdateGroupInput) -> GroupDefinition:
        changes = given(input, **GROUP_IDS)
        updated = await ops.update_group(
            await info.context.transaction(), info.context.principal, decode_id(id, "GroupDefinition"), changes
        )
        info.context.promotions[updated.group.id] = updated.promoted
        return updated.group

    @strawberry.mutation(**scoped(Scope.GROUP_DEFINITIONS_DELETE))
    async def delete_group(self, info: Info, id: strawberry.ID) -> GroupDefinition:
        return await ops.delete_group(
            await info.context.transaction(), info.context.principal, decode_id(id, "GroupDefinition")
        )

    @strawberry.mutation(**scoped(Scope.GROUP_SCHEDULE_CREATE))
    async def add_occurrence(self, info: Info, input: AddOccurrenceInput) -> GroupOccurrence:
        data = plain(input, ops.NewOccurrence, group_id="GroupDefinition", facilitator_id="Staff")
        return await ops.add_occurrence(await info.context.transaction(), info.context.principal, data)

    @strawberry.mutation(**scoped(Scope.GROUP_SCHEDULE_CREATE))
    async def generate_occurrences(
        self, info: Info, group_id: strawberry.ID, from_: Annotated[date, strawberry.argument(name="from")], to: date
    ) -> GenerateOccurrencesResult:
        return await ops.generate_occurrences(
            await info.context.transaction(), info.context.principal, decode_id(group_id, "GroupDefinition"), from_, to
        )

    @strawberry.mutation(**scoped(Scope.GROUP_SCHEDULE_EDIT))
    async def update_occurrence(self, info: Info, id: strawberry.ID, input: UpdateOccurrenceInput) -> GroupOccurrence:
        changes = given(input, facilitator_id="Staff")
        return await ops.update_occurrence(
            await info.context.transaction(), info.context.principal, decode_id(id, "GroupOccurrence"), changes
        )

    @strawberry.mutation(**scoped(Scope.GROUP_SCHEDULE_DELETE))
    async def cancel_occurrence(self, info: Info, id: strawberry.ID, reason: str) -> GroupOccurrence:
        return await ops.cancel_occurrence(
            await info.context.transaction(), info.context.principal, decode_id(id, "GroupOccurrence"), reason
        )
