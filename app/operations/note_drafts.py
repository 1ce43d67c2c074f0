"""Member note drafts: once a session has its group note, every member who was there (ATTENDED or
LATE) has a draft of their own, by the group note's author, naming the group's interventions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.db import models
from app.db.queries import notes as queries
from app.db.queries import sessions as session_queries
from app.db.uow import UnitOfWork
from app.rules import notes as rules
from app.rules.notes import NoteStatus
from app.rules.updates import touched


def draft_rows(group_note: models.GroupNote, entries: Sequence[Any], now: datetime) -> list[dict[str, Any]]:
    """The member notes the group note drafts for `entries` (roster rows), as rows to insert."""
    response = rules.drafted_response(list(group_note.interventions or []))
    return [
        {
            "session_id": group_note.session_id,
            "group_note_id": group_note.id,
            "roster_entry_id": entry.id,
            "patient_id": entry.patient_id,
            "author_id": group_note.author_id,
            "risk_flags": [],
            "status": NoteStatus.DRAFT,
            "response_to_interventions": response,
            "prefilled_text": response,
            "created_at": now,
            "updated_at": now,
        }
        for entry in entries
    ]


async def draft_missing_member_notes(uow: UnitOfWork, session: models.GroupSession) -> list[str]:
    """A member marked ATTENDED or LATE after the group note was written gets their draft too. The
    roster entries drafted (their global ids, as live updates name rows)."""
    group_note = await queries.group_note_of_session(uow.db, session.id)
    if group_note is None:
        return []
    roster = (await session_queries.rosters(uow.db, [session.id]))[0]
    have = {n.roster_entry_id for n in (await queries.member_notes_by_session(uow.db, [session.id]))[0]}
    missing = [e for e in roster if rules.drafts_member_note(e.status) and e.id not in have]
    made = await queries.add_member_notes(uow.db, draft_rows(group_note, missing, uow.clock.now()))
    if made:
        uow.audit(
            "note.member_draft",
            "GroupNote",
            group_note.id,
            before={"sessionId": str(session.id), "memberNotes": len(have)},
            after={"sessionId": str(session.id), "memberNotes": len(have) + len(made)},
            session_id=session.id,
        )
    return [touched("RosterEntry", e.id) for e in missing] if made else []
