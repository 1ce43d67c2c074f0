"""Clinical notes (issue 19): the group note, the member notes it drafts, signing, co-signing and
addenda. Every change is audited (drafts with the fields before and after) and reaches the
session's watchers as a NOTE_CHANGED naming the roster rows whose note status changed.

Notes are written under the session's row lock (Lock.WRITE), as attendance is, so a note change
and a billing run never interleave. Messages never quote a note's text.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.auth import Principal
from app.db import models
from app.db.queries import notes as queries
from app.db.queries import sessions as session_queries
from app.db.queries.billing import billing_inputs
from app.db.queries.sessions import Lock
from app.db.uow import UnitOfWork
from app.errors import BadInput, Conflict, Forbidden, IllegalTransition, NotFound, error_for
from app.operations.common import camel, check, visible_or_not_found
from app.operations.consequences import NoteChanged, NoteSigned, handle
from app.operations.note_drafts import draft_rows
from app.rules import notes as rules
from app.rules.billing import member_rule
from app.rules.notes import NoteAction, NoteActor, NoteStatus
from app.rules.updates import touched

# The fields a draft carries (operations take them as a mapping of the fields given: None clears one).
GROUP_NOTE_FIELDS = ("topic", "interventions", "group_dynamics", "free_text")
MEMBER_NOTE_FIELDS = ("participation", "response_to_interventions", "progress_toward_goals", "risk_flags")

Note = models.GroupNote | models.MemberNote


# ------------------------------------------------------------------ who asks


async def _session(uow: UnitOfWork, actor: Principal, session_id: uuid.UUID) -> models.GroupSession:
    return visible_or_not_found(
        actor, await session_queries.session(uow.db, session_id, lock=Lock.WRITE), "GroupSession"
    )


async def _staff_of(uow: UnitOfWork, actor: Principal, session: models.GroupSession) -> uuid.UUID:
    """The staff member the caller acts as, who must belong to the session's facility."""
    staff_id = actor.staff_id
    staff = await uow.db.get(models.Staff, staff_id) if staff_id else None
    if staff is None or staff.facility_id != session.facility_id:
        raise Forbidden("Notes are written by staff of the session's facility: the token's subject must be a staff id")
    return staff.id


async def _actor(
    uow: UnitOfWork, actor: Principal, session: models.GroupSession, author_id: uuid.UUID | None
) -> tuple[uuid.UUID, NoteActor]:
    staff_id = await _staff_of(uow, actor, session)
    facilitators = await queries.session_facilitators(uow.db, session)
    supervisors = {s for s, _ in (await session_queries.supervisors_by_session(uow.db, [session.id]))[session.id]}
    # An ad-hoc session records no facilitator: any staff member of its facility may document it.
    is_facilitator = facilitators is None or staff_id in facilitators
    return staff_id, NoteActor(
        is_author=staff_id == author_id, is_facilitator=is_facilitator, is_supervisor=staff_id in supervisors
    )


async def _cosign_required(uow: UnitOfWork, session: models.GroupSession, note: Note) -> bool:
    """Where the payer's rule for the facility's state requires a supervisor's co-signature: the
    member's own primary payer for a member note; any member's payer for the group note."""
    await uow.db.flush()
    inputs = (await billing_inputs(uow.db, [session.id]))[session.id]
    members = inputs.members
    if isinstance(note, models.MemberNote):
        members = [m for m in members if m.id == note.roster_entry_id]
    return any(
        rule is not None and rule.cosign_required(inputs.state)
        for rule in (member_rule(m, inputs.session_date, inputs.rules_by_payer) for m in members)
    )


def _refuse(action: NoteAction, note: Note, who: NoteActor, cosign_is_required: bool) -> None:
    refusal = rules.note_action_refusal(action, note.status, who, cosign_is_required=cosign_is_required)
    if refusal is not None:
        raise error_for(refusal.code, refusal.message)


# ------------------------------------------------------------------ audit and live updates


def _snapshot(note: Note, fields: tuple[str, ...]) -> dict[str, Any]:
    values = {camel(f): _plain(getattr(note, f)) for f in fields}
    return {"status": note.status, **values}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def _entity(note: Note) -> str:
    return "GroupNote" if isinstance(note, models.GroupNote) else "MemberNote"


def _ids(note: Note) -> dict[str, str]:
    if isinstance(note, models.MemberNote):
        return {"patientId": str(note.patient_id), "rosterEntryId": str(note.roster_entry_id)}
    return {"sessionId": str(note.session_id)}


def _rows_of(note: Note) -> list[str]:
    """The roster rows whose note status a change of `note` changes (watchers get ids only)."""
    return [touched("RosterEntry", note.roster_entry_id)] if isinstance(note, models.MemberNote) else []


# ------------------------------------------------------------------ the group note


def _check_group_fields(draft: Mapping[str, Any]) -> None:
    for name in ("topic", "group_dynamics", "free_text"):
        check(rules.text_field_problem(camel(name), draft.get(name)))
    interventions = draft.get("interventions") or []
    if len(interventions) > rules.MAX_LIST_ITEMS:
        raise BadInput(f"interventions may list at most {rules.MAX_LIST_ITEMS} items")
    for item in interventions:
        check(rules.text_field_problem("an intervention", item, 200))


def _check_member_fields(draft: Mapping[str, Any]) -> None:
    for name in ("response_to_interventions", "progress_toward_goals"):
        check(rules.text_field_problem(camel(name), draft.get(name)))
    if len(draft.get("risk_flags") or []) > rules.MAX_RISK_FLAGS:
        raise BadInput(f"riskFlags may list at most {rules.MAX_RISK_FLAGS} flags")


async def create_group_note(
    uow: UnitOfWork, actor: Principal, session_id: uuid.UUID, draft: Mapping[str, Any]
) -> models.GroupNote:
    """The session's group note, authored by the caller (a facilitator of the session), and a
    draft member note for every roster member who attended or came late."""
    _check_group_fields(draft)
    session = await _session(uow, actor, session_id)
    if session.cancelled_at is not None:
        raise IllegalTransition("The session is cancelled; it has no notes")
    if session.starts_at > uow.clock.now():
        raise IllegalTransition("The session has not started; its notes are written once it has")
    staff_id, who = await _actor(uow, actor, session, None)
    if not who.is_facilitator:
        raise Forbidden("Only a facilitator of the session may write its group note")
    if await queries.group_note_of_session(uow.db, session.id) is not None:
        raise Conflict("The session already has a group note")
    now = uow.clock.now()
    interventions = [i.strip() for i in draft.get("interventions") or [] if i.strip()]
    note = models.GroupNote(
        id=uuid.uuid4(),
        session_id=session.id,
        author_id=staff_id,
        template=session.group_type,
        topic=draft.get("topic"),
        interventions=interventions,
        group_dynamics=draft.get("group_dynamics"),
        free_text=draft.get("free_text"),
        status=NoteStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    uow.db.add(note)
    await uow.db.flush()
    roster = (await session_queries.rosters(uow.db, [session.id]))[0]
    drafted = [e for e in roster if rules.drafts_member_note(e.status)]
    await queries.add_member_notes(uow.db, draft_rows(note, drafted, now))
    uow.audit(
        "note.group_create",
        "GroupNote",
        note.id,
        after={**_ids(note), **_snapshot(note, GROUP_NOTE_FIELDS), "memberNotes": len(drafted)},
        session_id=session.id,
    )
    await handle(uow, NoteChanged(session, [touched("RosterEntry", e.id) for e in drafted]))
    return note


async def _load(uow: UnitOfWork, actor: Principal, kind: str, note_id: uuid.UUID) -> tuple[Note, models.GroupSession]:
    """The note and its session, both locked (session first, as every writer takes them)."""
    fetch = queries.group_note if kind == "GroupNote" else queries.member_note
    found = await fetch(uow.db, note_id)
    missing = NotFound(f"No {kind} with that id")
    if found is None:
        raise missing
    session = await session_queries.session(uow.db, found.session_id, lock=Lock.WRITE)
    if session is None or not actor.sees_facility(session.facility_id):
        raise missing
    return await fetch(uow.db, note_id, lock=True), session


async def update_note(
    uow: UnitOfWork, actor: Principal, kind: str, note_id: uuid.UUID, draft: Mapping[str, Any]
) -> Note:
    """Edit the caller's own draft; only the fields given change."""
    (_check_group_fields if kind == "GroupNote" else _check_member_fields)(draft)
    note, session = await _load(uow, actor, kind, note_id)
    _, who = await _actor(uow, actor, session, note.author_id)
    _refuse(NoteAction.EDIT, note, who, cosign_is_required=False)
    fields = GROUP_NOTE_FIELDS if kind == "GroupNote" else MEMBER_NOTE_FIELDS
    changed = tuple(f for f in fields if f in draft)
    if not changed:
        raise BadInput("Give at least one field to change")
    before = _snapshot(note, changed)
    for name in changed:
        value = draft[name]
        if name in ("interventions", "risk_flags"):
            value = [str(v).strip() for v in value or [] if str(v).strip()]
        setattr(note, name, value)
    note.updated_at = uow.clock.now()
    uow.audit(
        f"note.{'group' if kind == 'GroupNote' else 'member'}_update",
        kind,
        note.id,
        before={**_ids(note), **before},
        after={**_ids(note), **_snapshot(note, changed)},
        session_id=session.id,
    )
    await handle(uow, NoteChanged(session, _rows_of(note)))
    return note


async def sign_note(
    uow: UnitOfWork, actor: Principal, kind: str, note_id: uuid.UUID, late_entry_reason: str | None = None
) -> Note:
    """The author, a facilitator of the session, signs their draft: from now on it is immutable. A
    note signed after the window (the member's payer's, else the facility's) is a late entry, with
    the reason given."""
    note, session = await _load(uow, actor, kind, note_id)
    _, who = await _actor(uow, actor, session, note.author_id)
    _refuse(NoteAction.SIGN, note, who, cosign_is_required=False)
    fields = GROUP_NOTE_FIELDS if kind == "GroupNote" else MEMBER_NOTE_FIELDS
    check(rules.sign_problem({camel(f): _as_text(getattr(note, f)) for f in fields}))
    if isinstance(note, models.MemberNote):
        if problem := rules.sign_time_problem(uow.clock.now(), session.ends_at):
            raise IllegalTransition(problem)
        check(rules.individualized_problem(_member_texts(note), await _prefill(uow, note)))
    window = await _late_entry_hours(uow, session, note)
    late = rules.is_late_entry(uow.clock.now(), session.ends_at, window)
    check(rules.late_entry_problem(late, late_entry_reason, window))
    note.late_entry_reason = late_entry_reason.strip() if late else None
    return await _advance(uow, session, note, NoteAction.SIGN, "note.sign")


async def _late_entry_hours(uow: UnitOfWork, session: models.GroupSession, note: Note) -> int:
    """The window a note is signed on time within: the member's payer's rule, else the facility's."""
    if isinstance(note, models.MemberNote):
        await uow.db.flush()
        inputs = (await billing_inputs(uow.db, [session.id]))[session.id]
        member = next((m for m in inputs.members if m.id == note.roster_entry_id), None)
        if member is not None:
            hours = member_rule(member, inputs.session_date, inputs.rules_by_payer).late_entry_hours
            if hours is not None:
                return hours
    facility = await uow.db.get(models.Facility, session.facility_id)
    return facility.note_late_entry_hours


def _member_texts(note: models.MemberNote) -> dict[str, str | None]:
    return {
        "responseToInterventions": note.response_to_interventions,
        "progressTowardGoals": note.progress_toward_goals,
    }


async def _prefill(uow: UnitOfWork, note: models.MemberNote) -> str | None:
    """What the member note was drafted with; for a draft made before that was kept, what the group
    note drafts now."""
    if note.prefilled_text is not None:
        return note.prefilled_text
    group_note = await queries.group_note(uow.db, note.group_note_id)
    return rules.drafted_response(list(group_note.interventions or [])) if group_note else None


async def cosign_note(uow: UnitOfWork, actor: Principal, kind: str, note_id: uuid.UUID) -> Note:
    """A supervisor of the session co-signs a signed note where the payer's rule requires it."""
    note, session = await _load(uow, actor, kind, note_id)
    staff_id, who = await _actor(uow, actor, session, note.author_id)
    _refuse(NoteAction.COSIGN, note, who, cosign_is_required=await _cosign_required(uow, session, note))
    note.cosigned_by = staff_id
    return await _advance(uow, session, note, NoteAction.COSIGN, "note.cosign")


def _as_text(value: Any) -> str | None:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return value


async def _advance(
    uow: UnitOfWork, session: models.GroupSession, note: Note, action: NoteAction, audit_action: str
) -> Note:
    before = note.status
    now = uow.clock.now()
    note.status = rules.next_note_status(action, NoteStatus(note.status))
    if action == NoteAction.SIGN:
        note.signed_at = now
    else:
        note.cosigned_at = now
    note.updated_at = now
    late = {"lateEntry": True, "lateEntryReason": note.late_entry_reason} if note.late_entry_reason else {}
    uow.audit(
        audit_action,
        _entity(note),
        note.id,
        before={**_ids(note), "status": before},
        after={**_ids(note), "status": note.status, **(late if action == NoteAction.SIGN else {})},
        session_id=session.id,
    )
    await handle(uow, NoteSigned(session, _rows_of(note)))
    return note


async def add_addendum(
    uow: UnitOfWork, actor: Principal, kind: str, note_id: uuid.UUID, text: str
) -> models.NoteAddendum:
    """A correction to a signed note, kept beside it: the note itself never changes."""
    if not (text or "").strip():
        raise BadInput("text must not be empty")
    check(rules.text_field_problem("text", text, rules.MAX_ADDENDUM))
    note, session = await _load(uow, actor, kind, note_id)
    staff_id, who = await _actor(uow, actor, session, note.author_id)
    _refuse(NoteAction.ADD_ADDENDUM, note, who, cosign_is_required=False)
    group_id, member_id = (note.id, None) if kind == "GroupNote" else (None, note.id)
    if await queries.addendum_count(uow.db, group_note_id=group_id, member_note_id=member_id) >= rules.MAX_ADDENDA:
        raise BadInput(f"A note may have at most {rules.MAX_ADDENDA} addenda")
    addendum = models.NoteAddendum(
        id=uuid.uuid4(),
        session_id=session.id,
        author_id=staff_id,
        text=text.strip(),
        created_at=uow.clock.now(),
        group_note_id=note.id if kind == "GroupNote" else None,
        member_note_id=note.id if kind == "MemberNote" else None,
    )
    uow.db.add(addendum)
    await uow.db.flush()
    uow.audit(
        "note.addendum",
        kind,
        note.id,
        before={**_ids(note), "status": note.status, "addendumId": None},
        after={**_ids(note), "status": note.status, "addendumId": str(addendum.id), "text": addendum.text},
        session_id=session.id,
    )
    await handle(uow, NoteChanged(session, _rows_of(note)))
    return addendum


# ------------------------------------------------------------------ reads


async def visible_note(db, actor: Principal, kind: str, note_id: uuid.UUID) -> Note:
    fetch = queries.group_note if kind == "GroupNote" else queries.member_note
    note = await fetch(db, note_id)
    session = await session_queries.session(db, note.session_id) if note is not None else None
    visible_or_not_found(actor, session, kind)
    return note


async def group_note_of(db, actor: Principal, session_id: uuid.UUID) -> models.GroupNote | None:
    session = visible_or_not_found(actor, await session_queries.session(db, session_id), "GroupSession")
    return await queries.group_note_of_session(db, session.id)
