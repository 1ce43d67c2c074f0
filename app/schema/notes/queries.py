"""Note reads: a session's group note and one member note (clinical.notes.read, within the caller's facilities)."""

from __future__ import annotations

import strawberry

from app.ids import decode_id
from app.operations import notes as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.notes.types import GroupNote, MemberNote
from app.schema.permissions import scoped


@strawberry.type
class NotesQuery:
    @strawberry.field(
        **scoped(Scope.NOTES_READ), description="The session's group note; null until a facilitator creates it."
    )
    async def group_note(self, info: Info, session_id: strawberry.ID) -> GroupNote | None:
        async with info.context.db() as db:
            return await ops.group_note_of(db, info.context.principal, decode_id(session_id, "GroupSession"))

    @strawberry.field(**scoped(Scope.NOTES_READ))
    async def member_note(self, info: Info, id: strawberry.ID) -> MemberNote:
        async with info.context.db() as db:
            return await ops.visible_note(db, info.context.principal, "MemberNote", decode_id(id, "MemberNote"))
