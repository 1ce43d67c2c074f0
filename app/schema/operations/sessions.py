"""Clinical operations: session list and detail, ad-hoc sessions, attendance."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.resolvers import attendance as attendance_ops
from app.resolvers import sessions as ops
from app.schema.connection import Connection
from app.schema.enums import AttendanceStatus
from app.schema.permissions import scoped
from app.schema.sessions import (
    CreateGroupSessionInput,
    GroupSession,
    GroupSessionFilter,
    RosterEntry,
    SupervisorAttendance,
)


@strawberry.type
class SessionsQuery:
    @strawberry.field(**scoped("clinical.group-session.read"))
    async def group_sessions(
        self,
        info: Info,
        filter: GroupSessionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[GroupSession]:
        return await ops.list_sessions(info, filter, first, after)

    @strawberry.field(**scoped("clinical.group-session.read"))
    async def group_session(self, info: Info, id: strawberry.ID) -> GroupSession | None:
        return GroupSession.from_row(await ops.get_session(info.context, id))


@strawberry.type
class SessionsMutation:
    @strawberry.mutation(**scoped("clinical.group-session.create"))
    async def create_group_session(self, info: Info, input: CreateGroupSessionInput) -> GroupSession:
        return GroupSession.from_row(await ops.create_group_session(info.context, input))

    @strawberry.mutation(**scoped("clinical.group-session.create"))
    async def add_session_participant(
        self, info: Info, session_id: strawberry.ID, patient_id: strawberry.ID
    ) -> RosterEntry:
        return RosterEntry.from_row(await ops.add_session_participant(info.context, session_id, patient_id))

    @strawberry.mutation(**scoped("clinical.attendance.write"))
    async def set_attendance(
        self,
        info: Info,
        participant_id: strawberry.ID,
        status: AttendanceStatus,
        expected_status: AttendanceStatus | None = None,
        force: bool | None = False,
        reason: str | None = None,
    ) -> RosterEntry:
        row = await attendance_ops.set_attendance(
            info.context, participant_id, status, expected_status, bool(force), reason
        )
        return RosterEntry.from_row(row)

    @strawberry.mutation(**scoped("clinical.attendance.write"))
    async def set_supervisor_attendance(
        self,
        info: Info,
        session_id: strawberry.ID,
        staff_id: strawberry.ID,
        status: AttendanceStatus,
        expected_status: AttendanceStatus | None = None,
        force: bool | None = False,
        reason: str | None = None,
    ) -> SupervisorAttendance:
        return await attendance_ops.set_supervisor_attendance(
            info.context, session_id, staff_id, status, expected_status, bool(force), reason
        )
