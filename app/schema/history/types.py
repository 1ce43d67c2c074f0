"""History types: a patient's attendance records and tallies (app.operations.history), and the
absence alerts on enrollments (app.db.models.AbsenceAlert)."""

from __future__ import annotations

import uuid
from datetime import date as date_type
from datetime import datetime, time
from typing import Annotated

import strawberry

from app.db import models
from app.ids import encode_id
from app.operations import history as ops
from app.rules import attendance as attendance_rules
from app.rules.history import AttendanceTally as Tally
from app.rules.scopes import Scope
from app.schema.connection import Connection, Edge, PageInfo
from app.schema.context import Info
from app.schema.enums import AttendanceStatus, SessionStatus
from app.schema.loaders import enrollment as enrollment_loaders
from app.schema.loaders import history as history_loaders
from app.schema.loaders import reference, scheduling
from app.schema.permissions import scoped

EnrollmentType = Annotated["Enrollment", strawberry.lazy("app.schema.enrollment.types")]  # noqa: F821 - resolved lazily
FacilityType = Annotated["Facility", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
GroupDefinitionType = Annotated["GroupDefinition", strawberry.lazy("app.schema.scheduling.types")]  # noqa: F821 - resolved lazily
GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
PatientType = Annotated["Patient", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily

GROUP_SCOPE = scoped(Scope.GROUP_DEFINITIONS_VIEW)  # as GroupSession.group


def _group_id(pk: uuid.UUID | None) -> strawberry.ID | None:
    return strawberry.ID(encode_id("GroupDefinition", pk)) if pk else None


async def _group(info: Info, pk: uuid.UUID | None) -> models.GroupDefinition | None:
    return await scheduling.groups(info).load(pk) if pk else None


@strawberry.type(description="A session the patient was on the roster of, and their attendance at it.")
class AttendanceRecord:
    minutes_attended: int = strawberry.field(
        description="The session's length when ATTENDED or LATE (no arrival time is recorded), else 0; 0 for a cancelled session."
    )

    @strawberry.field(description="The roster entry (RosterEntry id).")
    def id(record: strawberry.Parent[ops.AttendanceRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("RosterEntry", record.entry.id))

    @strawberry.field
    def status(record: strawberry.Parent[ops.AttendanceRecord]) -> AttendanceStatus:
        return record.entry.status

    @strawberry.field
    def session(record: strawberry.Parent[ops.AttendanceRecord]) -> GroupSessionType:
        return record.session

    @strawberry.field(description="The session's title: its group's name when it was scheduled.")
    def title(record: strawberry.Parent[ops.AttendanceRecord]) -> str:
        return record.session.title

    @strawberry.field
    def starts_at(record: strawberry.Parent[ops.AttendanceRecord]) -> datetime:
        return record.session.starts_at

    @strawberry.field
    def ends_at(record: strawberry.Parent[ops.AttendanceRecord]) -> datetime:
        return record.session.ends_at

    @strawberry.field(description="The session's date in its facility's time zone.")
    def session_date(record: strawberry.Parent[ops.AttendanceRecord]) -> date_type:
        return record.local.session_date

    @strawberry.field(description="Start, wall clock in the facility's time zone.")
    def start_time(record: strawberry.Parent[ops.AttendanceRecord]) -> time:
        return record.local.start_time

    @strawberry.field(description="End, wall clock in the facility's time zone.")
    def end_time(record: strawberry.Parent[ops.AttendanceRecord]) -> time:
        return record.local.end_time

    @strawberry.field
    def session_status(record: strawberry.Parent[ops.AttendanceRecord], info: Info) -> SessionStatus:
        return attendance_rules.status_of(record.session, info.context.now())

    @strawberry.field(description="Null for an ad-hoc session.")
    def group_id(record: strawberry.Parent[ops.AttendanceRecord]) -> strawberry.ID | None:
        return _group_id(record.session.group_id)

    @strawberry.field(description="Null for an ad-hoc session.", **GROUP_SCOPE)
    async def group(record: strawberry.Parent[ops.AttendanceRecord], info: Info) -> GroupDefinitionType | None:
        return await _group(info, record.session.group_id)

    @strawberry.field
    async def facility(record: strawberry.Parent[ops.AttendanceRecord], info: Info) -> FacilityType:
        return await reference.facilities(info).load(record.session.facility_id)


@strawberry.type(
    description="A group's line of the history over the whole range (not only the page). "
    "attendanceRate = (attended + late) / (attended + late + absent); unmarked and cancelled sessions are left out of it."
)
class AttendanceTally:
    title: str = strawberry.field(
        description="The group's name (of its latest session in the range); ad-hoc sessions share one line."
    )
    attended: int
    late: int
    absent: int
    unmarked: int = strawberry.field(description="Sessions still SCHEDULED: upcoming, or never marked.")
    cancelled: int
    sessions: int = strawberry.field(description="Every session of the group in the range, cancelled ones included.")
    minutes_attended: int
    attendance_rate: float | None = strawberry.field(
        description="A fraction from 0 to 1; null while nothing is marked."
    )

    @strawberry.field(description="Null for the line of ad-hoc sessions.")
    def group_id(tally: strawberry.Parent[Tally]) -> strawberry.ID | None:
        return _group_id(tally.group_id)

    @strawberry.field(description="Null for the line of ad-hoc sessions.", **GROUP_SCOPE)
    async def group(tally: strawberry.Parent[Tally], info: Info) -> GroupDefinitionType | None:
        return await _group(info, tally.group_id)


@strawberry.type(
    description="A patient's sessions in a date range, newest first, paged; with the tallies of the whole range."
)
class AttendanceHistory:
    edges: list[Edge[AttendanceRecord]]
    page_info: PageInfo
    total_count: int
    tallies: list[AttendanceTally]
    from_: date_type = strawberry.field(name="from", description="The first day of the range (facility time zone).")
    to: date_type = strawberry.field(description="The last day of the range (facility time zone).")

    @classmethod
    def of(cls, history: ops.AttendanceHistory) -> "AttendanceHistory":
        page = Connection.from_page(history.records, history.window, history.total)
        return cls(
            edges=page.edges,
            page_info=page.page_info,
            total_count=page.total_count,
            tallies=history.tallies,
            from_=history.first_day,
            to=history.last_day,
        )


def _alert_id(alert: strawberry.Parent[models.AbsenceAlert]) -> strawberry.ID:
    return strawberry.ID(encode_id("AbsenceAlert", alert.enrollment_id))


@strawberry.type(
    description="An enrolled patient who missed `threshold` or more of the group's sessions in a row; clears on their next attendance."
)
class AbsenceAlert:
    id: strawberry.ID = strawberry.field(resolver=_alert_id)
    threshold: int = strawberry.field(
        description="The group type's consecutive-absence threshold when the alert was judged."
    )
    since: datetime = strawberry.field(description="The start of the first absence of the run.")
    raised_at: datetime

    @strawberry.field
    def consecutive_absences(alert: strawberry.Parent[models.AbsenceAlert]) -> int:
        return len(alert.session_ids)

    @strawberry.field(
        description="The sessions that tripped it: every absence since the patient last came, oldest first."
    )
    async def sessions(alert: strawberry.Parent[models.AbsenceAlert], info: Info) -> list[GroupSessionType]:
        return await history_loaders.alert_sessions(info).load(tuple(alert.session_ids))

    @strawberry.field
    async def patient(alert: strawberry.Parent[models.AbsenceAlert], info: Info) -> PatientType:
        return await reference.patients(info).load(alert.patient_id)

    @strawberry.field
    async def enrollment(alert: strawberry.Parent[models.AbsenceAlert], info: Info) -> EnrollmentType:
        return await enrollment_loaders.enrollments(info).load(alert.enrollment_id)

    @strawberry.field
    def group_id(alert: strawberry.Parent[models.AbsenceAlert]) -> strawberry.ID:
        return _group_id(alert.group_id)

    @strawberry.field(**GROUP_SCOPE)
    async def group(alert: strawberry.Parent[models.AbsenceAlert], info: Info) -> GroupDefinitionType:
        return await _group(info, alert.group_id)
