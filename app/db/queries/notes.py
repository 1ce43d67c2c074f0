"""Clinical notes: a session's group note and member notes, their addenda, who facilitates a
session, and each payer's documentation rule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import rows_by_column
from app.rules.billing import DocumentationRule
from app.rules.notes import SignedNoteRule
from app.rules.visits import Modality, TelehealthCoding

GN, MN, AD = models.GroupNote, models.MemberNote, models.NoteAddendum


def _fresh(query, lock: bool):
    return query.with_for_update().execution_options(populate_existing=True) if lock else query


async def group_note_of_session(
    db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> models.GroupNote | None:
    return await db.scalar(_fresh(select(GN).where(GN.session_id == session_id), lock))


async def group_notes_by_session(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[models.GroupNote | None]:
    found = {row.session_id: row for row in (await db.scalars(select(GN).where(GN.session_id.in_(session_ids)))).all()}
    return [found.get(pk) for pk in session_ids]


async def group_note(db: AsyncSession, note_id: uuid.UUID, *, lock: bool = False) -> models.GroupNote | None:
    return await db.scalar(_fresh(select(GN).where(GN.id == note_id), lock))


async def member_note(db: AsyncSession, note_id: uuid.UUID, *, lock: bool = False) -> models.MemberNote | None:
    return await db.scalar(_fresh(select(MN).where(MN.id == note_id), lock))


async def member_notes_by_session(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[list[models.MemberNote]]:
    return await rows_by_column(db, MN.session_id, session_ids, MN.created_at, MN.id)


async def member_notes_by_entry(db: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> list[models.MemberNote | None]:
    found = {
        row.roster_entry_id: row
        for row in (await db.scalars(select(MN).where(MN.roster_entry_id.in_(entry_ids)))).all()
    }
    return [found.get(pk) for pk in entry_ids]


async def add_member_notes(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """Draft member notes; a roster entry that already has one is skipped. The ids of those made."""
    if not rows:
        return []
    made = await db.scalars(
        insert(MN)
        .values([{"id": uuid.uuid4(), **row} for row in rows])
        .on_conflict_do_nothing(index_elements=[MN.roster_entry_id])
        .returning(MN.id)
    )
    return list(made.all())


async def addendum_count(db: AsyncSession, *, group_note_id: uuid.UUID | None, member_note_id: uuid.UUID | None) -> int:
    column, key = (AD.group_note_id, group_note_id) if group_note_id else (AD.member_note_id, member_note_id)
    return int(await db.scalar(select(func.count()).select_from(AD).where(column == key)) or 0)


async def addenda_of_group_notes(db: AsyncSession, note_ids: Sequence[uuid.UUID]) -> list[list[models.NoteAddendum]]:
    return await rows_by_column(db, AD.group_note_id, note_ids, AD.created_at, AD.id)


async def addenda_of_member_notes(db: AsyncSession, note_ids: Sequence[uuid.UUID]) -> list[list[models.NoteAddendum]]:
    return await rows_by_column(db, AD.member_note_id, note_ids, AD.created_at, AD.id)


async def session_facilitators(db: AsyncSession, session: models.GroupSession) -> set[uuid.UUID] | None:
    """Who facilitates the session: its occurrence's facilitator and the group's facilitator and
    co-facilitator. None for an ad-hoc session, which records no facilitator."""
    staff: set[uuid.UUID] = set()
    if session.occurrence_id is not None:
        occurrence = await db.get(models.GroupOccurrence, session.occurrence_id)
        if occurrence is not None:
            staff.add(occurrence.facilitator_id)
    if session.group_id is not None:
        group = await db.get(models.GroupDefinition, session.group_id)
        if group is not None:
            staff |= {s for s in (group.facilitator_id, group.co_facilitator_id) if s is not None}
    if session.group_id is None and session.occurrence_id is None:
        return None
    return staff


# ------------------------------------------------------------------ payers' documentation rules


def documentation_rule(row: models.PayerDocumentationRule) -> DocumentationRule:
    return DocumentationRule(
        signed_note=SignedNoteRule(row.signed_note),
        minimum_minutes=row.minimum_minutes,
        late_entry_hours=row.late_entry_hours,
        audio_only_away_from_home=bool(row.audio_only_away_from_home),
        cosign_states=frozenset(s.upper() for s in row.cosign_states or ()),
        telehealth={
            Modality(modality): TelehealthCoding(coding["home"], coding["other"], coding.get("modifier"))
            for modality, coding in (row.telehealth or {}).items()
        },
    )


async def documentation_rule_rows(
    db: AsyncSession, payer_ids: Sequence[uuid.UUID]
) -> list[models.PayerDocumentationRule | None]:
    rows = await db.scalars(
        select(models.PayerDocumentationRule).where(models.PayerDocumentationRule.payer_id.in_(payer_ids))
    )
    found = {row.payer_id: row for row in rows.all()}
    return [found.get(pk) for pk in payer_ids]


async def lock_documentation_rule(
    db: AsyncSession, payer_id: uuid.UUID, now: datetime
) -> models.PayerDocumentationRule:
    """The payer's rule, created with the defaults first so there is a row to lock."""
    await db.execute(
        insert(models.PayerDocumentationRule)
        .values(payer_id=payer_id, signed_note=SignedNoteRule.WARNING, cosign_states=[], telehealth={}, updated_at=now)
        .on_conflict_do_nothing(index_elements=[models.PayerDocumentationRule.payer_id])
    )
    return await db.scalar(
        _fresh(select(models.PayerDocumentationRule).where(models.PayerDocumentationRule.payer_id == payer_id), True)
    )


async def member_note_cosigner(db: AsyncSession, session_id: uuid.UUID, patient_id: uuid.UUID) -> uuid.UUID | None:
    """Who co-signed the member's note of the session (the supervisor the claim's 2310D names), if anyone."""
    note = models.MemberNote
    return await db.scalar(
        select(note.cosigned_by).where(note.session_id == session_id, note.patient_id == patient_id).limit(1)
    )
