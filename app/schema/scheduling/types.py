"""Scheduling types: groups and occurrences wrap their rows; capacity and compliance are read
from loaders and the rules."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from app.db import models
from app.db.queries import groups as queries
from app.errors import BadInput
from app.operations.common import require_scope
from app.rules import compliance as rules
from app.rules.recurrence import facility_instant
from app.rules.scheduling import occurrence_status
from app.rules.scopes import Scope
from app.rules.waitlist import EnrollmentStatus as Status
from app.rules.waitlist import at_capacity, below_minimum, over_capacity
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.enums import (
    ComplianceProgram,
    ComplianceRequirement,
    ComplianceStatus,
    EnrollmentStatus,
    GroupType,
    OccurrenceStatus,
)
from app.schema.loaders import enrollment, reference, scheduling, sessions
from app.schema.node import Node, global_id, rows_of
from app.schema.pagination import page_args
from app.schema.permissions import scoped

AuditEntryType = Annotated["AuditEntry", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily

GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
EnrollmentType = Annotated["Enrollment", strawberry.lazy("app.schema.enrollment.types")]  # noqa: F821 - resolved lazily
FacilityType = Annotated["Facility", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
StaffType = Annotated["Staff", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class Capacity:
    enrolled: int
    max: int
    min: int | None
    waitlisted: int
    at_capacity: bool
    over_capacity: bool
    below_minimum: bool = strawberry.field(description="Fewer enrolled than minCapacity (false without a minimum).")


@strawberry.type
class ComplianceGap:
    requirement: ComplianceRequirement
    required: float
    actual: float
    short_by: float
    date: date | None
    message: str


@strawberry.type
class ProgramCompliance:
    """A week's compliance (app.rules.compliance.ComplianceResult)."""

    program: ComplianceProgram
    status: ComplianceStatus
    week_start: date
    hours_per_week: float
    days_per_week: int
    min_hours_per_session_day: float | None
    gaps: list[ComplianceGap]


@strawberry.type
class GroupDefinition(Node):
    id: strawberry.ID = global_id("GroupDefinition")
    name: str
    group_type: GroupType
    location: str | None
    min_capacity: int | None
    max_capacity: int
    duration_minutes: int
    recurrence_rule: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @strawberry.field(description="The rule's anchor in the facility's wall time, with its offset.")
    async def recurrence_start(group: strawberry.Parent[models.GroupDefinition], info: Info) -> datetime | None:
        if group.recurrence_start is None:
            return None
        return facility_instant(
            group.recurrence_start, (await reference.facilities(info).load(group.facility_id)).timezone
        )

    @strawberry.field
    async def facility(group: strawberry.Parent[models.GroupDefinition], info: Info) -> FacilityType:
        return await reference.facilities(info).load(group.facility_id)

    @strawberry.field
    async def facilitator(group: strawberry.Parent[models.GroupDefinition], info: Info) -> StaffType:
        return await reference.staff(info).load(group.facilitator_id)

    @strawberry.field
    async def co_facilitator(group: strawberry.Parent[models.GroupDefinition], info: Info) -> StaffType | None:
        return await reference.staff(info).load(group.co_facilitator_id) if group.co_facilitator_id else None

    @strawberry.field
    async def capacity(group: strawberry.Parent[models.GroupDefinition], info: Info) -> Capacity:
        counts = await enrollment.counts(info).load(group.id)
        enrolled, waitlisted = counts.get(Status.ENROLLED, 0), counts.get(Status.WAITLISTED, 0)
        return Capacity(
            enrolled=enrolled,
            max=group.max_capacity,
            min=group.min_capacity,
            waitlisted=waitlisted,
            at_capacity=at_capacity(enrolled, group.max_capacity),
            over_capacity=over_capacity(enrolled, group.max_capacity),
            below_minimum=below_minimum(enrolled, group.min_capacity),
        )

    @strawberry.field(description="Null unless the group is IOP or PHP.")
    async def compliance(
        group: strawberry.Parent[models.GroupDefinition], info: Info, week_of: date | None = None
    ) -> ProgramCompliance | None:
        if group.group_type not in rules.PROGRAMS:
            return None
        thresholds = await scheduling.compliance_thresholds(info).load(group.group_type)
        if thresholds is None:
            return None
        facility = await reference.facilities(info).load(group.facility_id)
        if week_of is None:
            week_of = info.context.now().astimezone(ZoneInfo(facility.timezone)).date()
        monday = rules.week_start(week_of)
        occurrences = await scheduling.week_occurrences(info).load((group.id, monday))
        if occurrences:
            week = rules.session_hours(occurrences)
        else:
            # In a worker thread: a rule whose dates are rare (29 February on a Monday) walks years of
            # days to find the next one, and 30 aliases of this field would hold the event loop meanwhile.
            week = await asyncio.to_thread(
                rules.projected_sessions,
                group.recurrence_rule,
                group.recurrence_start,
                facility.timezone,
                monday,
                group.duration_minutes,
            )
        return rules.evaluate_compliance(group.group_type, thresholds, week, week_of=monday)

    @strawberry.field(**scoped(Scope.GROUP_SCHEDULE_VIEW))
    async def occurrences(
        group: strawberry.Parent[models.GroupDefinition],
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        status: OccurrenceStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[GroupOccurrence]:
        if from_ and to and from_ > to:
            raise BadInput("from must not be after to")
        window = page_args(first, after)
        async with info.context.db() as db:
            rows, total = await queries.occurrences_page(
                db,
                group.id,
                first_day=from_,
                last_day=to,
                status=status,
                now=info.context.now(),
                window=window,
            )
        return Connection.from_page(rows, window, total)

    @strawberry.field
    async def enrollments(
        group: strawberry.Parent[models.GroupDefinition],
        info: Info,
        status: list[EnrollmentStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[EnrollmentType]:
        require_scope(info.context.principal, Scope.ENROLLMENTS_VIEW)
        window = page_args(first, after)
        statuses = tuple(sorted(status)) if status else tuple(Status)
        rows, total = await enrollment.pages(info, statuses, window).load(group.id)
        return Connection.from_page(rows, window, total)

    @strawberry.field(description="Waitlisted enrollments ordered by waitlistPosition.")
    async def waitlist(group: strawberry.Parent[models.GroupDefinition], info: Info) -> list[EnrollmentType]:
        require_scope(info.context.principal, Scope.ENROLLMENTS_VIEW)
        return await enrollment.waitlists(info).load(group.id)

    @strawberry.field(
        description="Every enrollment the group has had, newest first: removed (deletedAt set) and disenrolled ones too."
    )
    async def enrollment_history(
        group: strawberry.Parent[models.GroupDefinition], info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[EnrollmentType]:
        require_scope(info.context.principal, Scope.ENROLLMENTS_VIEW)
        window = page_args(first, after)
        rows, total = await enrollment.history_pages(info, window).load(group.id)
        return Connection.from_page(rows, window, total)

    @strawberry.field(
        description="The group's audit log, newest first: its edits, occurrences and enrollments (enrollments only "
        "with pm.group_enrollments.view, which their history needs too)."
    )
    async def audit_log(
        group: strawberry.Parent[models.GroupDefinition], info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEntryType]:
        window = page_args(first, after)
        hidden = () if info.context.principal.has_scope(Scope.ENROLLMENTS_VIEW) else ENROLLMENT_ENTITIES
        rows, total = await scheduling.audit_pages(info, window, hidden).load(group.id)
        return Connection.from_page(rows, window, total)

    @strawberry.field(
        description="Who this request's updateGroup promoted from the waitlist into new seats; empty when read otherwise."
    )
    def promoted(group: strawberry.Parent[models.GroupDefinition], info: Info) -> list[EnrollmentType]:
        return info.context.promotions.get(group.id, [])

    is_type_of = rows_of(models.GroupDefinition)


# Audit entries about enrollments name patients, statuses, waitlist places and disenrollment reasons:
# a group's log shows them only to a caller who may read its enrollments.
ENROLLMENT_ENTITIES = ("Enrollment",)


@strawberry.type
class GroupOccurrence(Node):
    id: strawberry.ID = global_id("GroupOccurrence")
    session_date: date
    start_time: time
    end_time: time
    starts_at: datetime
    ends_at: datetime
    cancellation_reason: str | None
    cancelled_at: datetime | None
    location: str | None = strawberry.field(
        description="The room: the group's when the occurrence was made, following its edits until it starts."
    )

    @strawberry.field
    async def co_facilitator(occurrence: strawberry.Parent[models.GroupOccurrence], info: Info) -> StaffType | None:
        return await reference.staff(info).load(occurrence.co_facilitator_id) if occurrence.co_facilitator_id else None

    @strawberry.field
    async def group(occurrence: strawberry.Parent[models.GroupOccurrence], info: Info) -> GroupDefinition:
        return await scheduling.groups(info).load(occurrence.group_id)

    @strawberry.field
    async def facilitator(occurrence: strawberry.Parent[models.GroupOccurrence], info: Info) -> StaffType:
        return await reference.staff(info).load(occurrence.facilitator_id)

    @strawberry.field
    def status(occurrence: strawberry.Parent[models.GroupOccurrence], info: Info) -> OccurrenceStatus:
        return occurrence_status(occurrence.cancelled_at, occurrence.ends_at, info.context.now())

    @strawberry.field
    async def session(occurrence: strawberry.Parent[models.GroupOccurrence], info: Info) -> GroupSessionType | None:
        # The occurrence's session, when the caller may read sessions of its facility.
        require_scope(info.context.principal, Scope.SESSION_READ)
        session = await sessions.of_occurrences(info).load(occurrence.id)
        if session is None or not info.context.principal.sees_facility(session.facility_id):
            return None
        return session

    is_type_of = rows_of(models.GroupOccurrence)


@strawberry.type
class GenerateOccurrencesResult:
    created: list[GroupOccurrence]
    skipped: int
