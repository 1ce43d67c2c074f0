"""Clinical notes (CL-14): the group note and each member's note, DRAFT → SIGNED → CO_SIGNED, who
may take each step, when a co-signature is required, and what a note's text may hold."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.errors import ErrorCode
from app.rules.attendance import AttendanceStatus, Refusal


class NoteStatus(StrEnum):
    """A note's place in its lifecycle; a signed note never changes again except by addenda."""

    DRAFT = "DRAFT"
    SIGNED = "SIGNED"
    CO_SIGNED = "CO_SIGNED"


class NoteAction(StrEnum):
    EDIT = "EDIT"
    SIGN = "SIGN"
    COSIGN = "COSIGN"
    ADD_ADDENDUM = "ADD_ADDENDUM"


class SignedNoteRule(StrEnum):
    """What a payer says about a billed member's note: nothing, a warning, or no claim without it."""

    NONE = "NONE"
    WARNING = "WARNING"
    BLOCKING = "BLOCKING"


DRAFT, SIGNED, CO_SIGNED = NoteStatus
EDIT, SIGN, COSIGN, ADD_ADDENDUM = NoteAction

# Members who were in the room (or on the call) get an individualized note.
DOCUMENTED_STATUSES = frozenset({AttendanceStatus.ATTENDED, AttendanceStatus.LATE})

NOTE_TRANSITIONS: dict[NoteAction, tuple[frozenset[NoteStatus], NoteStatus | None]] = {
    # action: (statuses it may start from, the status it leaves; None = unchanged)
    EDIT: (frozenset({DRAFT}), None),
    SIGN: (frozenset({DRAFT}), SIGNED),
    COSIGN: (frozenset({SIGNED}), CO_SIGNED),
    ADD_ADDENDUM: (frozenset({SIGNED, CO_SIGNED}), None),
}

MAX_NOTE_FIELD = 10_000  # characters in one field of a note
MAX_ADDENDUM = 10_000
MAX_ADDENDA = 50  # per note: `addenda` is an unpaged list
MAX_RISK_FLAGS = 20
MAX_LIST_ITEMS = 30  # interventions


class RiskFlag(StrEnum):
    """What a member note may flag for follow-up."""

    SUICIDAL_IDEATION = "SUICIDAL_IDEATION"
    HOMICIDAL_IDEATION = "HOMICIDAL_IDEATION"
    SELF_HARM = "SELF_HARM"
    SUBSTANCE_USE = "SUBSTANCE_USE"
    RELAPSE = "RELAPSE"
    MEDICATION_NONADHERENCE = "MEDICATION_NONADHERENCE"
    ABUSE_OR_NEGLECT = "ABUSE_OR_NEGLECT"
    OTHER = "OTHER"


class Participation(StrEnum):
    ACTIVE = "ACTIVE"
    MODERATE = "MODERATE"
    MINIMAL = "MINIMAL"
    DISRUPTIVE = "DISRUPTIVE"
    NONE = "NONE"


@dataclass(frozen=True)
class NoteActor:
    """Who asks, as the caller found them: the note's author? a facilitator or supervisor of the session?"""

    is_author: bool
    is_facilitator: bool
    is_supervisor: bool


def next_note_status(action: NoteAction, status: NoteStatus) -> NoteStatus:
    return NOTE_TRANSITIONS[action][1] or status


def cosign_required(cosign_states: Collection[str], facility_state: str) -> bool:
    """The payer's rule names the facility's state among those where a supervisor must co-sign."""
    return facility_state.upper() in {s.upper() for s in cosign_states}


def note_action_refusal(
    action: NoteAction, status: str, actor: NoteActor, *, cosign_is_required: bool
) -> Refusal | None:
    """Why the actor may not take the step on a note in `status`, or None.

    Checked in this order: the lifecycle (a signed note is immutable), then who asks."""
    allowed_from, _ = NOTE_TRANSITIONS[action]
    if status not in allowed_from:
        return Refusal(ErrorCode.ILLEGAL_TRANSITION, _lifecycle_message(action, status))
    if action == COSIGN and not cosign_is_required:
        return Refusal(
            ErrorCode.ILLEGAL_TRANSITION,
            "No co-signature is required for this note (the payer's rule for the facility's state)",
        )
    if action in (EDIT, SIGN) and not actor.is_author:
        return Refusal(ErrorCode.FORBIDDEN, "Only the note's author may edit or sign it")
    if action == SIGN and not actor.is_facilitator:
        return Refusal(ErrorCode.FORBIDDEN, "Only a facilitator of the session may sign its notes")
    if action == COSIGN:
        if not actor.is_supervisor:
            return Refusal(ErrorCode.FORBIDDEN, "Only a supervisor of the session may co-sign its notes")
        if actor.is_author:
            return Refusal(ErrorCode.FORBIDDEN, "The author may not co-sign their own note")
    if action == ADD_ADDENDUM and not (actor.is_author or actor.is_facilitator or actor.is_supervisor):
        return Refusal(
            ErrorCode.FORBIDDEN, "Only the author, a facilitator or a supervisor of the session may add an addendum"
        )
    return None


def _lifecycle_message(action: NoteAction, status: str) -> str:
    if action == EDIT:
        return f"The note is {status}: a signed note is immutable; add an addendum to correct it"
    if action == SIGN:
        return f"The note is {status}; only a DRAFT can be signed"
    if action == COSIGN:
        return f"The note is {status}; only a SIGNED note can be co-signed"
    return "The note is a DRAFT; edit it instead of adding an addendum"


def is_documented(status: str | None, cosign_is_required: bool) -> bool:
    """The member's note is finished for billing: signed, and co-signed where the rule requires it."""
    if status is None:
        return False
    if cosign_is_required:
        return status == CO_SIGNED
    return status in (SIGNED, CO_SIGNED)


def text_field_problem(field: str, value: str | None, max_length: int = MAX_NOTE_FIELD) -> str | None:
    """A note field may be empty, but not longer than the limit nor hold a NUL character (which
    PostgreSQL cannot store). The message never quotes the text."""
    if value is not None and len(value) > max_length:
        return f"{field} must be at most {max_length} characters"
    if value is not None and "\x00" in value:
        return f"{field} may not contain NUL (\\u0000)"
    return None


def sign_problem(fields: Mapping[str, str | None]) -> str | None:
    """A note is signed with something in it: at least one of the fields filled."""
    if not any((value or "").strip() for value in fields.values()):
        return "A note cannot be signed empty: fill at least one of " + ", ".join(fields)
    return None


def drafted_response(interventions: Sequence[str]) -> str | None:
    """The text a member note is drafted with from the group note: the group's interventions."""
    return f"Interventions: {', '.join(interventions)}." if interventions else None


def _words(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def individualized_problem(texts: Mapping[str, str | None], prefill: str | None) -> str | None:
    """A member note is signed only in the member's own words: some text field holds something other
    than the group note's pre-fill. A note whose only text is the pre-fill documents the group, not
    the member (each claim's documentation must support the service to that patient; a note cloned
    from the group's does not), and must not clear billing's hold on an unsigned note."""
    own = [value for value in texts.values() if _words(value) and _words(value) != _words(prefill)]
    if own:
        return None
    return (
        "The member note holds only the group note's pre-filled text: individualize it ("
        + " or ".join(texts)
        + " in the member's own words) before signing"
    )


def sign_time_problem(now: datetime, session_ends_at: datetime) -> str | None:
    """A member note documents the member's whole session: it is signed once the session has ended."""
    if now < session_ends_at:
        return f"A member note is signed once its session has ended ({session_ends_at.isoformat()})"
    return None


# A note signed more than this many hours after its session is a late entry, where neither the
# payer's rule nor the facility sets a window. CMS sets no fixed limit: documentation is completed
# "during or as soon as practicable after" the service, and an entry made later is identified as a
# delayed entry, with its date and author (Medicare Program Integrity Manual, Pub. 100-08, ch. 3
# §3.3.2.5, "Amendments, Corrections and Delayed Entries in Medical Documentation").
DEFAULT_LATE_ENTRY_HOURS = 72
MAX_LATE_ENTRY_HOURS = 24 * 90
MAX_LATE_ENTRY_REASON = 2000


def late_entry_hours_problem(field: str, value: int | None) -> str | None:
    if value is not None and not 1 <= value <= MAX_LATE_ENTRY_HOURS:
        return f"{field} must be between 1 and {MAX_LATE_ENTRY_HOURS} hours"
    return None


def is_late_entry(signed_at: datetime, session_ends_at: datetime, window_hours: int) -> bool:
    """Signed more than the window after the session ended."""
    return signed_at > session_ends_at + timedelta(hours=window_hours)


def late_entry_problem(late: bool, reason: str | None, window_hours: int) -> str | None:
    """A late entry is labelled as such and says why; a note signed on time takes no such reason."""
    text = (reason or "").strip()
    if late and not text:
        return (
            f"The note is signed more than {window_hours} hours after its session: it is a late entry; "
            "give lateEntryReason"
        )
    if not late and text:
        return f"The note is signed within {window_hours} hours of its session: it is not a late entry"
    if len(text) > MAX_LATE_ENTRY_REASON:
        return f"lateEntryReason must be at most {MAX_LATE_ENTRY_REASON} characters"
    if "\x00" in text:
        return "lateEntryReason may not contain NUL (\\u0000)"
    return None


# The group note's template per group type: the headings a clinician fills, and the topic's prompt.
TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "THERAPY": ("Therapeutic theme", ("Process", "Cognitive restructuring", "Interpersonal feedback")),
    "PSYCHOEDUCATION": ("Lesson topic", ("Didactic presentation", "Handout review", "Discussion")),
    "SKILLS_TRAINING": ("Skill taught", ("Skill modeling", "Role play", "Homework review")),
    "SUPPORT": ("Discussion focus", ("Peer support", "Validation", "Sharing")),
    "IOP": ("Program module", ("Relapse prevention", "Coping skills", "Process group")),
    "PHP": ("Program module", ("Milieu therapy", "Coping skills", "Medication education")),
    "OTHER": ("Topic", ()),
}


@dataclass(frozen=True)
class NoteTemplate:
    group_type: str
    topic_prompt: str
    suggested_interventions: tuple[str, ...]


def note_template(group_type: str) -> NoteTemplate:
    prompt, interventions = TEMPLATES.get(group_type, TEMPLATES["OTHER"])
    return NoteTemplate(group_type, prompt, interventions)


def drafts_member_note(attendance: str) -> bool:
    """Creating the group note drafts a member note for each member who attended or came late."""
    return attendance in DOCUMENTED_STATUSES
