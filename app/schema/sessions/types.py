"""Clinical types (CL-14): a session wraps its row; roster entries, supervisors and audit entries
wrap theirs; counts and statuses come from the rules."""
from __future__ import annotations

from datetime import date as date_type
from datetime import datetime, time
import inspect
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import sessions as queries
from app.ids import encode_id
from app.operations.attendance import SupervisorMark
from app.rules import attendance as rules
from app.rules.billing import is_billable_status
from app.rules.scopes import Scope
from app.schema.enums import AttendanceStatus, GroupType, SessionStatus
from app.schema.loaders import ready
from app.schema.node import Node, global_id, rows_of
from app.schema.permissions import scoped
from app.schema.reference.types import (
    Facility,
    Patient,
    Staff,
    load_facility,
    load_patient,
)
from app.schema.scheduling.types import GroupDefinition
from app.schema.sessions import loaders

BillingPreviewType = Annotated["BillingPreview", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
ChargeType = Annotated["Charge", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
ClaimType = Annotated["Claim", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class RosterEntry:
    id: strawberry.ID = global_id("RosterEntry")
    status: AttendanceStatus
    updated_at: datetime
    added_late: bool = strawberry.field(description="Added to the roster by hand after the session was created.")

    @strawberry.field
    def patient(entry: strawberry.Parent[models.RosterEntry], info: Info) -> Patient:
        # A roster page's rows (queries.RosterRow) carry their patient; a written entry loads it.
        patient = getattr(entry, "patient", None)
        return patient if patient is not None else load_patient(info, entry.patient_id)

    @strawberry.field
    def allowed_next(entry: strawberry.Parent[models.RosterEntry]) -> list[AttendanceStatus]:
        return list(rules.allowed_next_statuses(entry.status))

    @strawberry.field
    def billable(entry: strawberry.Parent[models.RosterEntry]) -> bool:
        return is_billable_status(entry.status)


def _supervisor_id(mark: strawberry.Parent[SupervisorMark]) -> strawberry.ID:
    return strawberry.ID(encode_id("SupervisorAttendance", f"{mark.session_id}.{mark.staff_id}"))


@strawberry.type
class SupervisorAttendance:
    """A supervisor of the session (operations.attendance.SupervisorMark)."""

    id: strawberry.ID = strawberry.field(resolver=_supervisor_id)
    status: AttendanceStatus

    @strawberry.field
    def staff(mark: strawberry.Parent[SupervisorMark], info: Info) -> Staff:
        return ready(info.context.loaders.by_id(models.Staff), mark.staff_id)

    @strawberry.field
    def allowed_next(mark: strawberry.Parent[SupervisorMark]) -> list[AttendanceStatus]:
        return list(rules.allowed_next_statuses(mark.status))


@strawberry.type
class AttendanceSummary:
    """The roster's counts (app.rules.attendance.AttendanceCounts)."""

    scheduled: int
    attended: int
    late: int
    absent: int
    total: int
    terminal: bool = strawberry.field(description="No participant left at SCHEDULED.")


def _audit_id(entry: strawberry.Parent[models.AuditEntry]) -> strawberry.ID:
    return strawberry.ID(str(entry.id))


def _audited_id(entry: strawberry.Parent[models.AuditEntry]) -> strawberry.ID:
    key: object = entry.entity_id
    if entry.entity_type == "SupervisorAttendance" and entry.session_id is not None:
        # Supervisor rows are named by (session, staff) in the API; the audit keeps the staff id.
        key = f"{entry.session_id}.{entry.entity_id}"
    return strawberry.ID(encode_id(entry.entity_type, key))


@strawberry.type
class AuditEntry:
    id: strawberry.ID = strawberry.field(resolver=_audit_id)
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: strawberry.ID = strawberry.field(resolver=_audited_id)
    reason: str | None
    before: JSON | None
    after: JSON | None


@strawberry.type
class GroupSession(Node):
    id: strawberry.ID = global_id("GroupSession")
    title: str
    group_type: GroupType
    starts_at: datetime
    ends_at: datetime

    @strawberry.field
    def facility(session: strawberry.Parent[models.GroupSession], info: Info) -> Facility:
        return ready(info.context.loaders.by_id(models.Facility), session.facility_id)

    @strawberry.field(description="Null for an ad-hoc session (a soft-deleted group still shows here).", **scoped(Scope.GROUP_DEFINITIONS_VIEW))
    async def group(session: strawberry.Parent[models.GroupSession], info: Info) -> GroupDefinition | None:
        if session.group_id is None:
            return None
        return await info.context.loaders.by_id(models.GroupDefinition).load(session.group_id)

    @strawberry.field(description="The scheduling occurrence this session came from, if any.")
    def occurrence_id(session: strawberry.Parent[models.GroupSession]) -> strawberry.ID | None:
        return strawberry.ID(encode_id("GroupOccurrence", session.occurrence_id)) if session.occurrence_id else None

    @strawberry.field
    def status(session: strawberry.Parent[models.GroupSession], info: Info) -> SessionStatus:
        return rules.session_status(
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            cancelled=session.cancelled_at is not None,
            locked=session.locked_at is not None,
            now=info.context.now(),
        )

    @strawberry.field
    def locked(session: strawberry.Parent[models.GroupSession]) -> bool:
        return session.locked_at is not None

    @strawberry.field(description="The session's date in its facility's time zone.")
    def session_date(session: strawberry.Parent[models.GroupSession], info: Info) -> date_type:
        return _local(info, session, "session_date")

    @strawberry.field(description="Start, wall clock in the facility's time zone.")
    def start_time(session: strawberry.Parent[models.GroupSession], info: Info) -> time:
        return _local(info, session, "start_time")

    @strawberry.field(description="End, wall clock in the facility's time zone.")
    def end_time(session: strawberry.Parent[models.GroupSession], info: Info) -> time:
        return _local(info, session, "end_time")

    @strawberry.field
    def cancelled_at(session: strawberry.Parent[models.GroupSession]) -> datetime | None:
        return session.cancelled_at

    @strawberry.field
    def cancellation_reason(session: strawberry.Parent[models.GroupSession]) -> str | None:
        return session.cancellation_reason

    @strawberry.field
    def supervisors(session: strawberry.Parent[models.GroupSession], info: Info) -> list[SupervisorAttendance]:
        return _then(ready(loaders.supervisors_loader(info), session.id), partial(_marks, session.id))

    @strawberry.field
    def roster(session: strawberry.Parent[models.GroupSession], info: Info) -> list[RosterEntry]:
        return ready(loaders.roster_loader(info), session.id)

    @strawberry.field
    def attendance(session: strawberry.Parent[models.GroupSession], info: Info) -> AttendanceSummary:
        return _then(ready(loaders.roster_loader(info), session.id), _counts)

    @strawberry.field
    def billing_preview(session: strawberry.Parent[models.GroupSession], info: Info) -> BillingPreviewType:
        return ready(loaders.preview_loader(info), session.id)

    @strawberry.field(**scoped(Scope.BILLING_READ))
    async def charges(session: strawberry.Parent[models.GroupSession], info: Info) -> list[ChargeType]:
        return await info.context.loaders.custom("charges_by_session", billing_queries.charges_by_session).load(session.id)

    @strawberry.field(**scoped(Scope.BILLING_READ))
    async def claims(session: strawberry.Parent[models.GroupSession], info: Info) -> list[ClaimType]:
        return await info.context.loaders.custom("claims_by_session", billing_queries.claims_by_session).load(session.id)

    @strawberry.field
    async def audit_log(session: strawberry.Parent[models.GroupSession], info: Info) -> list[AuditEntry]:
        return await info.context.loaders.custom("audit_entries", queries.audit_entries).load(session.id)

    is_type_of = rows_of(models.GroupSession)


# Resolvers above that are plain functions return an awaitable only when they need a loader: a
# synchronous field skips the awaitable machinery, and graphql-core awaits what is awaitable.


def _then(value: Any, then: Callable[[Any], Any]) -> Any:
    """then(value), or an awaitable of it when the value is still to be loaded."""
    if inspect.isawaitable(value):
        return _later(value, then)
    return then(value)


async def _later(value: Awaitable[Any], then: Callable[[Any], Any]) -> Any:
    return then(await value)


def _marks(session_id: uuid.UUID, found: list[tuple[uuid.UUID, str]]) -> list[SupervisorMark]:
    return [SupervisorMark(session_id, staff_id, status) for staff_id, status in found]


def _counts(entries: list[Any]) -> rules.AttendanceCounts:
    return rules.count_attendance(entry.status for entry in entries)


def _local(info: Info, session: models.GroupSession, part: str) -> Any:
    """One of the session's local date and times: worked out once per row by the page's statement
    (queries.SessionRow.local), else from its facility's time zone through the loader."""
    window = getattr(session, "local", None)
    if window is not None:
        return getattr(window, part)
    return _loaded_local(info, session, part)


async def _loaded_local(info: Info, session: models.GroupSession, part: str) -> Any:
    facility = await load_facility(info, session.facility_id)
    return getattr(rules.local_window(session.starts_at, session.ends_at, facility.timezone), part)
