"""Clinical notes through the endpoint (issue 19): the group note drafts a note per member who was
there, the author edits and signs, a supervisor co-signs where the payer's rule says, signed notes
take addenda only; who may read and write; no note text where it does not belong."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select, update

from app.db import models
from app.rules.scopes import FACILITATOR_SCOPES, Scope
from tests.support.builders_hardening import row_counts
from tests.support.builders_notes import (
    ADDENDUM,
    COSIGN,
    CREATE_GROUP_NOTE,
    GROUP_NOTE,
    MEMBER_NOTE,
    ROSTER_NOTES,
    SIGN,
    SUPERVISOR_SCOPES,
    UPDATE_GROUP_NOTE,
    UPDATE_MEMBER_NOTE,
    clinician,
    documented_room,
    set_rule,
)
from tests.support.builders_sessions import SET_ATTENDANCE, at, create_session, raw, set_now

SECRET_TEXT = "discussed the custody hearing at length"  # stands for anything a clinician writes


async def attended_room(gql, clinic, test_clock):
    """Four members: ATTENDED, LATE, ABSENT and one left SCHEDULED."""
    session_id, entries = await documented_room(gql, clinic, test_clock)
    for entry, status in zip(entries, ("ATTENDED", "LATE", "ABSENT"), strict=False):
        await gql.execute(SET_ATTENDANCE, {"participantId": entry, "status": status})
    return session_id, entries


async def group_note(gql, clinic, session_id, **fields):
    dana = clinician(gql, clinic, clinic.staff[0])
    data = {"topic": "Coping with cravings", "interventions": ["Role play", "Homework review"], **fields}
    return (await dana.execute(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": data}))["createGroupNote"]


async def test_the_group_note_drafts_a_member_note_for_each_member_who_attended_or_came_late(gql, clinic, test_clock):
    session_id, entries = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    assert note["status"] == "DRAFT" and note["author"]["id"] == clinic.staff[0]
    assert note["template"]["topicPrompt"] == "Therapeutic theme"
    assert sorted(m["participant"]["id"] for m in note["memberNotes"]) == sorted(entries[:2])
    assert all(
        m["status"] == "DRAFT" and m["responseToInterventions"] == "Interventions: Role play, Homework review."
        for m in note["memberNotes"]
    )
    roster = (await gql.execute(ROSTER_NOTES, {"id": session_id}))["groupSession"]["roster"]
    status_of = {r["id"]: r["noteStatus"] for r in roster}
    assert [status_of[e] for e in entries] == ["DRAFT", "DRAFT", None, None]


async def test_a_second_group_note_is_a_conflict_and_a_session_not_started_has_none(gql, clinic, test_clock):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    await group_note(gql, clinic, session_id)
    dana = clinician(gql, clinic, clinic.staff[0])
    status, code, _ = await dana.error(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"topic": "Again"}})
    assert (status, code) == (409, "CONFLICT")
    later = await create_session(gql, clinic, starts_at=at(11))
    status, code, _ = await dana.error(CREATE_GROUP_NOTE, {"sessionId": later["id"], "input": {"topic": "Early"}})
    assert code == "ILLEGAL_TRANSITION"


async def test_the_author_edits_and_signs_and_a_signed_note_takes_only_addenda(gql, clinic, test_clock):
    session_id, entries = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    member = note["memberNotes"][0]["id"]
    dana = clinician(gql, clinic, clinic.staff[0])
    sam = clinician(gql, clinic, clinic.staff[1], SUPERVISOR_SCOPES)

    status, code, _ = await sam.error(
        UPDATE_MEMBER_NOTE, {"id": member, "input": {"progressTowardGoals": "Sam's words"}}
    )
    assert code == "FORBIDDEN"
    edited = (
        await dana.execute(
            UPDATE_MEMBER_NOTE,
            {
                "id": member,
                "input": {
                    "participation": "ACTIVE",
                    "progressTowardGoals": "Named two triggers",
                    "riskFlags": ["SUBSTANCE_USE"],
                },
            },
        )
    )["updateMemberNote"]
    assert (edited["participation"], edited["riskFlags"]) == ("ACTIVE", ["SUBSTANCE_USE"])
    assert edited["responseToInterventions"] == "Interventions: Role play, Homework review."  # untouched: not given

    # Issue 24: a member note documents the member's whole session, so it is signed once it has ended.
    status, code, body = await dana.error(SIGN, {"id": member})
    assert (status, code) == (409, "ILLEGAL_TRANSITION") and "once its session has ended" in body["errors"][0][
        "message"
    ]
    set_now(test_clock, at(10, 30))
    signed = (await dana.execute(SIGN, {"id": member}))["signNote"]
    assert (signed["__typename"], signed["status"]) == ("MemberNote", "SIGNED") and signed["signedAt"]
    status, code, body = await dana.error(
        UPDATE_MEMBER_NOTE, {"id": member, "input": {"progressTowardGoals": "Changed"}}
    )
    assert (status, code) == (409, "ILLEGAL_TRANSITION") and "addendum" in body["errors"][0]["message"]
    status, code, _ = await dana.error(SIGN, {"id": member})
    assert code == "ILLEGAL_TRANSITION"

    added = (await dana.execute(ADDENDUM, {"id": member, "text": "Also named a third trigger after group."}))[
        "addNoteAddendum"
    ]
    assert added["author"]["id"] == clinic.staff[0]
    read = (await gql.execute(MEMBER_NOTE, {"id": member}))["memberNote"]
    assert read["progressTowardGoals"] == "Named two triggers" and read["status"] == "SIGNED"
    assert [a["text"] for a in read["addenda"]] == ["Also named a third trigger after group."]
    status, code, _ = await dana.error(ADDENDUM, {"id": note["id"], "text": "On a draft"})
    assert code == "ILLEGAL_TRANSITION"  # the group note is still a draft: edit it instead


async def test_an_empty_note_is_not_signed(gql, clinic, test_clock):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id, topic=None, interventions=[])
    dana = clinician(gql, clinic, clinic.staff[0])
    status, code, _ = await dana.error(SIGN, {"id": note["id"]})
    assert code == "BAD_USER_INPUT"
    await dana.execute(UPDATE_GROUP_NOTE, {"id": note["id"], "input": {"groupDynamics": "Cohesive, supportive"}})
    assert (await dana.execute(SIGN, {"id": note["id"]}))["signNote"]["status"] == "SIGNED"


async def test_a_supervisor_co_signs_only_where_the_payers_rule_names_the_facilitys_state(gql, clinic, test_clock):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    member = note["memberNotes"][0]["id"]
    dana = clinician(gql, clinic, clinic.staff[0], SUPERVISOR_SCOPES)
    sam = clinician(gql, clinic, clinic.staff[1], SUPERVISOR_SCOPES)
    await dana.execute(
        UPDATE_MEMBER_NOTE, {"id": member, "input": {"participation": "MODERATE", "progressTowardGoals": "Steady"}}
    )
    status, code, _ = await sam.error(COSIGN, {"id": member})
    assert code == "ILLEGAL_TRANSITION"  # a draft is not co-signed
    set_now(test_clock, at(10, 31))
    await dana.execute(SIGN, {"id": member})
    status, code, _ = await sam.error(COSIGN, {"id": member})
    assert code == "ILLEGAL_TRANSITION"  # no rule asks for it

    await set_rule(gql, clinic, cosignStates=["NM"])
    assert (await sam.error(COSIGN, {"id": member}))[1] == "ILLEGAL_TRANSITION"  # another state's rule
    await set_rule(gql, clinic, cosignStates=["AZ", "NM"])
    assert (await dana.error(COSIGN, {"id": member}))[1] == "FORBIDDEN"  # the author is not a supervisor of the session
    no_scope = clinician(gql, clinic, clinic.staff[1])
    assert (await no_scope.error(COSIGN, {"id": member}))[1] == "FORBIDDEN"
    cosigned = (await sam.execute(COSIGN, {"id": member}))["cosignNote"]
    assert (cosigned["status"], cosigned["cosignedBy"]["id"]) == ("CO_SIGNED", clinic.staff[1])
    assert (await sam.error(COSIGN, {"id": member}))[1] == "ILLEGAL_TRANSITION"


async def test_only_a_facilitator_of_a_scheduled_groups_session_writes_its_notes(gql, clinic, services, test_clock):
    outsider = await clinic.add_staff("Olive Outsider")
    session_id, _ = await attended_room(gql, clinic, test_clock)
    # Give the session a group whose facilitator is staff[0] (the scheduling feed's path, short-circuited).
    group = await gql.execute(
        """mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }""",
        {
            "input": {
                "name": "Skills",
                "groupType": "THERAPY",
                "facilityId": clinic.facility_id,
                "facilitatorId": clinic.staff[0],
                "maxCapacity": 8,
                "durationMinutes": 90,
            }
        },
    )
    async with services.sessionmaker() as db, db.begin():
        row = await db.get(models.GroupSession, raw(session_id, "GroupSession"))
        row.group_id = raw(group["createGroup"]["id"], "GroupDefinition")
    olive = clinician(gql, clinic, outsider)
    status, code, _ = await olive.error(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"topic": "Mine"}})
    assert code == "FORBIDDEN"
    note = await group_note(gql, clinic, session_id)
    assert note["author"]["id"] == clinic.staff[0]


async def test_a_token_that_is_not_a_staff_member_writes_no_notes(gql, clinic, test_clock, database_url):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    service = gql.as_(
        subject="integration-bot", scopes=[Scope.NOTES_WRITE, Scope.NOTES_READ], facilities=[clinic.facility_id]
    )
    status, code, _ = await service.error(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"topic": "Bot"}})
    assert code == "FORBIDDEN"
    assert (await gql.execute(GROUP_NOTE, {"id": session_id}))["groupNote"] is None


async def test_display_scope_sees_note_status_but_never_note_text(gql, clinic, test_clock):
    session_id, entries = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id, freeText=SECRET_TEXT)
    dana = clinician(gql, clinic, clinic.staff[0])
    await dana.execute(
        UPDATE_MEMBER_NOTE, {"id": note["memberNotes"][0]["id"], "input": {"progressTowardGoals": SECRET_TEXT}}
    )
    display = gql.as_(scopes=[Scope.SESSION_READ], facilities=[clinic.facility_id])
    roster = (await display.execute(ROSTER_NOTES, {"id": session_id}))["groupSession"]["roster"]
    assert sorted(r["noteStatus"] or "-" for r in roster) == ["-", "-", "DRAFT", "DRAFT"]
    audit = await display.post(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action before after } } }", {"id": session_id}
    )
    assert SECRET_TEXT not in audit.text and "note.member_update" in audit.text
    for document in (
        "query($id: ID!) { groupSession(id: $id) { roster { memberNote { id } } } }",
        "query($id: ID!) { groupSession(id: $id) { groupNote { id } } }",
        "query($id: ID!) { groupNote(sessionId: $id) { freeText } }",
    ):
        status, code, body = await display.error(document, {"id": session_id})
        assert code == "FORBIDDEN" and SECRET_TEXT not in str(body)
    # With clinical.notes.read the audit trail shows the draft's before and after.
    full = await gql.post(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action before after } } }", {"id": session_id}
    )
    update = next(e for e in full.json()["data"]["groupSession"]["auditLog"] if e["action"] == "note.member_update")
    assert update["before"]["progressTowardGoals"] is None and update["after"]["progressTowardGoals"] == SECRET_TEXT


async def test_another_facility_reads_and_writes_no_notes(gql, clinic, test_clock):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    elsewhere = await clinic.facility(name="Elsewhere")
    stranger = gql.as_(scopes=list(SUPERVISOR_SCOPES), facilities=[elsewhere], subject=clinic.staff[0])
    assert (await stranger.error(MEMBER_NOTE, {"id": note["memberNotes"][0]["id"]}))[1] == "NOT_FOUND"
    assert (await stranger.error(GROUP_NOTE, {"id": session_id}))[1] == "NOT_FOUND"
    assert (await stranger.error(SIGN, {"id": note["id"]}))[1] == "NOT_FOUND"


async def test_note_text_is_never_in_errors_events_or_logs(gql, clinic, test_clock, services, caplog):
    caplog.set_level(logging.DEBUG)
    session_id, _ = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id, freeText=SECRET_TEXT)
    dana = clinician(gql, clinic, clinic.staff[0])
    status, code, body = await dana.error(
        UPDATE_GROUP_NOTE, {"id": note["id"], "input": {"freeText": SECRET_TEXT * 300}}
    )
    assert code == "BAD_USER_INPUT" and SECRET_TEXT not in str(body)
    await dana.execute(SIGN, {"id": note["id"]})
    await dana.execute(ADDENDUM, {"id": note["id"], "text": SECRET_TEXT + " (addendum)"})
    async with services.sessionmaker() as db:
        payloads = [str(e.payload) for e in (await db.scalars(select(models.IntegrationEvent))).all()]
    assert all(SECRET_TEXT not in p for p in payloads)
    assert SECRET_TEXT not in caplog.text


async def test_every_note_change_is_audited_with_actor_and_before_after(gql, clinic, test_clock, services):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    dana = clinician(gql, clinic, clinic.staff[0])
    await dana.execute(UPDATE_GROUP_NOTE, {"id": note["id"], "input": {"topic": "Urges surfing"}})
    await dana.execute(SIGN, {"id": note["id"]})
    await dana.execute(ADDENDUM, {"id": note["id"], "text": "Late correction"})
    async with services.sessionmaker() as db:
        rows = (
            await db.scalars(
                select(models.AuditEntry)
                .where(models.AuditEntry.entity_type == "GroupNote")
                .order_by(models.AuditEntry.id)
            )
        ).all()
    assert [(r.action, r.actor) for r in rows] == [
        ("note.group_create", clinic.staff[0]),
        ("note.group_update", clinic.staff[0]),
        ("note.sign", clinic.staff[0]),
        ("note.addendum", clinic.staff[0]),
    ]
    update = rows[1]
    assert (update.before["topic"], update.after["topic"]) == ("Coping with cravings", "Urges surfing")
    assert (rows[2].before["status"], rows[2].after["status"]) == ("DRAFT", "SIGNED")


async def test_a_refused_note_change_writes_nothing(gql, clinic, test_clock, database_url):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    before = await row_counts(database_url)
    facilitator_only = gql.as_(
        subject=clinic.staff[0], scopes=list(FACILITATOR_SCOPES), facilities=[clinic.facility_id]
    )
    assert (await facilitator_only.error(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"topic": "x"}}))[
        1
    ] == "FORBIDDEN"
    dana = clinician(gql, clinic, clinic.staff[0])
    assert (await dana.error(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"topic": "x" * 10_001}}))[
        1
    ] == "BAD_USER_INPUT"
    assert await row_counts(database_url) == before


async def test_a_member_marked_present_after_the_group_note_gets_a_draft_too(gql, clinic, test_clock):
    session_id, entries = await attended_room(gql, clinic, test_clock)
    await group_note(gql, clinic, session_id)
    await gql.execute(SET_ATTENDANCE, {"participantId": entries[3], "status": "LATE"})  # the one left SCHEDULED
    await gql.execute(SET_ATTENDANCE, {"participantId": entries[2], "status": "ATTENDED"})  # ABSENT → ATTENDED
    notes = (await gql.execute(GROUP_NOTE, {"id": session_id}))["groupNote"]["memberNotes"]
    assert len(notes) == 4 and {n["status"] for n in notes} == {"DRAFT"}
    roster = (await gql.execute(ROSTER_NOTES, {"id": session_id}))["groupSession"]["roster"]
    assert {r["noteStatus"] for r in roster} == {"DRAFT"}


async def test_concurrent_group_notes_for_one_session_make_exactly_one(gql, clinic, test_clock, services):
    """Two facilitators' tablets, many trials: one group note, one set of member notes, the rest CONFLICT."""
    for trial in range(5):
        session_id, _ = (
            await attended_room(gql, clinic, test_clock) if trial == 0 else (await _another_room(gql, clinic), None)
        )
        dana = clinician(gql, clinic, clinic.staff[0])
        responses = await asyncio.gather(
            *[dana.post(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"topic": f"Try {i}"}}) for i in range(6)]
        )
        bodies = [r.json() for r in responses]
        made = [b for b in bodies if not b.get("errors")]
        assert len(made) == 1, bodies
        assert all(b["errors"][0]["extensions"]["code"] == "CONFLICT" for b in bodies if b.get("errors"))
        async with services.sessionmaker() as db:
            count = await db.scalar(
                select(func.count())
                .select_from(models.MemberNote)
                .where(models.MemberNote.session_id == raw(session_id, "GroupSession"))
            )
        assert count == len(made[0]["data"]["createGroupNote"]["memberNotes"]) == 2


async def _another_room(gql, clinic) -> str:
    created = await create_session(gql, clinic, patients=clinic.patients[:2], starts_at=at(9))
    for entry in created["roster"]:
        await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})
    return created["id"]


async def test_concurrent_edits_and_signing_of_one_draft_never_change_a_signed_note(gql, clinic, test_clock, services):
    """Seven edits racing one signature, on each member note: edits that win come before the
    signature, the rest are ILLEGAL_TRANSITION, and the signed text is the last edit before it."""
    session_id, _ = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    dana = clinician(gql, clinic, clinic.staff[0])
    set_now(test_clock, at(10, 31))  # ended: member notes may be signed
    for member in (m["id"] for m in note["memberNotes"]):
        # Words of the member's own first, so the racing signature never meets a pre-fill-only draft.
        await dana.execute(UPDATE_MEMBER_NOTE, {"id": member, "input": {"progressTowardGoals": "first words"}})
        calls = [
            dana.post(SIGN, {"id": member})
            if i == 3
            else dana.post(UPDATE_MEMBER_NOTE, {"id": member, "input": {"progressTowardGoals": f"edit {i}"}})
            for i in range(8)
        ]
        bodies = [r.json() for r in await asyncio.gather(*calls)]
        assert all(b["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION" for b in bodies if b.get("errors"))
        signed = (await gql.execute(MEMBER_NOTE, {"id": member}))["memberNote"]
        async with services.sessionmaker() as db:
            audits = (
                await db.scalars(
                    select(models.AuditEntry)
                    .where(models.AuditEntry.entity_id == raw(member, "MemberNote"))
                    .order_by(models.AuditEntry.id)
                )
            ).all()
        actions = [a.action for a in audits]
        signature = actions.index("note.sign")
        assert signed["status"] == "SIGNED" and "note.member_update" not in actions[signature:]
        edits_before = [a for a in audits[:signature] if a.action == "note.member_update"]
        assert len(edits_before) == sum(1 for b in bodies if not b.get("errors"))  # the first edit, not the signature
        expected = edits_before[-1].after["progressTowardGoals"]
        assert signed["progressTowardGoals"] == expected


async def test_a_note_takes_at_most_fifty_addenda(gql, clinic, test_clock):
    session_id, _ = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    dana = clinician(gql, clinic, clinic.staff[0])
    await dana.execute(SIGN, {"id": note["id"]})
    for i in range(50):
        await dana.execute(ADDENDUM, {"id": note["id"], "text": f"Correction {i}"})
    status, code, body = await dana.error(ADDENDUM, {"id": note["id"], "text": "One too many"})
    assert code == "BAD_USER_INPUT" and "at most 50 addenda" in body["errors"][0]["message"]
    assert len((await gql.execute(GROUP_NOTE, {"id": session_id}))["groupNote"]["addenda"]) == 50


async def test_a_member_note_with_only_the_group_notes_pre_fill_is_not_signed(gql, clinic, test_clock, services):
    """Issue 24 (and a security finding: such a note cleared billing's hold on an unsigned note). A
    member note drafted from the group note carries the group's interventions; signed unchanged, it
    documents the group, not the member. Choosing a participation level or a risk flag is not enough:
    the note needs text in the member's own words."""
    await set_rule(gql, clinic, signedNote="BLOCKING")
    session_id, entries = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    member = next(m for m in note["memberNotes"] if m["participant"]["id"] == entries[0])["id"]
    dana = clinician(gql, clinic, clinic.staff[0])
    set_now(test_clock, at(10, 31))
    await dana.execute(
        UPDATE_MEMBER_NOTE, {"id": member, "input": {"participation": "ACTIVE", "riskFlags": ["SUBSTANCE_USE"]}}
    )
    status, code, body = await dana.error(SIGN, {"id": member})
    assert code == "BAD_USER_INPUT" and "individualize" in body["errors"][0]["message"]
    # Spacing or case changes to the pre-fill are still the pre-fill.
    await dana.execute(
        UPDATE_MEMBER_NOTE,
        {"id": member, "input": {"responseToInterventions": "interventions:  Role play, Homework review."}},
    )
    assert (await dana.error(SIGN, {"id": member}))[1] == "BAD_USER_INPUT"
    read = (await gql.execute(MEMBER_NOTE, {"id": member}))["memberNote"]
    assert read["status"] == "DRAFT" and read["signedAt"] is None
    # The group note edited after drafting does not turn the old pre-fill into the member's words.
    await dana.execute(UPDATE_GROUP_NOTE, {"id": note["id"], "input": {"interventions": ["Mindfulness"]}})
    assert (await dana.error(SIGN, {"id": member}))[1] == "BAD_USER_INPUT"
    preview = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { billingPreview { issues { code severity participantIds } } } }",
        {"id": session_id},
    )
    held = [i for i in preview["groupSession"]["billingPreview"]["issues"] if i["code"] == "NOTE_UNSIGNED"]
    assert {"code": "NOTE_UNSIGNED", "severity": "BLOCKING", "participantIds": [entries[0]]} in held

    await dana.execute(
        UPDATE_MEMBER_NOTE,
        {
            "id": member,
            "input": {
                "responseToInterventions": "Interventions: Role play, Homework review. Rehearsed refusing a drink."
            },
        },
    )
    assert (await dana.execute(SIGN, {"id": member}))["signNote"]["status"] == "SIGNED"


async def test_a_draft_made_before_its_pre_fill_was_kept_is_checked_against_the_group_note(
    gql, clinic, test_clock, services
):
    session_id, entries = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    member = note["memberNotes"][0]["id"]
    async with services.sessionmaker() as db, db.begin():
        await db.execute(
            update(models.MemberNote)
            .where(models.MemberNote.id == raw(member, "MemberNote"))
            .values(prefilled_text=None)
        )
    set_now(test_clock, at(10, 31))
    dana = clinician(gql, clinic, clinic.staff[0])
    status, code, body = await dana.error(SIGN, {"id": member})
    assert code == "BAD_USER_INPUT" and "pre-filled" in body["errors"][0]["message"]


LATE = """mutation($id: ID!, $reason: String) { signNote(id: $id, lateEntryReason: $reason) {
  __typename status signedAt lateEntry lateEntryReason } }"""


async def test_a_note_signed_after_the_window_is_a_labelled_late_entry_with_its_reason(gql, clinic, test_clock):
    """CMS's Program Integrity Manual (Pub. 100-08, ch. 3 §3.3.2.5): documentation is completed during
    or as soon as practicable after the service; an entry made later is clearly identified as a
    delayed entry, with its date and author. The window is the member's payer's rule (24 hours
    here), else the facility's (72 by default); signed after it, the note is a late entry, and the
    reason is required."""
    await set_rule(gql, clinic, lateEntryHours=24)
    session_id, entries = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    member = next(m for m in note["memberNotes"] if m["participant"]["id"] == entries[0])["id"]
    dana = clinician(gql, clinic, clinic.staff[0])
    await dana.execute(UPDATE_MEMBER_NOTE, {"id": member, "input": {"progressTowardGoals": "Named two triggers"}})
    set_now(test_clock, at(16, 30, day=11))  # 30 hours after the session ended

    _, code, body = await dana.error(LATE, {"id": member})
    assert code == "BAD_USER_INPUT" and "more than 24 hours" in body["errors"][0]["message"]
    _, code, _ = await dana.error(LATE, {"id": member, "reason": "   "})
    assert code == "BAD_USER_INPUT"
    assert (await gql.execute(MEMBER_NOTE, {"id": member}))["memberNote"]["status"] == "DRAFT"
    signed = (await dana.execute(LATE, {"id": member, "reason": "Clinician out sick the day after group"}))["signNote"]
    assert (signed["status"], signed["lateEntry"], signed["lateEntryReason"]) == (
        "SIGNED",
        True,
        "Clinician out sick the day after group",
    )
    log = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action after } } }", {"id": session_id}
    )
    [entry] = [e for e in log["groupSession"]["auditLog"] if e["action"] == "note.sign"]
    assert entry["after"]["lateEntry"] is True

    # The group note has no payer: the facility's window (72 hours) applies, so it is on time, and a
    # reason for lateness is refused rather than mislabelling it.
    await dana.execute(UPDATE_GROUP_NOTE, {"id": note["id"], "input": {"groupDynamics": "Cohesive"}})
    _, code, body = await dana.error(LATE, {"id": note["id"], "reason": "late"})
    assert code == "BAD_USER_INPUT" and "not a late entry" in body["errors"][0]["message"]
    on_time = (await dana.execute(LATE, {"id": note["id"]}))["signNote"]
    assert (on_time["__typename"], on_time["lateEntry"], on_time["lateEntryReason"]) == ("GroupNote", False, None)


async def test_the_facilitys_window_applies_where_the_payer_sets_none(gql, clinic, test_clock):
    session_id, entries = await attended_room(gql, clinic, test_clock)
    note = await group_note(gql, clinic, session_id)
    member = note["memberNotes"][0]["id"]
    dana = clinician(gql, clinic, clinic.staff[0])
    await dana.execute(UPDATE_MEMBER_NOTE, {"id": member, "input": {"progressTowardGoals": "Steady"}})
    facility = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Facility { noteLateEntryHours } } }", {"id": clinic.facility_id}
    )
    assert facility["node"]["noteLateEntryHours"] == 72
    set_now(test_clock, at(10, 31, day=13))  # 72 hours and a minute
    _, code, body = await dana.error(LATE, {"id": member})
    assert code == "BAD_USER_INPUT" and "more than 72 hours" in body["errors"][0]["message"]
    assert (await dana.execute(LATE, {"id": member, "reason": "Chart audit found it unsigned"}))["signNote"][
        "lateEntry"
    ]


@pytest.mark.parametrize("hours", [0, 24 * 90 + 1])
async def test_a_bad_late_entry_window_is_refused(gql, clinic, hours):
    _, code, body = await gql.error(
        "mutation($input: DocumentationRuleInput!) { setPayerDocumentationRule(input: $input) { id } }",
        {"input": {"payerId": clinic.payer_id, "lateEntryHours": hours}},
    )
    assert code == "BAD_USER_INPUT" and "lateEntryHours" in body["errors"][0]["message"]
    _, code, body = await gql.error(
        "mutation($input: FacilityInput!) { createFacility(input: $input) { id } }",
        {"input": {"name": "Late Clinic", "state": "AZ", "timezone": "America/Phoenix", "noteLateEntryHours": hours}},
    )
    assert code == "BAD_USER_INPUT" and "noteLateEntryHours" in body["errors"][0]["message"]
