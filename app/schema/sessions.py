"""Clinical types (CL-14): group sessions, roster attendance, supervisors, audit entries."""
from __future__ import annotations

import uuid
from datetime import date as date_type, datetime, time
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.db import models
from app.ids import encode_id
from app.schema.enums import AttendanceStatus, GroupType, SessionStatus
from app.schema.node import Node
from app.schema.permissions import scoped
from app.schema.reference import Facility, Patient, Staff, load_facility, load_patient, load_staff
from app.schema.scheduling import GroupDefinition

if TYPE_CHECKING:
    from app.schema.billing import BillingPreview, Charge, Claim


def allowed_next(status: str) -> list[AttendanceStatus]:
    from app.rules.attendance import allowed_next_statuses

    return [AttendanceStatus(s) for s in allowed_next_statuses(status)]


@strawberry.type
class RosterEntry:
    id: strawberry.ID
    status: AttendanceStatus
    updated_at: datetime
    added_late: bool = strawberry.field(description="Added to the roster by hand after the session was created.")
    row: strawberry.Private[models.SessionParticipant]

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        return await load_patient(info, self.row.patient_id)

    @strawberry.field
    def allowed_next(self) -> list[AttendanceStatus]:
        return allowed_next(self.row.status)

    @strawberry.field
    def billable(self) -> bool:
        from app.rules.billing import is_billable_status

        return is_billable_status(self.row.status)

    @classmethod
    def from_row(cls, row: models.SessionParticipant) -> "RosterEntry":
        return cls(
            id=strawberry.ID(encode_id("RosterEntry", row.id)),
            status=AttendanceStatus(row.status),
            updated_at=row.updated_at,
            added_late=bool(row.added_late),
            row=row,
        )


@strawberry.type
class SupervisorAttendance:
    id: strawberry.ID
    status: AttendanceStatus
    staff_pk: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def staff(self, info: Info) -> Staff:
        return await load_staff(info, self.staff_pk)

    @strawberry.field
    def allowed_next(self) -> list[AttendanceStatus]:
        return allowed_next(self.status.value)

    @classmethod
    def build(cls, session_pk: uuid.UUID, staff_pk: uuid.UUID, status: str) -> "SupervisorAttendance":
        return cls(
            id=strawberry.ID(encode_id("SupervisorAttendance", f"{session_pk}.{staff_pk}")),
            status=AttendanceStatus(status),
            staff_pk=staff_pk,
        )


@strawberry.type
class AttendanceSummary:
    scheduled: int
    attended: int
    late: int
    absent: int
    total: int
    terminal: bool = strawberry.field(description="No participant left at SCHEDULED.")


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: strawberry.ID
    reason: str | None
    before: JSON | None
    after: JSON | None

    @classmethod
    def from_row(cls, row: models.AuditEntry) -> "AuditEntry":
        entity_key: object = row.entity_id
        if row.entity_type == "SupervisorAttendance" and row.session_id is not None:
            # Supervisor rows are named by (session, staff) in the API; the audit keeps the staff id.
            entity_key = f"{row.session_id}.{row.entity_id}"
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=strawberry.ID(encode_id(row.entity_type, entity_key)),
            reason=row.reason,
            before=row.before,
            after=row.after,
        )


@strawberry.type
class GroupSession(Node):
    id: strawberry.ID
    title: str
    group_type: GroupType
    starts_at: datetime
    ends_at: datetime
    row: strawberry.Private[models.GroupSession]

    @strawberry.field
    async def facility(self, info: Info) -> Facility:
        return await load_facility(info, self.row.facility_id)

    @strawberry.field(description="Null for an ad-hoc session (a soft-deleted group still shows here).", **scoped("pm.group_definitions.view"))
    async def group(self, info: Info) -> GroupDefinition | None:
        if self.row.group_id is None:
            return None
        row = await info.context.loaders.by_id(models.GroupDefinition).load(self.row.group_id)
        return GroupDefinition.from_row(row) if row else None

    @strawberry.field(description="The scheduling occurrence this session came from, if any.")
    def occurrence_id(self) -> strawberry.ID | None:
        if self.row.occurrence_id is None:
            return None
        return strawberry.ID(encode_id("GroupOccurrence", self.row.occurrence_id))

    @strawberry.field
    def status(self, info: Info) -> SessionStatus:
        from app.rules.attendance import session_status

        row = self.row
        return SessionStatus(
            session_status(
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                cancelled=row.cancelled_at is not None,
                locked=row.locked_at is not None,
                now=info.context.services.clock.now(),
            )
        )

    @strawberry.field
    def locked(self) -> bool:
        return self.row.locked_at is not None

    @strawberry.field(description="The session's date in its facility's time zone.")
    async def session_date(self, info: Info) -> date_type:
        return (await self._local_window(info)).session_date

    @strawberry.field(description="Start, wall clock in the facility's time zone.")
    async def start_time(self, info: Info) -> time:
        return (await self._local_window(info)).start_time

    @strawberry.field(description="End, wall clock in the facility's time zone.")
    async def end_time(self, info: Info) -> time:
        return (await self._local_window(info)).end_time

    @strawberry.field
    def cancelled_at(self) -> datetime | None:
        return self.row.cancelled_at

    @strawberry.field
    def cancellation_reason(self) -> str | None:
        return self.row.cancellation_reason

    async def _local_window(self, info: Info):
        from app.rules.attendance import local_window

        facility = await info.context.loaders.by_id(models.Facility).load(self.row.facility_id)
        return local_window(self.row.starts_at, self.row.ends_at, facility.timezone)

    @strawberry.field
    async def supervisors(self, info: Info) -> list[SupervisorAttendance]:
        from app.resolvers.sessions import session_supervisors

        return await session_supervisors(info, self.row)

    @strawberry.field
    async def roster(self, info: Info) -> list[RosterEntry]:
        from app.resolvers.sessions import session_roster

        return [RosterEntry.from_row(r) for r in await session_roster(info, self.row.id)]

    @strawberry.field
    async def attendance(self, info: Info) -> AttendanceSummary:
        from app.resolvers.sessions import attendance_summary

        return await attendance_summary(info, self.row.id)

    @strawberry.field
    async def billing_preview(
        self, info: Info
    ) -> Annotated["BillingPreview", strawberry.lazy("app.schema.billing")]:
        from app.resolvers.billing import session_billing_preview

        return await session_billing_preview(info, self.row)

    @strawberry.field(**scoped("billing.read"))
    async def charges(self, info: Info) -> list[Annotated["Charge", strawberry.lazy("app.schema.billing")]]:
        from app.resolvers.billing import session_charges

        return await session_charges(info, self.row.id)

    @strawberry.field(**scoped("billing.read"))
    async def claims(self, info: Info) -> list[Annotated["Claim", strawberry.lazy("app.schema.billing")]]:
        from app.resolvers.billing import session_claims

        return await session_claims(info, self.row.id)

    @strawberry.field
    async def audit_log(self, info: Info) -> list[AuditEntry]:
        loader = info.context.loaders.children(models.AuditEntry.session_id, models.AuditEntry.id)
        return [AuditEntry.from_row(r) for r in await loader.load(self.row.id)]

    @classmethod
    def from_row(cls, row: models.GroupSession) -> "GroupSession":
        return cls(
            id=strawberry.ID(encode_id("GroupSession", row.id)),
            title=row.title,
            group_type=GroupType(row.group_type),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            row=row,
        )


@strawberry.input(description="Defaults as on the list page: today (facility time zone), the viewer's facility, all types, all statuses.")
class GroupSessionFilter:
    from_: date_type | None = strawberry.field(name="from", default=None)  # type: ignore[name-defined]
    to: date_type | None = None  # type: ignore[name-defined]
    facility_id: strawberry.ID | None = None
    group_type: GroupType | None = None
    status: SessionStatus | None = None


@strawberry.input(description="One roster row to mark in setAttendanceBatch.")
class AttendanceEntryInput:
    participant_id: strawberry.ID
    status: AttendanceStatus
    expected_status: AttendanceStatus | None = None


@strawberry.input
class CreateGroupSessionInput:
    facility_id: strawberry.ID
    group_type: GroupType
    title: str
    starts_at: datetime
    ends_at: datetime
    patient_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
