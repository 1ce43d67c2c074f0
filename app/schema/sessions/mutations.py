"""Session changes: ad-hoc sessions, late participants, attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.errors import BadInput
from app.ids import decode_id
from app.operations import attendance as attendance_ops
from app.operations import sessions as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import AttendanceStatus, GroupType, Modality
from app.schema.inputs import plain
from app.schema.permissions import scoped
from app.schema.sessions.types import GroupSession, RosterEntry, SupervisorAttendance

REASON = (
    "Required with force (a correction of a locked session), and for a late entry: a row's first mark after "
    "the session's finalization deadline, which needs no force and is billed as a correction. Audited."
)


@strawberry.input(description="One roster row to mark in setAttendanceBatch.")
class AttendanceEntryInput:
    participant_id: strawberry.ID
    status: AttendanceStatus
    expected_status: AttendanceStatus | None = None
    arrived_at: datetime | None = None
    departed_at: datetime | None = None


@strawberry.input
class CreateGroupSessionInput:
    facility_id: strawberry.ID
    group_type: GroupType
    title: str
    starts_at: datetime
    ends_at: datetime
    patient_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    modality: Modality = Modality.IN_PERSON
    facilitator_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who runs it: the rendering clinician its claims name (837P 2310B)."
    )


def _mark(
    status, expected_status, force: bool | None, reason: str | None, arrived_at=None, departed_at=None
) -> attendance_ops.Mark:
    return attendance_ops.Mark(
        status=status,
        expected=expected_status,
        force=bool(force),
        reason=reason,
        arrived_at=arrived_at,
        departed_at=departed_at,
    )


@strawberry.type
class SessionsMutation:
    @strawberry.mutation(**scoped(Scope.SESSION_CREATE))
    async def create_group_session(self, info: Info, input: CreateGroupSessionInput) -> GroupSession:
        data = plain(input, ops.NewSession, facility_id="Facility", patient_ids="Patient", facilitator_id="Staff")
        return await ops.create_group_session(await info.context.transaction(), info.context.principal, data)

    @strawberry.mutation(**scoped(Scope.SESSION_CREATE))
    async def add_session_participant(
        self, info: Info, session_id: strawberry.ID, patient_id: strawberry.ID
    ) -> RosterEntry:
        return await ops.add_roster_entry(
            await info.context.transaction(),
            info.context.principal,
            decode_id(session_id, "GroupSession"),
            decode_id(patient_id, "Patient"),
        )

    @strawberry.mutation(**scoped(Scope.ATTENDANCE_WRITE))
    async def set_attendance(
        self,
        info: Info,
        participant_id: strawberry.ID,
        status: AttendanceStatus,
        expected_status: AttendanceStatus | None = None,
        force: bool | None = False,
        reason: Annotated[str | None, strawberry.argument(description=REASON)] = None,
        arrived_at: Annotated[
            datetime | None,
            strawberry.argument(description="Defaults: the session's start for ATTENDED, the time marked for LATE."),
        ] = None,
        departed_at: Annotated[
            datetime | None,
            strawberry.argument(description="Defaults: the session's end for ATTENDED, none (stayed) for LATE."),
        ] = None,
    ) -> RosterEntry:
        return await attendance_ops.set_attendance(
            await info.context.transaction(),
            info.context.principal,
            decode_id(participant_id, "RosterEntry"),
            _mark(status, expected_status, force, reason, arrived_at, departed_at),
        )

    @strawberry.mutation(**scoped(Scope.ATTENDANCE_WRITE))
    async def set_supervisor_attendance(
        self,
        info: Info,
        session_id: strawberry.ID,
        staff_id: strawberry.ID,
        status: AttendanceStatus,
        expected_status: AttendanceStatus | None = None,
        force: bool | None = False,
        reason: Annotated[str | None, strawberry.argument(description=REASON)] = None,
    ) -> SupervisorAttendance:
        return await attendance_ops.set_supervisor_attendance(
            await info.context.transaction(),
            info.context.principal,
            decode_id(session_id, "GroupSession"),
            decode_id(staff_id, "Staff"),
            _mark(status, expected_status, force, reason),
        )

    @strawberry.mutation(
        **scoped(Scope.ATTENDANCE_WRITE),
        description="Mark several roster rows of one session at once: all change or none do.",
    )
    async def set_attendance_batch(
        self,
        info: Info,
        session_id: strawberry.ID,
        entries: list[AttendanceEntryInput],
        force: bool | None = False,
        reason: Annotated[str | None, strawberry.argument(description=REASON)] = None,
    ) -> list[RosterEntry]:
        marks = {
            decode_id(e.participant_id, "RosterEntry"): _mark(
                e.status, e.expected_status, force, reason, e.arrived_at, e.departed_at
            )
            for e in entries
        }
        if len(marks) != len(entries):
            raise BadInput("entries lists a participant more than once")
        return await attendance_ops.set_attendance_batch(
            await info.context.transaction(), info.context.principal, decode_id(session_id, "GroupSession"), marks
        )
