"""Clinical notes (issue 19): a session's group note, each attending member's note, addenda to
signed notes, and each payer's documentation rule."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk
from app.rules.notes import NoteStatus, SignedNoteRule


class GroupNote(Base):
    """The session's one group note: what the group did, in the group type's template."""

    __tablename__ = "group_notes"

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"), unique=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    template: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(Text)
    interventions: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    group_dynamics: Mapped[str | None] = mapped_column(Text)
    free_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=NoteStatus.DRAFT)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Signed after the facility's window (rules.notes.is_late_entry): a late entry, and why.
    late_entry_reason: Mapped[str | None] = mapped_column(Text)
    cosigned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    cosigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class MemberNote(Base):
    """One roster member's individualized note, drafted from the group note and edited on its own."""

    __tablename__ = "member_notes"
    __table_args__ = (Index("ix_member_notes_session", "session_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"))
    group_note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_notes.id"))
    roster_entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roster_entries.id"), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    participation: Mapped[str | None] = mapped_column(String(16))
    response_to_interventions: Mapped[str | None] = mapped_column(Text)
    progress_toward_goals: Mapped[str | None] = mapped_column(Text)
    risk_flags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    # The text the group note drafted it with: signing needs more than this (rules.notes.individualized_problem).
    prefilled_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=NoteStatus.DRAFT)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Signed after the window (rules.notes.is_late_entry): a late entry, and why.
    late_entry_reason: Mapped[str | None] = mapped_column(Text)
    cosigned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    cosigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class NoteAddendum(Base):
    """A correction to a signed note: who, when, what; the note itself never changes."""

    __tablename__ = "note_addenda"
    __table_args__ = (
        CheckConstraint("(group_note_id IS NULL) <> (member_note_id IS NULL)", name="one_note"),
        Index("ix_note_addenda_group_note", "group_note_id"),
        Index("ix_note_addenda_member_note", "member_note_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"))
    group_note_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("group_notes.id"))
    member_note_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member_notes.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_now()


class PayerDocumentationRule(Base):
    """A payer's say on documentation and telehealth (rules.billing.DocumentationRule)."""

    __tablename__ = "payer_documentation_rules"
    __table_args__ = (CheckConstraint("minimum_minutes IS NULL OR minimum_minutes >= 1", name="minimum_positive"),)

    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"), primary_key=True)
    signed_note: Mapped[str] = mapped_column(String(12), default=SignedNoteRule.WARNING)
    minimum_minutes: Mapped[int | None] = mapped_column(Integer)
    # Hours after the session within which a note is signed on time; None: the facility's window.
    late_entry_hours: Mapped[int | None] = mapped_column(Integer)
    # Audio-only telehealth (modifier 93) billed with the patient away from home too.
    audio_only_away_from_home: Mapped[bool] = mapped_column(default=False, server_default="false")
    cosign_states: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    # {"TELEHEALTH_VIDEO": {"home": "10", "other": "02", "modifier": "95"}, ...}; a modality missing here follows CMS.
    telehealth: Mapped[dict] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = timestamp_now()
