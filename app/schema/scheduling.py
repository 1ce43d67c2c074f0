"""Scheduling types (PM-04): group definitions, occurrences, enrollments, capacity, compliance."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.db import models
from app.ids import encode_id
from app.rules import compliance as rules
from app.schema.connection import Connection
from app.schema.enums import (
    ComplianceProgram,
    ComplianceRequirement,
    ComplianceStatus,
    EnrollmentStatus,
    GroupType,
    OccurrenceStatus,
)
from app.schema.node import Node
from app.schema.permissions import scoped
from app.schema.reference import Facility, Patient, Staff, load_facility, load_patient, load_staff

if TYPE_CHECKING:
    from app.schema.sessions import GroupSession


@strawberry.type
class Capacity:
    enrolled: int
    max: int
    min: int | None
    waitlisted: int
    at_capacity: bool
    over_capacity: bool


@strawberry.type
class ComplianceGap:
    requirement: ComplianceRequirement
    required: float
    actual: float
    short_by: float
    date: date | None
    message: str

    @classmethod
    def from_gap(cls, gap: rules.ComplianceGap) -> "ComplianceGap":
        return cls(
            requirement=ComplianceRequirement(gap.requirement),
            required=gap.required,
            actual=gap.actual,
            short_by=gap.short_by,
            date=gap.date,
            message=gap.message,
        )


@strawberry.type
class ProgramCompliance:
    program: ComplianceProgram
    status: ComplianceStatus
    week_start: date
    hours_per_week: float
    days_per_week: int
    min_hours_per_session_day: float | None
    gaps: list[ComplianceGap]

    @classmethod
    def from_result(cls, result: rules.ComplianceResult) -> "ProgramCompliance":
        return cls(
            program=ComplianceProgram(result.program),
            status=ComplianceStatus(result.status),
            week_start=result.week_start,
            hours_per_week=result.hours_per_week,
            days_per_week=result.days_per_week,
            min_hours_per_session_day=result.min_hours_per_session_day,
            gaps=[ComplianceGap.from_gap(g) for g in result.gaps],
        )


@strawberry.type
class GroupDefinition(Node):
    id: strawberry.ID
    name: str
    group_type: GroupType
    location: str | None
    min_capacity: int | None
    max_capacity: int
    duration_minutes: int
    recurrence_rule: str | None
    recurrence_start: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    row: strawberry.Private[models.GroupDefinition]

    @strawberry.field
    async def facility(self, info: Info) -> Facility:
        return await load_facility(info, self.row.facility_id)

    @strawberry.field
    async def facilitator(self, info: Info) -> Staff:
        return await load_staff(info, self.row.facilitator_id)

    @strawberry.field
    async def co_facilitator(self, info: Info) -> Staff | None:
        if self.row.co_facilitator_id is None:
            return None
        return await load_staff(info, self.row.co_facilitator_id)

    @strawberry.field
    async def capacity(self, info: Info) -> Capacity:
        from app.resolvers.enrollment import group_capacity

        return await group_capacity(info, self.row)

    @strawberry.field(description="Null unless the group is IOP or PHP.")
    async def compliance(self, info: Info, week_of: date | None = None) -> ProgramCompliance | None:
        from app.resolvers.compliance import group_compliance

        return await group_compliance(info, self.row, week_of)

    @strawberry.field(**scoped("pm.group_schedule.view"))
    async def occurrences(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        status: OccurrenceStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[GroupOccurrence]:
        from app.resolvers.scheduling import group_occurrences

        return await group_occurrences(info, self.row, from_, to, status, first, after)

    @strawberry.field
    async def enrollments(
        self,
        info: Info,
        status: list[EnrollmentStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Enrollment]:
        from app.resolvers.enrollment import group_enrollments

        return await group_enrollments(info, self.row, status, first, after)

    @strawberry.field(description="Waitlisted enrollments ordered by waitlistPosition.")
    async def waitlist(self, info: Info) -> list[Enrollment]:
        from app.resolvers.enrollment import group_waitlist

        return await group_waitlist(info, self.row)

    @classmethod
    def from_row(cls, row: models.GroupDefinition) -> "GroupDefinition":
        return cls(
            id=strawberry.ID(encode_id("GroupDefinition", row.id)),
            name=row.name,
            group_type=GroupType(row.group_type),
            location=row.location,
            min_capacity=row.min_capacity,
            max_capacity=row.max_capacity,
            duration_minutes=row.duration_minutes,
            recurrence_rule=row.recurrence_rule,
            recurrence_start=row.recurrence_start,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deleted_at=row.deleted_at,
            row=row,
        )


async def load_group(info: Info, pk: uuid.UUID) -> GroupDefinition:
    return GroupDefinition.from_row(await info.context.loaders.by_id(models.GroupDefinition).load(pk))


@strawberry.type
class GroupOccurrence(Node):
    id: strawberry.ID
    session_date: date
    start_time: time
    end_time: time
    starts_at: datetime
    ends_at: datetime
    cancellation_reason: str | None
    cancelled_at: datetime | None
    row: strawberry.Private[models.GroupOccurrence]

    @strawberry.field
    async def group(self, info: Info) -> GroupDefinition:
        return await load_group(info, self.row.group_id)

    @strawberry.field
    async def facilitator(self, info: Info) -> Staff:
        return await load_staff(info, self.row.facilitator_id)

    @strawberry.field
    def status(self, info: Info) -> OccurrenceStatus:
        from app.rules.scheduling import occurrence_status

        return OccurrenceStatus(
            occurrence_status(self.row.cancelled_at, self.row.ends_at, info.context.services.clock.now())
        )

    @strawberry.field
    async def session(
        self, info: Info
    ) -> Annotated["GroupSession", strawberry.lazy("app.schema.sessions")] | None:
        from app.resolvers.sessions import session_for_occurrence

        return await session_for_occurrence(info, self.row.id)

    @classmethod
    def from_row(cls, row: models.GroupOccurrence) -> "GroupOccurrence":
        return cls(
            id=strawberry.ID(encode_id("GroupOccurrence", row.id)),
            session_date=row.session_date,
            start_time=row.start_time,
            end_time=row.end_time,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            cancellation_reason=row.cancellation_reason,
            cancelled_at=row.cancelled_at,
            row=row,
        )


@strawberry.type
class Enrollment(Node):
    id: strawberry.ID
    status: EnrollmentStatus
    waitlist_position: int | None
    enrolled_at: datetime | None
    waitlisted_at: datetime | None
    disenrolled_at: datetime | None
    disenroll_reason: str | None
    deleted_at: datetime | None
    row: strawberry.Private[models.Enrollment]

    @strawberry.field
    async def group(self, info: Info) -> GroupDefinition:
        return await load_group(info, self.row.group_id)

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        return await load_patient(info, self.row.patient_id)

    @classmethod
    def from_row(cls, row: models.Enrollment) -> "Enrollment":
        return cls(
            id=strawberry.ID(encode_id("Enrollment", row.id)),
            status=EnrollmentStatus(row.status),
            waitlist_position=row.waitlist_position,
            enrolled_at=row.enrolled_at,
            waitlisted_at=row.waitlisted_at,
            disenrolled_at=row.disenrolled_at,
            disenroll_reason=row.disenroll_reason,
            deleted_at=row.deleted_at,
            row=row,
        )


@strawberry.type
class GenerateOccurrencesResult:
    created: list[GroupOccurrence]
    skipped: int


@strawberry.type
class EnrollmentResult:
    enrollment: Enrollment
    outcome: EnrollmentStatus
    message: str


@strawberry.type
class DisenrollResult:
    enrollment: Enrollment
    promoted: Enrollment | None
    message: str


@strawberry.input
class GroupFilter:
    facility_id: strawberry.ID | None = None
    group_type: GroupType | None = None
    search: str | None = None
    include_deleted: bool | None = False


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
