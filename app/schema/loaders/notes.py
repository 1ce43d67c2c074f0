"""Notes' loaders: a session's group note and member notes, a roster entry's note, addenda, payers' documentation rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import notes as queries
from app.rules.notes import SignedNoteRule
from app.schema.context import Info


def group_notes(info: Info) -> DataLoader[uuid.UUID, models.GroupNote | None]:
    """A session's group note."""
    return info.context.loaders.of(queries.group_notes_by_session)


def member_notes(info: Info) -> DataLoader[uuid.UUID, list[models.MemberNote]]:
    """A session's member notes."""
    return info.context.loaders.of(queries.member_notes_by_session)


def member_note_of_entry(info: Info) -> DataLoader[uuid.UUID, models.MemberNote | None]:
    """A roster entry's member note."""
    return info.context.loaders.of(queries.member_notes_by_entry)


def addenda(info: Info, note: models.GroupNote | models.MemberNote) -> DataLoader[uuid.UUID, list[models.NoteAddendum]]:
    """The addenda of notes of `note`'s kind, oldest first."""
    if isinstance(note, models.GroupNote):
        return info.context.loaders.of(queries.addenda_of_group_notes)
    return info.context.loaders.of(queries.addenda_of_member_notes)


def documentation_rules(info: Info) -> DataLoader[uuid.UUID, models.PayerDocumentationRule]:
    """A payer's documentation rule, or the defaults it has until one is set."""
    return info.context.loaders.of(_rules_or_defaults)


async def _rules_or_defaults(db: AsyncSession, payer_ids: Sequence[uuid.UUID]) -> list[models.PayerDocumentationRule]:
    rows = await queries.documentation_rule_rows(db, payer_ids)
    return [row or _default_rule(payer_id) for payer_id, row in zip(payer_ids, rows, strict=True)]


def _default_rule(payer_id: uuid.UUID) -> models.PayerDocumentationRule:
    """Signed note WARNING, no minimum visit, no co-signature, CMS's telehealth coding."""
    return models.PayerDocumentationRule(
        payer_id=payer_id,
        signed_note=SignedNoteRule.WARNING,
        minimum_minutes=None,
        late_entry_hours=None,
        audio_only_away_from_home=False,
        cosign_states=[],
        telehealth={},
    )
