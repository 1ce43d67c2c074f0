"""Clinical operations: session list and detail, ad-hoc sessions, attendance."""
from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from app.db import models
from app.errors import Forbidden
from app.resolvers import attendance as attendance_ops
from app.resolvers import sessions as ops
from app.resolvers.common import visible_or_not_found
from app.schema.connection import Connection
from app.schema.enums import AttendanceStatus
from app.schema.node import node_fetcher
from app.schema.permissions import scoped
from app.schema.sessions import (
    AttendanceEntryInput,
    CreateGroupSessionInput,
    GroupSession,
    GroupSessionFilter,
    RosterEntry,
    SupervisorAttendance,
)


@node_fetcher("GroupSession")
async def _session_node(info: Info, pk: uuid.UUID) -> GroupSession:
    if not info.context.principal.has_scope(ops.READ_SCOPE):
        raise Forbidden(f"Missing scope {ops.READ_SCOPE}")
    row = await info.context.loaders.by_id(models.GroupSession).load(pk)
    return GroupSession.from_row(visible_or_not_found(info.context, row, "GroupSession"))


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

    @strawberry.mutation(
        **scoped("clinical.attendance.write"),
        description="Mark several roster rows of one session at once: all change or none do.",
    )
    async def set_attendance_batch(
        self,
        info: Info,
        session_id: strawberry.ID,
        entries: list[AttendanceEntryInput],
        force: bool | None = False,
        reason: str | None = None,
    ) -> list[RosterEntry]:
        rows = await attendance_ops.set_attendance_batch(info.context, session_id, entries, bool(force), reason)
        return [RosterEntry.from_row(r) for r in rows]
