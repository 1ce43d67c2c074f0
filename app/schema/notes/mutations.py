"""Note changes: the group note (drafting member notes), edits to one's own drafts, signing,
co-signing and addenda; a member's visit (arrival, departure, modality); the session's modality;
a payer's documentation rule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.errors import BadInput
from app.ids import decode_id, split_id
from app.operations import attendance as attendance_ops
from app.operations import notes as ops
from app.operations import reference as reference_ops
from app.operations import sessions as session_ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import Modality, Participation, RiskFlag, SignedNoteRule
from app.schema.inputs import given
from app.schema.notes.types import ClinicalNote, GroupNote, MemberNote, NoteAddendum
from app.schema.permissions import scoped

GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
PayerType = Annotated["Payer", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
RosterEntryType = Annotated["RosterEntry", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily

NOTE_KINDS = ("GroupNote", "MemberNote")


@strawberry.input(description="A group note's fields; only those given change (null clears one).")
class GroupNoteInput:
    topic: str | None = strawberry.UNSET
    interventions: list[str] | None = strawberry.UNSET
    group_dynamics: str | None = strawberry.UNSET
    free_text: str | None = strawberry.UNSET


@strawberry.input(description="A member note's fields; only those given change (null clears one).")
class MemberNoteInput:
    participation: Participation | None = strawberry.UNSET
    response_to_interventions: str | None = strawberry.UNSET
    progress_toward_goals: str | None = strawberry.UNSET
    risk_flags: list[RiskFlag] | None = strawberry.UNSET


@strawberry.input(description="A member's visit; only the fields given change.")
class ParticipantVisitInput:
    arrived_at: datetime | None = strawberry.UNSET
    departed_at: datetime | None = strawberry.UNSET
    modality: Modality | None = strawberry.UNSET
    patient_at_home: bool | None = strawberry.UNSET


@strawberry.input
class TelehealthMappingInput:
    modality: Modality
    home_place_of_service: str
    other_place_of_service: str
    modifier: str | None = None


@strawberry.input(description="A payer's documentation rule; only the fields given change.")
class DocumentationRuleInput:
    payer_id: strawberry.ID
    signed_note: SignedNoteRule | None = strawberry.UNSET
    minimum_minutes: int | None = strawberry.UNSET
    late_entry_hours: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Hours after a session within which its notes are signed on time; null: the facility's.",
    )
    cosign_states: list[str] | None = strawberry.UNSET
    telehealth: list[TelehealthMappingInput] | None = strawberry.UNSET
    audio_only_away_from_home: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Audio-only telehealth (93) is billed with the patient away from home too (default false: "
        "at home only, as Medicare).",
    )


def _note_id(global_id: str) -> tuple[str, object]:
    kind, _ = split_id(global_id)
    if kind not in NOTE_KINDS:
        raise BadInput(f"Expected a GroupNote or MemberNote id, got a {kind} id")
    return kind, decode_id(global_id, kind)


@strawberry.type
class NotesMutation:
    @strawberry.mutation(
        **scoped(Scope.NOTES_WRITE),
        description="The session's group note, by a facilitator of the session: drafts a member note for each member ATTENDED or LATE.",
    )
    async def create_group_note(self, info: Info, session_id: strawberry.ID, input: GroupNoteInput) -> GroupNote:
        return await ops.create_group_note(
            await info.context.transaction(),
            info.context.principal,
            decode_id(session_id, "GroupSession"),
            given(input),
        )

    @strawberry.mutation(**scoped(Scope.NOTES_WRITE), description="Edit your own DRAFT group note.")
    async def update_group_note(self, info: Info, id: strawberry.ID, input: GroupNoteInput) -> GroupNote:
        return await ops.update_note(
            await info.context.transaction(),
            info.context.principal,
            "GroupNote",
            decode_id(id, "GroupNote"),
            given(input),
        )

    @strawberry.mutation(**scoped(Scope.NOTES_WRITE), description="Edit your own DRAFT member note.")
    async def update_member_note(self, info: Info, id: strawberry.ID, input: MemberNoteInput) -> MemberNote:
        return await ops.update_note(
            await info.context.transaction(),
            info.context.principal,
            "MemberNote",
            decode_id(id, "MemberNote"),
            given(input),
        )

    @strawberry.mutation(
        **scoped(Scope.NOTES_WRITE),
        description="Sign your own DRAFT (a group or member note): it becomes immutable. A member note is "
        "signed once its session has ended, in the member's own words. Signed more than the window after "
        "the session (the member's payer's rule, else the facility's noteLateEntryHours), the note is a "
        "late entry and lateEntryReason is required.",
    )
    async def sign_note(self, info: Info, id: strawberry.ID, late_entry_reason: str | None = None) -> ClinicalNote:
        kind, pk = _note_id(id)
        return await ops.sign_note(
            await info.context.transaction(), info.context.principal, kind, pk, late_entry_reason
        )

    @strawberry.mutation(
        **scoped(Scope.NOTES_COSIGN),
        description="Co-sign a SIGNED note as a supervisor of the session, where the payer's rule requires it.",
    )
    async def cosign_note(self, info: Info, id: strawberry.ID) -> ClinicalNote:
        kind, pk = _note_id(id)
        return await ops.cosign_note(await info.context.transaction(), info.context.principal, kind, pk)

    @strawberry.mutation(
        **scoped(Scope.NOTES_WRITE),
        description="Correct a signed note with an addendum (the note itself never changes).",
    )
    async def add_note_addendum(self, info: Info, note_id: strawberry.ID, text: str) -> NoteAddendum:
        kind, pk = _note_id(note_id)
        return await ops.add_addendum(await info.context.transaction(), info.context.principal, kind, pk, text)

    @strawberry.mutation(
        **scoped(Scope.ATTENDANCE_WRITE),
        description="A member's arrival and departure (partial attendance) or how they joined; the attendance status is not touched.",
    )
    async def set_participant_visit(
        self, info: Info, participant_id: strawberry.ID, input: ParticipantVisitInput
    ) -> RosterEntryType:
        values = given(input)
        visit = attendance_ops.Visit(**values)
        return await attendance_ops.set_roster_entry_visit(
            await info.context.transaction(),
            info.context.principal,
            decode_id(participant_id, "RosterEntry"),
            visit,
            set(values),
        )

    @strawberry.mutation(
        **scoped(Scope.SESSION_CREATE),
        description="How the room meets: IN_PERSON, TELEHEALTH_VIDEO or TELEHEALTH_AUDIO.",
    )
    async def set_session_modality(self, info: Info, session_id: strawberry.ID, modality: Modality) -> GroupSessionType:
        return await session_ops.set_session_modality(
            await info.context.transaction(), info.context.principal, decode_id(session_id, "GroupSession"), modality
        )

    @strawberry.mutation(
        **scoped(Scope.REFERENCE_WRITE),
        description="What a payer requires of documentation and how it codes telehealth; read it back on Payer.documentationRule.",
    )
    async def set_payer_documentation_rule(self, info: Info, input: DocumentationRuleInput) -> PayerType:
        values = given(input)
        payer_id = decode_id(values.pop("payer_id"), "Payer")
        if values.get("telehealth") is not None:
            values["telehealth"] = [
                reference_ops.TelehealthMapping(
                    m.modality, m.home_place_of_service, m.other_place_of_service, m.modifier
                )
                for m in values["telehealth"]
            ]
        spec = reference_ops.DocumentationRuleSpec(**values)
        return await reference_ops.set_documentation_rule(
            await info.context.transaction(), info.context.principal, payer_id, spec, set(values)
        )
