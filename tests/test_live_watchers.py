"""Live updates under a hostile or failing watcher: one watcher's error never reaches another."""

from __future__ import annotations

import asyncio
import json

from app.ids import encode_id
from app.live.hub import Watcher
from tests.conftest import make_token
from tests.test_live import SESSION_UPDATES, make_session, mark, next_payload, subscribe

NO_BILLING = make_token(scopes=["clinical.group-session.read"])
CHARGES_WATCH = """
subscription($id: ID!) {
  sessionUpdates(sessionId: $id) { kind sequence session { id roster { status } charges { amount } } }
}"""


async def receive(socket, timeout: float = 5.0) -> dict:
    return await asyncio.wait_for(socket.receive_json(), timeout)


async def test_a_watcher_without_billing_read_never_silences_the_room_display(ws, services, clinic):
    session_id, participants = await make_session(services, clinic)
    variables = {"id": encode_id("GroupSession", session_id)}
    async with ws() as display, ws(NO_BILLING) as intruder:
        await subscribe(display, SESSION_UPDATES, variables, op_id="display")
        assert (await next_payload(display))["sessionUpdates"]["kind"] == "SNAPSHOT"
        await subscribe(intruder, CHARGES_WATCH, variables, op_id="intruder")
        refused = await receive(intruder)
        assert refused["type"] == "next" and refused["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        for sequence, (participant, status) in enumerate(
            zip(participants, ["ATTENDED", "LATE", "ABSENT"], strict=False), start=1
        ):
            await mark(services, participant, status)
            update = (await next_payload(display))["sessionUpdates"]
            assert (update["kind"], update["sequence"]) == ("ATTENDANCE_CHANGED", sequence)
            # The failing watcher gets its own error for each change and stays subscribed.
            message = await receive(intruder)
            assert message["type"] == "next", message
            assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert message["payload"]["errors"][0]["path"][-1] == "charges"

        await intruder.send_json({"id": "intruder", "type": "complete"})
        await mark(services, participants[0], "LATE")
        assert (await next_payload(display))["sessionUpdates"]["sequence"] == 4


async def test_a_watcher_cancelled_from_within_gets_an_error_and_can_subscribe_again(
    ws, services, clinic, monkeypatch, caplog
):
    """Before, such an operation vanished without a word and its id answered 4409 ever after."""
    session_id, participants = await make_session(services, clinic)
    variables = {"id": encode_id("GroupSession", session_id)}
    original = Watcher.__anext__
    calls = 0

    async def cancelled_once(watcher):
        nonlocal calls
        calls += 1
        if calls == 1:  # the first change after the snapshot: the watch is cancelled from within
            raise asyncio.CancelledError()
        return await original(watcher)

    monkeypatch.setattr(Watcher, "__anext__", cancelled_once)
    async with ws() as display:
        await subscribe(display, SESSION_UPDATES, variables, op_id="display")
        await next_payload(display)
        await mark(services, participants[0], "ATTENDED")
        message = await receive(display)
        assert message == {
            "id": "display",
            "type": "error",
            "payload": [{"message": "Internal server error", "extensions": {"code": "INTERNAL"}}],
        }
        assert "unexpected cancellation" in caplog.text
        await display.send_json(
            {"id": "display", "type": "subscribe", "payload": {"query": SESSION_UPDATES, "variables": variables}}
        )
        snapshot = (await next_payload(display))["sessionUpdates"]
        assert (snapshot["kind"], snapshot["sequence"]) == ("SNAPSHOT", 1)


async def test_watchers_of_one_audience_get_the_same_payload_encoded_once_each_with_its_own_id(
    ws, services, clinic, app
):
    """The payload of a shared result is encoded once and written to every socket with only the
    operation id spliced in: each frame is still exactly one graphql-transport-ws `next` message."""
    session_id, participants = await make_session(services, clinic)
    variables = {"id": encode_id("GroupSession", session_id)}
    ids = ["room-a", 'room "b" \u00e9', "room-c"]
    async with ws() as a, ws() as b, ws() as c:
        sockets = [a, b, c]
        for socket, op_id in zip(sockets, ids, strict=False):
            await subscribe(socket, SESSION_UPDATES, variables, op_id=op_id)
            assert (await next_payload(socket))["sessionUpdates"]["kind"] == "SNAPSHOT"
        payloads = app.state.graphql.payloads
        before = payloads.encoded
        for sequence, (participant, status) in enumerate(
            zip(participants, ["ATTENDED", "LATE"], strict=False), start=1
        ):
            await mark(services, participant, status)
            frames = [await asyncio.wait_for(socket.receive_text(), 5) for socket in sockets]
            messages = [json.loads(frame) for frame in frames]
            for message, op_id in zip(messages, ids, strict=False):
                assert set(message) == {"id", "type", "payload"} and message["type"] == "next"
                assert message["id"] == op_id
                assert message["payload"]["data"]["sessionUpdates"]["sequence"] == sequence
            assert messages[0]["payload"] == messages[1]["payload"] == messages[2]["payload"]
        # One encoding per change for the three watchers (same operation, variables and audience).
        assert payloads.encoded - before == 2
