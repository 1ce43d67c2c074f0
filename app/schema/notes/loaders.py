"""The batched reads of notes: a session's group note and member notes, a roster row's note, addenda."""

from __future__ import annotations

import uuid

from strawberry.types import Info

from app.db import models
from app.db.queries import notes as queries
from app.rules.notes import SignedNoteRule


async def group_note(info: Info, session_id: uuid.UUID) -> models.GroupNote | None:
    return await info.context.loaders.custom("group_notes_by_session", queries.group_notes_by_session).load(session_id)


async def member_notes(info: Info, session_id: uuid.UUID) -> list[models.MemberNote]:
    return await info.context.loaders.custom("member_notes_by_session", queries.member_notes_by_session).load(
        session_id
    )


async def member_note_of_entry(info: Info, entry_id: uuid.UUID) -> models.MemberNote | None:
    return await info.context.loaders.custom("member_notes_by_entry", queries.member_notes_by_entry).load(entry_id)


async def addenda(info: Info, note: models.GroupNote | models.MemberNote) -> list[models.NoteAddendum]:
    if isinstance(note, models.GroupNote):
        return await info.context.loaders.custom("addenda_of_group_notes", queries.addenda_of_group_notes).load(note.id)
    return await info.context.loaders.custom("addenda_of_member_notes", queries.addenda_of_member_notes).load(note.id)


async def documentation_rule(info: Info, payer_id: uuid.UUID) -> models.PayerDocumentationRule:
    """The payer's rule, or the defaults it has until one is set (signed note WARNING, no minimum)."""
    row = await info.context.loaders.custom("documentation_rules", queries.documentation_rule_rows).load(payer_id)
    return row or models.PayerDocumentationRule(
        payer_id=payer_id, signed_note=SignedNoteRule.WARNING, minimum_minutes=None, cosign_states=[], telehealth={}
    )
