"""Clinical types (CL-14): a session wraps its row; roster entries, supervisors and audit entries
wrap theirs; counts and statuses come from the rules."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from datetime import date as date_type
from datetime import datetime, time
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from app.db import models
from app.ids import encode_id
from app.operations.attendance import SupervisorMark
from app.rules import attendance as rules
from app.rules import notes as note_rules
from app.rules import visits
from app.rules.billing import is_billable_status
from app.rules.displays import NameFormat, display_name
from app.rules.scopes import Scope
from app.schema.batching import ready
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.enums import AttendanceStatus, GroupType, Modality, NoteStatus, SessionStatus
from app.schema.loaders import billing, notes, reference, scheduling, sessions
from app.schema.loaders import coverage as coverage_loaders
from app.schema.node import Node, global_id, rows_of
from app.schema.pagination import page_args
from app.schema.permissions import scoped

BillingPreviewType = Annotated["BillingPreview", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
ChargeType = Annotated["Charge", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
ClaimType = Annotated["Claim", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
GroupNoteType = Annotated["GroupNote", strawberry.lazy("app.schema.notes.types")]  # noqa: F821 - resolved lazily
MemberNoteType = Annotated["MemberNote", strawberry.lazy("app.schema.notes.types")]  # noqa: F821 - resolved lazily
NoteTemplateType = Annotated["NoteTemplate", strawberry.lazy("app.schema.notes.types")]  # noqa: F821 - resolved lazily
FacilityType = Annotated["Facility", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
PatientType = Annotated["Patient", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
StaffType = Annotated["Staff", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
GroupDefinitionType = Annotated["GroupDefinition", strawberry.lazy("app.schema.scheduling.types")]  # noqa: F821 - resolved lazily
CoverageAlertType = Annotated["CoverageAlert", strawberry.lazy("app.schema.coverage.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class RosterEntry:
    id: strawberry.ID = global_id("RosterEntry")
    status: AttendanceStatus
    updated_at: datetime
    added_late: bool = strawberry.field(description="Added to the roster by hand after the session was created.")

    @strawberry.field
    def patient(entry: strawberry.Parent[models.RosterEntry], info: Info) -> PatientType:
        # A roster page's rows (queries.RosterRow) carry their patient; a written entry loads it.
        patient = getattr(entry, "patient", None)
        return patient if patient is not None else reference.patients(info).load(entry.patient_id)

    @strawberry.field(
        description='The patient as a room display shows them: their facility\'s display name format ("Ana R." or "A. R.").'
    )
    async def display_name(entry: strawberry.Parent[models.RosterEntry], info: Info) -> str:
        patient = await reference.patients(info).load(entry.patient_id)
        facility = await reference.facilities(info).load(patient.facility_id)
        return display_name(patient.name, NameFormat(facility.display_name_format))

    @strawberry.field(
        description="The patient's coverage problems for this session's group: an authorization that runs out "
        "before the group's last session, coverage answered inactive."
    )
    async def coverage_alerts(entry: strawberry.Parent[models.RosterEntry], info: Info) -> list[CoverageAlertType]:
        session = await sessions.sessions(info).load(entry.session_id)
        key = (entry.patient_id, session.group_id, session.group_type, session.starts_at)
        return await coverage_loaders.alerts(info).load(key)

    @strawberry.field
    def allowed_next(entry: strawberry.Parent[models.RosterEntry]) -> list[AttendanceStatus]:
        return list(rules.allowed_next_statuses(entry.status))

    @strawberry.field(
        description="ATTENDED or LATE (a payer's minimum visit can still leave the member unbillable: see the preview)."
    )
    def billable(entry: strawberry.Parent[models.RosterEntry]) -> bool:
        return is_billable_status(entry.status)

    @strawberry.field(description="When the member arrived (marking ATTENDED records the start, LATE the time marked).")
    def arrived_at(entry: strawberry.Parent[models.RosterEntry]) -> datetime | None:
        return entry.arrived_at

    @strawberry.field(description="When the member left; null means they stayed to the end (or were not there).")
    def departed_at(entry: strawberry.Parent[models.RosterEntry]) -> datetime | None:
        return entry.departed_at

    @strawberry.field(description="Minutes in the group, from arrival to departure within the session's window.")
    async def minutes_present(entry: strawberry.Parent[models.RosterEntry], info: Info) -> int:
        session = await sessions.sessions(info).load(entry.session_id)
        stay = visits.Stay(entry.arrived_at, entry.departed_at)
        return visits.minutes_present(entry.status, stay, session.starts_at, session.ends_at)

    @strawberry.field(description="How the member joins: their own modality, or the session's.")
    async def modality(entry: strawberry.Parent[models.RosterEntry], info: Info) -> Modality:
        session = await sessions.sessions(info).load(entry.session_id)
        return visits.effective_modality(session.modality, entry.modality)

    @strawberry.field(
        description="For telehealth, as attested (setParticipantVisit): the member joined from home (place of "
        "service 10) or elsewhere (02); null until attested, never assumed."
    )
    def patient_at_home(entry: strawberry.Parent[models.RosterEntry]) -> bool | None:
        return entry.patient_at_home

    @strawberry.field(description="The member note's status (never its text): null before the group note drafts it.")
    async def note_status(entry: strawberry.Parent[models.RosterEntry], info: Info) -> NoteStatus | None:
        note = await notes.member_note_of_entry(info).load(entry.id)
        return note_rules.NoteStatus(note.status) if note is not None else None

    @strawberry.field(
        **scoped(Scope.NOTES_READ), description="The member's individualized note (needs clinical.notes.read)."
    )
    async def member_note(entry: strawberry.Parent[models.RosterEntry], info: Info) -> MemberNoteType | None:
        return await notes.member_note_of_entry(info).load(entry.id)


def _supervisor_id(mark: strawberry.Parent[SupervisorMark]) -> strawberry.ID:
    return strawberry.ID(encode_id("SupervisorAttendance", f"{mark.session_id}.{mark.staff_id}"))


@strawberry.type
class SupervisorAttendance:
    """A supervisor of the session (operations.attendance.SupervisorMark)."""

    id: strawberry.ID = strawberry.field(resolver=_supervisor_id)
    status: AttendanceStatus

    @strawberry.field
    def staff(mark: strawberry.Parent[SupervisorMark], info: Info) -> StaffType:
        return ready(reference.staff(info), mark.staff_id)

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


NOTE_ENTITIES = frozenset({"GroupNote", "MemberNote"})
# What a note's audit entry shows a caller without clinical.notes.read: ids and status, no text.
NOTE_AUDIT_KEYS = frozenset({"status", "sessionId", "patientId", "rosterEntryId", "addendumId", "memberNotes"})


# A claim's or charge's audit entry shows a caller without billing.read its status only: no claim
# number, payer claim number, amount or code.
BILLING_ENTITIES = frozenset({"Claim", "Charge"})
BILLING_AUDIT_KEYS = frozenset({"status"})
# The unpaged auditLog list holds at most this many entries (what the cost limit counts it as).
AUDIT_LOG_LIST = 50


def _audited_values(entry: models.AuditEntry, values: dict | None, info: Info) -> dict | None:
    principal = info.context.principal
    if values is None:
        return values
    if entry.entity_type in NOTE_ENTITIES and not principal.has_scope(Scope.NOTES_READ):
        return {key: value for key, value in values.items() if key in NOTE_AUDIT_KEYS}
    if entry.entity_type in BILLING_ENTITIES and not principal.has_scope(Scope.BILLING_READ):
        return {key: value for key, value in values.items() if key in BILLING_AUDIT_KEYS}
    return values


@strawberry.type
class AuditEntry:
    id: strawberry.ID = strawberry.field(resolver=_audit_id)
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: strawberry.ID = strawberry.field(resolver=_audited_id)
    reason: str | None

    @strawberry.field(
        description="The record before the change; a note's text only with clinical.notes.read, a claim's or "
        "charge's numbers only with billing.read."
    )
    def before(entry: strawberry.Parent[models.AuditEntry], info: Info) -> JSON | None:
        return _audited_values(entry, entry.before, info)

    @strawberry.field(
        description="The record after the change; a note's text only with clinical.notes.read, a claim's or "
        "charge's numbers only with billing.read."
    )
    def after(entry: strawberry.Parent[models.AuditEntry], info: Info) -> JSON | None:
        return _audited_values(entry, entry.after, info)


@strawberry.type
class GroupSession(Node):
    id: strawberry.ID = global_id("GroupSession")
    title: str
    group_type: GroupType
    starts_at: datetime
    ends_at: datetime

    @strawberry.field
    def facility(session: strawberry.Parent[models.GroupSession], info: Info) -> FacilityType:
        return ready(reference.facilities(info), session.facility_id)

    @strawberry.field(
        description="Who leads it: its occurrence's facilitator when it was scheduled, kept once it starts (null for an ad-hoc session)."
    )
    async def facilitator(session: strawberry.Parent[models.GroupSession], info: Info) -> StaffType | None:
        return await reference.staff(info).load(session.facilitator_id) if session.facilitator_id else None

    @strawberry.field(
        description="Null for an ad-hoc session (a soft-deleted group still shows here).",
        **scoped(Scope.GROUP_DEFINITIONS_VIEW),
    )
    async def group(session: strawberry.Parent[models.GroupSession], info: Info) -> GroupDefinitionType | None:
        if session.group_id is None:
            return None
        return await scheduling.groups(info).load(session.group_id)

    @strawberry.field(description="The scheduling occurrence this session came from, if any.")
    def occurrence_id(session: strawberry.Parent[models.GroupSession]) -> strawberry.ID | None:
        return strawberry.ID(encode_id("GroupOccurrence", session.occurrence_id)) if session.occurrence_id else None

    @strawberry.field
    def status(session: strawberry.Parent[models.GroupSession], info: Info) -> SessionStatus:
        return rules.status_of(session, info.context.now_until(partial(rules.status_changes_at, session)))

    @strawberry.field
    def locked(session: strawberry.Parent[models.GroupSession]) -> bool:
        return session.locked_at is not None

    @strawberry.field(description="How the room meets; a member may join differently (RosterEntry.modality).")
    def modality(session: strawberry.Parent[models.GroupSession]) -> Modality:
        return visits.Modality(session.modality)

    @strawberry.field(
        **scoped(Scope.NOTES_READ), description="The session's group note, once a facilitator has created it."
    )
    async def group_note(session: strawberry.Parent[models.GroupSession], info: Info) -> GroupNoteType | None:
        return await notes.group_notes(info).load(session.id)

    @strawberry.field(description="The group note's template for this session's group type.")
    def note_template(session: strawberry.Parent[models.GroupSession]) -> NoteTemplateType:
        return note_rules.note_template(session.group_type)

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
        return _then(ready(sessions.supervisors(info), session.id), partial(_marks, session.id))

    @strawberry.field
    def roster(session: strawberry.Parent[models.GroupSession], info: Info) -> list[RosterEntry]:
        return ready(sessions.rosters(info), session.id)

    @strawberry.field
    def attendance(session: strawberry.Parent[models.GroupSession], info: Info) -> AttendanceSummary:
        return _then(ready(sessions.rosters(info), session.id), _counts)

    @strawberry.field
    def billing_preview(session: strawberry.Parent[models.GroupSession], info: Info) -> BillingPreviewType:
        return ready(billing.previews(info), session.id)

    @strawberry.field(**scoped(Scope.BILLING_READ))
    async def charges(session: strawberry.Parent[models.GroupSession], info: Info) -> list[ChargeType]:
        return await billing.charges_by_session(info).load(session.id)

    @strawberry.field(**scoped(Scope.BILLING_READ))
    async def claims(session: strawberry.Parent[models.GroupSession], info: Info) -> list[ClaimType]:
        return await billing.claims_by_session(info).load(session.id)

    @strawberry.field(
        description=f"The newest {AUDIT_LOG_LIST} entries of the session's audit log, oldest first. "
        "auditLogPage pages through all of them.",
        deprecation_reason="Use auditLogPage (paged, newest first).",
    )
    async def audit_log(session: strawberry.Parent[models.GroupSession], info: Info) -> list[AuditEntry]:
        rows, _ = await sessions.audit_pages(info, page_args(AUDIT_LOG_LIST, None)).load(session.id)
        return list(reversed(rows))

    @strawberry.field(description="The session's audit log, newest first: its attendance, notes and billing.")
    async def audit_log_page(
        session: strawberry.Parent[models.GroupSession], info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEntry]:
        window = page_args(first, after)
        rows, total = await sessions.audit_pages(info, window).load(session.id)
        return Connection.from_page(rows, window, total)

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
    facility = await reference.facilities(info).load(session.facility_id)
    return getattr(rules.local_window(session.starts_at, session.ends_at, facility.timezone), part)
