"""Note types: the group note and member notes wrap their rows (one ClinicalNote interface for
signing, co-signing and addenda); a payer's documentation rule wraps its row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLResolveInfo

from app.db import models
from app.db.queries.notes import documentation_rule
from app.ids import encode_id
from app.rules import notes as rules
from app.rules.visits import CMS_TELEHEALTH
from app.rules.visits import Modality as ModalityValue
from app.schema.context import Info
from app.schema.enums import Modality, NoteStatus, Participation, RiskFlag, SignedNoteRule
from app.schema.loaders import notes, reference, sessions
from app.schema.node import global_id

RosterEntryType = Annotated["RosterEntry", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
PatientType = Annotated["Patient", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
StaffType = Annotated["Staff", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily

Note = models.GroupNote | models.MemberNote


@strawberry.type
class NoteAddendum:
    """A correction to a signed note: who wrote it, when, and what it says."""

    id: strawberry.ID = global_id("NoteAddendum")
    text: str
    created_at: datetime

    @strawberry.field
    async def author(addendum: strawberry.Parent[models.NoteAddendum], info: Info) -> StaffType:
        return await reference.staff(info).load(addendum.author_id)


@strawberry.interface(description="A group note or a member note: its lifecycle, signatures and addenda.")
class ClinicalNote:
    id: strawberry.ID
    status: NoteStatus
    signed_at: datetime | None
    cosigned_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="A facilitator of the session.")
    async def author(note: strawberry.Parent[Note], info: Info) -> StaffType:
        return await reference.staff(info).load(note.author_id)

    @strawberry.field(description="The supervisor who co-signed, once co-signed.")
    async def cosigned_by(note: strawberry.Parent[Note], info: Info) -> StaffType | None:
        return await reference.staff(info).load(note.cosigned_by) if note.cosigned_by else None

    @strawberry.field(description="Corrections to the signed note, oldest first.")
    async def addenda(note: strawberry.Parent[Note], info: Info) -> list[NoteAddendum]:
        return await notes.addenda(info, note).load(note.id)

    @strawberry.field(description="Signed after the window following its session: a late (delayed) entry.")
    def late_entry(note: strawberry.Parent[Note]) -> bool:
        return note.late_entry_reason is not None

    @strawberry.field(description="Why a late entry was signed late.")
    def late_entry_reason(note: strawberry.Parent[Note]) -> str | None:
        return note.late_entry_reason


def _group_note_id(note: strawberry.Parent[models.GroupNote]) -> strawberry.ID:
    return strawberry.ID(_encode("GroupNote", note.id))


def _member_note_id(note: strawberry.Parent[models.MemberNote]) -> strawberry.ID:
    return strawberry.ID(_encode("MemberNote", note.id))


def _encode(type_name: str, pk) -> str:
    return encode_id(type_name, pk)


@strawberry.type(
    description="The template a group type's note follows: the topic's heading and suggested interventions."
)
class NoteTemplate:
    group_type: str
    topic_prompt: str
    suggested_interventions: list[str]


@strawberry.type
class GroupNote(ClinicalNote):
    id: strawberry.ID = strawberry.field(resolver=_group_note_id)
    topic: str | None
    interventions: list[str]
    group_dynamics: str | None
    free_text: str | None

    @strawberry.field
    def template(note: strawberry.Parent[models.GroupNote]) -> NoteTemplate:
        return rules.note_template(note.template)

    @strawberry.field
    async def session(note: strawberry.Parent[models.GroupNote], info: Info) -> GroupSessionType:
        return await sessions.sessions(info).load(note.session_id)

    @strawberry.field(description="One per member who attended or came late when the group note was created.")
    async def member_notes(note: strawberry.Parent[models.GroupNote], info: Info) -> list[MemberNote]:
        return await notes.member_notes(info).load(note.session_id)

    @classmethod
    def is_type_of(cls, obj: object, info: GraphQLResolveInfo) -> bool:
        return isinstance(obj, (cls, models.GroupNote))


@strawberry.type
class MemberNote(ClinicalNote):
    id: strawberry.ID = strawberry.field(resolver=_member_note_id)
    participation: Participation | None
    response_to_interventions: str | None
    progress_toward_goals: str | None
    risk_flags: list[RiskFlag]

    @strawberry.field
    async def patient(note: strawberry.Parent[models.MemberNote], info: Info) -> PatientType:
        return await reference.patients(info).load(note.patient_id)

    @strawberry.field(description="The roster row the note documents.")
    async def participant(note: strawberry.Parent[models.MemberNote], info: Info) -> RosterEntryType:
        return await sessions.roster_entries(info).load(note.roster_entry_id)

    @classmethod
    def is_type_of(cls, obj: object, info: GraphQLResolveInfo) -> bool:
        return isinstance(obj, (cls, models.MemberNote))


@strawberry.type(
    description="How a payer codes one telehealth modality on the 837P: POS at home (10), POS elsewhere (02), modifier."
)
class TelehealthMapping:
    modality: Modality
    home_place_of_service: str
    other_place_of_service: str
    modifier: str | None
    from_payer: bool = strawberry.field(description="False: CMS's default, the payer has no mapping of its own.")


@strawberry.type(
    description="A payer's documentation rule (defaults when the payer has none: signed note WARNING, no minimum)."
)
class DocumentationRule:
    signed_note: SignedNoteRule
    minimum_minutes: int | None
    late_entry_hours: int | None = strawberry.field(
        description="Hours after a session within which its notes are signed on time; null: the facility's window."
    )
    cosign_states: list[str]
    audio_only_away_from_home: bool = strawberry.field(
        description="Audio-only telehealth (93) is billed with the patient away from home too."
    )

    @strawberry.field
    def telehealth(row: strawberry.Parent[models.PayerDocumentationRule]) -> list[TelehealthMapping]:
        own = documentation_rule(row).telehealth
        out = []
        for modality in (ModalityValue.TELEHEALTH_VIDEO, ModalityValue.TELEHEALTH_AUDIO):
            coding = own.get(modality) or CMS_TELEHEALTH[modality]
            out.append(
                TelehealthMapping(
                    modality=modality,
                    home_place_of_service=coding.home_place_of_service,
                    other_place_of_service=coding.other_place_of_service,
                    modifier=coding.modifier,
                    from_payer=modality in own,
                )
            )
        return out
