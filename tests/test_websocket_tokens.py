"""A websocket lives as long as the token that opened it (rules.md §2): closed with 4401 at the
token's exp, every operation on it authorized with that token's scopes and facilities, and an
operation that starts after exp refused."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from httpx_ws import WebSocketDisconnect

from app.auth import Principal
from tests.conftest import SECRET, make_token
from tests.support.builders_sessions import create_session

SESSION_UPDATES = "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind session { id } } }"


def subscribe(operation_id: str, session_id: str, query: str = SESSION_UPDATES) -> dict:
    return {"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": {"id": session_id}}}


async def first_result(socket, operation_id: str) -> dict:
    """The first `next` or `error` of an operation (a failed one's `complete` follows its error)."""
    while True:
        message = await socket.receive_json()
        if message.get("id") == operation_id and message["type"] in ("next", "error"):
            return message


async def test_a_socket_is_closed_with_4401_when_its_token_expires(ws, gql, clinic):
    session = await create_session(gql, clinic)
    token = make_token(ttl=4)
    expires_at = jwt.decode(token, SECRET, algorithms=["HS256"])["exp"]
    async with ws(token) as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_json(subscribe("1", session["id"]))
        snapshot = await asyncio.wait_for(socket.receive_json(), 10)
        assert snapshot["payload"]["data"]["sessionUpdates"]["kind"] == "SNAPSHOT"
        with pytest.raises(WebSocketDisconnect) as closed:
            await asyncio.wait_for(socket.receive_json(), 30)
    assert (closed.value.code, closed.value.reason) == (4401, "Token expired")
    assert time.time() >= expires_at - 1  # exp has whole seconds


async def test_an_operation_that_starts_after_the_token_expired_closes_the_socket(ws, gql, clinic, monkeypatch):
    session = await create_session(gql, clinic)
    async with ws(make_token(subject="display-9")) as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        # As if exp passed between two operations, before the close timer ran.
        monkeypatch.setattr(Principal, "expired", lambda self, now=None: self.subject == "display-9")
        await socket.send_json(subscribe("1", session["id"]))
        with pytest.raises(WebSocketDisconnect) as closed:
            await asyncio.wait_for(socket.receive_json(), 10)
    assert closed.value.code == 4401


async def test_each_operation_is_authorized_with_the_token_that_opened_its_socket(ws, gql, clinic):
    session = await create_session(gql, clinic)
    other_facility = await clinic.facility(name="Other Clinic")
    tokens = {
        "admin": make_token(),
        "other-facility": make_token(facilities=[other_facility]),
        "no-session-scope": make_token(scopes=["pm.group_definitions.view"]),
    }
    outcomes = {}
    for name, token in tokens.items():
        async with ws(token) as socket:
            assert (await socket.receive_json())["type"] == "connection_ack"
            for operation_id in ("1", "2"):  # the second operation is checked again, the same way
                await socket.send_json(subscribe(operation_id, session["id"]))
                message = await asyncio.wait_for(first_result(socket, operation_id), 10)
                payload = message["payload"]
                errors = payload.get("errors") if isinstance(payload, dict) else payload
                outcomes.setdefault(name, []).append(
                    errors[0]["extensions"]["code"] if errors else payload["data"]["sessionUpdates"]["kind"]
                )
    assert outcomes == {
        "admin": ["SNAPSHOT", "SNAPSHOT"],
        "other-facility": ["NOT_FOUND", "NOT_FOUND"],
        "no-session-scope": ["FORBIDDEN", "FORBIDDEN"],
    }


async def test_several_operations_without_operation_name_are_refused_over_the_websocket(ws, gql, clinic):
    session = await create_session(gql, clinic)
    document = SESSION_UPDATES.replace("subscription(", "subscription A(") + " subscription B { __typename }"
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_json(subscribe("1", session["id"], document))
        message = await asyncio.wait_for(socket.receive_json(), 10)
    assert message["type"] == "error"
    assert "operationName" in message["payload"][0]["message"]
    assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
