"""One request, one transaction (rules.md §3): every root field of a mutation commits together or
not at all, with its audit entries, outbox events and live updates; and every operation on a
websocket reads fresh data."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.db import models
from tests.support.builders_sessions import SESSION, audit_rows, create_session, get_session

MARK = """
mutation($a: ID!, $b: ID!, $c: ID!) {
  a: setAttendance(participantId: $a, status: ATTENDED) { id status }
  b: setAttendance(participantId: $b, status: ABSENT) { id status }
  c: setAttendance(participantId: $c, status: %s) { id status }
}"""
TWO_FIELDS = """
mutation($a: ID!, $b: ID!) {
  a: setAttendance(participantId: $a, status: ATTENDED) { id status }
  b: setAttendance(participantId: $b, status: %s) { id status }
}"""
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}


async def roster_session(gql, clinic, patients: int = 3) -> tuple[dict, list[str]]:
    for _ in range(patients):
        await clinic.add_patient()
    session = await create_session(gql, clinic)
    return session, [row["id"] for row in session["roster"]]


async def event_count(services) -> int:
    async with services.sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(models.IntegrationEvent))


async def sequence_of(services, session_id: str) -> int:
    detail = await get_session_row(services, session_id)
    return detail.update_sequence


async def get_session_row(services, session_id: str) -> models.GroupSession:
    from app.ids import decode_id

    async with services.sessionmaker() as db:
        return await db.get(models.GroupSession, decode_id(session_id, "GroupSession"))


@pytest.mark.parametrize("fields", [2, 3])
async def test_a_refused_last_field_keeps_nothing_of_the_earlier_ones(gql, services, clinic, fields):
    session, rows = await roster_session(gql, clinic)
    audits, events, sequence = (
        len(await audit_rows(services)),
        await event_count(services),
        await sequence_of(services, session["id"]),
    )
    # The last field asks for SCHEDULED, which no transition allows: ILLEGAL_TRANSITION.
    if fields == 2:
        document, variables = TWO_FIELDS % "SCHEDULED", {"a": rows[0], "b": rows[1]}
    else:
        document, variables = MARK % "SCHEDULED", {"a": rows[0], "b": rows[1], "c": rows[2]}
    response = await gql.post(document, variables, headers=GRAPHQL_RESPONSE)
    body = response.json()
    assert response.status_code == 409, body
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["ILLEGAL_TRANSITION"]
    assert body["errors"][0]["path"] == ["b" if fields == 2 else "c"]
    detail = await get_session(gql, session["id"])
    assert [r["status"] for r in detail["roster"]] == ["SCHEDULED"] * 3
    assert len(await audit_rows(services)) == audits
    assert await event_count(services) == events
    assert await sequence_of(services, session["id"]) == sequence  # no live update was staged


async def test_every_field_succeeding_commits_them_all_together(gql, services, clinic):
    session, rows = await roster_session(gql, clinic)
    data = await gql.execute(MARK % "LATE", {"a": rows[0], "b": rows[1], "c": rows[2]})
    assert [data[k]["status"] for k in "abc"] == ["ATTENDED", "ABSENT", "LATE"]
    detail = await get_session(gql, session["id"])
    assert sorted(r["status"] for r in detail["roster"]) == ["ABSENT", "ATTENDED", "LATE"]
    assert len(await audit_rows(services, "attendance.set")) == 3


async def test_a_field_after_a_refused_one_does_not_run(gql, services, clinic):
    session, rows = await roster_session(gql, clinic)
    document = """
    mutation($a: ID!, $b: ID!) {
      a: setAttendance(participantId: $a, status: SCHEDULED) { id }
      b: setAttendance(participantId: $b, status: ATTENDED) { id }
    }"""
    body = (await gql.post(document, {"a": rows[0], "b": rows[1]}, headers=GRAPHQL_RESPONSE)).json()
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["a"]]
    assert len(await audit_rows(services, "attendance.set")) == 0


async def test_a_created_session_is_read_back_before_commit_and_dropped_with_a_failed_field(gql, clinic):
    """Fields answer from the transaction (the roster exists only in it); a later refusal drops it all."""
    patient = await clinic.add_patient()
    document = """
    mutation($input: CreateGroupSessionInput!, $bogus: ID!) {
      a: createGroupSession(input: $input) { id roster { status } attendance { total } }
      b: setAttendance(participantId: $bogus, status: ATTENDED) { id }
    }"""
    variables = {
        "input": {
            "facilityId": clinic.facility_id,
            "groupType": "SUPPORT",
            "title": "Walk-in",
            "startsAt": "2026-03-10T09:00:00-07:00",
            "endsAt": "2026-03-10T10:00:00-07:00",
            "patientIds": [patient],
        },
        "bogus": "Um9zdGVyRW50cnk6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw",
    }
    body = (await gql.post(document, variables, headers=GRAPHQL_RESPONSE)).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    listed = await gql.execute('{ groupSessions(filter: {from: "2026-03-01", to: "2026-03-31"}) { totalCount } }')
    assert listed["groupSessions"]["totalCount"] == 0
    document = document.replace("b: setAttendance(participantId: $bogus, status: ATTENDED) { id }", "").replace(
        ", $bogus: ID!", ""
    )
    created = (await gql.execute(document, {"input": variables["input"]}))["a"]
    assert created["roster"] == [{"status": "SCHEDULED"}] and created["attendance"]["total"] == 1


async def test_idempotency_key_replays_the_whole_request(http, gql, services, clinic):
    from tests.conftest import make_token

    session, rows = await roster_session(gql, clinic)
    body = {"query": TWO_FIELDS % "LATE", "variables": {"a": rows[0], "b": rows[1]}}
    headers = {"Authorization": f"Bearer {make_token()}", "Idempotency-Key": "both-marks"}
    first = await http.post("/graphql", json=body, headers=headers)
    again = await http.post("/graphql", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers.get("idempotent-replayed") == "true"
    assert len(await audit_rows(services, "attendance.set")) == 2


async def _next(socket, op_id: str) -> dict:
    while True:
        message = await asyncio.wait_for(socket.receive_json(), 10)
        if message.get("id") == op_id and message["type"] in ("next", "error"):
            return message


async def test_a_query_after_a_mutation_on_one_socket_reads_fresh_data(ws, gql, clinic):
    session, rows = await roster_session(gql, clinic, patients=1)
    query = {"query": SESSION, "variables": {"id": session["id"]}}
    mutation = {
        "query": TWO_FIELDS.replace("b: setAttendance(participantId: $b, status: %s) { id status }", ""),
        "variables": {"a": rows[0]},
    }
    mutation["query"] = mutation["query"].replace("$a: ID!, $b: ID!", "$a: ID!")
    async with ws() as socket:
        assert (await asyncio.wait_for(socket.receive_json(), 10))["type"] == "connection_ack"
        await socket.send_json({"id": "1", "type": "subscribe", "payload": query})
        before = await _next(socket, "1")
        assert before["payload"]["data"]["groupSession"]["roster"][0]["status"] == "SCHEDULED"
        await socket.send_json({"id": "2", "type": "subscribe", "payload": mutation})
        marked = await _next(socket, "2")
        assert marked["payload"]["data"]["a"]["status"] == "ATTENDED"
        await socket.send_json({"id": "3", "type": "subscribe", "payload": query})
        after = await _next(socket, "3")
        assert after["payload"]["data"]["groupSession"]["roster"][0]["status"] == "ATTENDED"
        assert after["payload"]["data"]["groupSession"]["attendance"]["attended"] == 1
