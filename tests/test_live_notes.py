"""Live updates carry note status per member to the room's display and tablet, never note text."""

from __future__ import annotations

import asyncio
import json

from app.rules.scopes import Scope
from tests.conftest import make_token
from tests.support.builders_notes import CREATE_GROUP_NOTE, SIGN, UPDATE_MEMBER_NOTE, clinician, documented_room
from tests.support.builders_sessions import SET_ATTENDANCE, at, set_now
from tests.test_live import next_payload, subscribe

DISPLAY_UPDATES = """
subscription($id: ID!) {
  sessionUpdates(sessionId: $id) {
    kind sequence changedParticipantIds
    session { modality roster { id status noteStatus minutesPresent modality } }
    billingPreview { issues { code } }
  }
}"""

SECRET = "disclosed a relapse over the weekend"


async def test_the_display_sees_each_members_note_status_change_and_never_its_text(ws, gql, clinic, test_clock):
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    for entry in entries:
        await gql.execute(SET_ATTENDANCE, {"participantId": entry, "status": "ATTENDED"})
    display = make_token(scopes=[Scope.SESSION_READ], facilities=[clinic.facility_id])
    dana = clinician(gql, clinic, clinic.staff[0])
    async with ws(display) as socket:
        await subscribe(socket, DISPLAY_UPDATES, {"id": session_id})
        snapshot = (await next_payload(socket))["sessionUpdates"]
        assert [r["noteStatus"] for r in snapshot["session"]["roster"]] == [None, None]

        created = await dana.execute(
            CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"freeText": SECRET, "topic": SECRET}}
        )
        update = (await next_payload(socket))["sessionUpdates"]
        assert update["kind"] == "NOTE_CHANGED" and sorted(update["changedParticipantIds"]) == sorted(entries)
        assert [r["noteStatus"] for r in update["session"]["roster"]] == ["DRAFT", "DRAFT"]

        member = next(m for m in created["createGroupNote"]["memberNotes"] if m["participant"]["id"] == entries[0])[
            "id"
        ]
        await dana.execute(UPDATE_MEMBER_NOTE, {"id": member, "input": {"progressTowardGoals": SECRET}})
        edited = await asyncio.wait_for(socket.receive_json(), 5)
        set_now(test_clock, at(10, 31))  # a member note is signed once its session has ended
        await dana.execute(SIGN, {"id": member})
        signed = (await next_payload(socket))["sessionUpdates"]
        assert signed["changedParticipantIds"] == [entries[0]]
        status = {r["id"]: r["noteStatus"] for r in signed["session"]["roster"]}
        assert status == {entries[0]: "SIGNED", entries[1]: "DRAFT"}
        assert SECRET not in json.dumps([update, edited, signed])


async def test_a_display_asking_for_note_text_is_refused(ws, gql, clinic, test_clock):
    session_id, _ = await documented_room(gql, clinic, test_clock, members=1)
    display = make_token(scopes=[Scope.SESSION_READ], facilities=[clinic.facility_id])
    async with ws(display) as socket:
        await subscribe(
            socket,
            "subscription($id: ID!) { sessionUpdates(sessionId: $id) { session { groupNote { freeText } } } }",
            {"id": session_id},
        )
        message = await asyncio.wait_for(socket.receive_json(), 5)
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        assert errors and errors[0]["extensions"]["code"] == "FORBIDDEN"
