"""Subscriptions over HTTP for clinics whose proxies block websockets: the multipart subscription
protocol (what Apollo's HttpLink sends) and graphql-sse, over POST and GET, with the same auth, the
same scope and facility rules, the SNAPSHOT before every change, and an end when the token expires.
A real server process: streamed answers need a real socket."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import make_token
from tests.support.builders_sessions import SET_ATTENDANCE, at, create_session, set_now
from tests.support.server import serve_in_process, start_server

# The module's tests share one server process: they run in one worker (pytest-xdist).
pytestmark = pytest.mark.xdist_group("http_subscriptions")

MULTIPART = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
EVENT_STREAM = "text/event-stream"
SESSION_UPDATES = "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind sequence changedParticipantIds } }"


@pytest.fixture(scope="module")
async def live(database_url):
    async with start_server(database_url) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(30)) as client:
            yield client


def headers(accept: str, token: str | None = None) -> dict:
    return {"Accept": accept, "Authorization": f"Bearer {token or make_token()}"}


async def multipart_payloads(response: httpx.Response) -> AsyncIterator[dict]:
    """Each part's JSON, heartbeats (`{}`) left out; ends at the closing delimiter."""
    buffered = ""
    async for text in response.aiter_text():
        buffered += text
        while "\r\n--graphql" in buffered:
            part, buffered = buffered.split("\r\n--graphql", 1)
            body = part.partition("\r\n\r\n")[2]
            if body and json.loads(body):
                yield json.loads(body)
            if buffered.startswith("--"):
                return


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, dict | None]]:
    buffered = ""
    async for text in response.aiter_text():
        buffered += text.replace("\r\n", "\n")
        while "\n\n" in buffered:
            event, buffered = buffered.split("\n\n", 1)
            fields = dict(
                line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in event.splitlines()
            )
            if "event" in fields:
                yield fields["event"], json.loads(fields["data"]) if fields.get("data") else None


@pytest.fixture
async def watched(gql, clinic) -> dict:
    return await create_session(gql, clinic, patients=[await clinic.add_patient(), await clinic.add_patient()])


async def mark_through(live: httpx.AsyncClient, participant_id: str, status: str) -> None:
    response = await live.post(
        "/graphql",
        json={"query": SET_ATTENDANCE, "variables": {"participantId": participant_id, "status": status}},
        headers=headers("application/json"),
    )
    assert "errors" not in response.json(), response.json()


async def test_multipart_over_post_sends_the_snapshot_then_each_change(live, watched):
    participant = watched["roster"][0]["id"]
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    async with live.stream("POST", "/graphql", json=body, headers=headers(MULTIPART)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/mixed")
        payloads = multipart_payloads(response)
        first = (await anext(payloads))["payload"]["data"]["sessionUpdates"]
        assert first["kind"] == "SNAPSHOT"
        await mark_through(live, participant, "ATTENDED")
        change = (await anext(payloads))["payload"]["data"]["sessionUpdates"]
    assert (change["kind"], change["changedParticipantIds"]) == ("ATTENDANCE_CHANGED", [participant])
    assert change["sequence"] > first["sequence"]


async def test_each_message_of_a_stream_tells_the_session_status_at_its_own_moment(app, gql, clinic, test_clock):
    set_now(test_clock, at(8))
    watched = await create_session(gql, clinic, patients=[await clinic.add_patient()])  # 9:00 to 10:30
    query = "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind session { status } } }"
    body = {"query": query, "variables": {"id": watched["id"]}}
    async with serve_in_process(app) as url, httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30)) as client:
        async with client.stream("POST", "/graphql", json=body, headers=headers(MULTIPART)) as response:
            payloads = multipart_payloads(response)
            first = (await anext(payloads))["payload"]["data"]["sessionUpdates"]
            set_now(test_clock, at(9, 30))
            await gql.execute(SET_ATTENDANCE, {"participantId": watched["roster"][0]["id"], "status": "ATTENDED"})
            change = (await anext(payloads))["payload"]["data"]["sessionUpdates"]
    assert (first["kind"], first["session"]["status"]) == ("SNAPSHOT", "SCHEDULED")
    assert (change["kind"], change["session"]["status"]) == ("ATTENDANCE_CHANGED", "IN_PROGRESS")


async def test_multipart_over_get_and_sse_over_post_send_the_snapshot(live, watched):
    params = {"query": SESSION_UPDATES, "variables": json.dumps({"id": watched["id"]})}
    async with live.stream("GET", "/graphql", params=params, headers=headers(MULTIPART)) as response:
        assert response.status_code == 200
        assert (await anext(multipart_payloads(response)))["payload"]["data"]["sessionUpdates"]["kind"] == "SNAPSHOT"
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    async with live.stream("POST", "/graphql", json=body, headers=headers(EVENT_STREAM)) as response:
        assert response.headers["content-type"] == EVENT_STREAM
        event, data = await anext(sse_events(response))
    assert (event, data["data"]["sessionUpdates"]["kind"]) == ("next", "SNAPSHOT")


@pytest.mark.parametrize("accept", [MULTIPART, EVENT_STREAM])
async def test_a_stream_needs_a_valid_token(live, watched, accept):
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    response = await live.post("/graphql", json=body, headers={"Accept": accept})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_stream_keeps_the_scope_and_facility_rules(live, watched, clinic):
    other = await clinic.facility(name="Other Clinic")
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    codes = []
    for token in (make_token(facilities=[other]), make_token(scopes=["pm.group_definitions.view"])):
        async with live.stream("POST", "/graphql", json=body, headers=headers(MULTIPART, token)) as response:
            payload = (await anext(multipart_payloads(response)))["payload"]
        assert payload["data"] is None
        codes.append(payload["errors"][0]["extensions"]["code"])
    assert codes == ["NOT_FOUND", "FORBIDDEN"]


async def test_a_multipart_stream_ends_with_unauthenticated_when_its_token_expires(live, watched):
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    async with live.stream("POST", "/graphql", json=body, headers=headers(MULTIPART, make_token(ttl=4))) as response:
        received = [payload async for payload in multipart_payloads(response)]
    assert received[0]["payload"]["data"]["sessionUpdates"]["kind"] == "SNAPSHOT"
    assert received[-1] == {
        "payload": None,
        "errors": [{"message": "Token expired", "extensions": {"code": "UNAUTHENTICATED"}}],
    }


async def test_an_event_stream_ends_with_unauthenticated_when_its_token_expires(live, watched):
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    async with live.stream("POST", "/graphql", json=body, headers=headers(EVENT_STREAM, make_token(ttl=4))) as response:
        events = [event async for event in sse_events(response)]
    assert events[0][1]["data"]["sessionUpdates"]["kind"] == "SNAPSHOT"
    assert events[-2:] == [
        ("next", {"errors": [{"message": "Token expired", "extensions": {"code": "UNAUTHENTICATED"}}]}),
        ("complete", None),
    ]


async def test_a_subscription_over_plain_post_is_406_with_a_code_never_internal(live, watched):
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    for accept in ("application/json", "*/*", "application/graphql-response+json"):
        response = await live.post("/graphql", json=body, headers=headers(accept))
        assert response.status_code == 406, accept
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_query_sent_with_the_multipart_accept_gets_one_json_answer(live):
    """gql-cli sends the multipart subscription Accept for every operation."""
    response = await live.post("/graphql", json={"query": "{ viewer { subject } }"}, headers=headers(MULTIPART))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] == {"viewer": {"subject": "tester"}}


@pytest.mark.parametrize(
    "body",
    [{"variables": {}}, {"query": "{ viewer { subject } }", "operationName": "Other"}],
    ids=["no-query", "unknown-operation-name"],
)
async def test_a_refused_request_over_an_event_stream_is_bad_user_input_never_internal(live, body):
    async with live.stream("POST", "/graphql", json=body, headers=headers(EVENT_STREAM)) as response:
        events = [event async for event in sse_events(response)]
    assert events[0][0] == "next" and events[-1] == ("complete", None)
    assert events[0][1]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


URQL_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (URQL_ACCEPT, "application/graphql-response+json; charset=utf-8"),
        ("text/event-stream, application/json", "application/json"),
        ("application/graphql+json, text/event-stream", "application/json"),
    ],
    ids=["urql", "json-after-sse", "legacy-graphql-json"],
)
async def test_a_query_and_a_mutation_get_one_json_answer_when_a_json_type_is_accepted(
    live, watched, accept, media_type
):
    query = await live.post("/graphql", json={"query": "{ viewer { subject } }"}, headers=headers(accept))
    assert (query.status_code, query.headers["content-type"]) == (200, media_type)
    assert query.json()["data"] == {"viewer": {"subject": "tester"}}

    participant = watched["roster"][0]["id"]
    body = {"query": SET_ATTENDANCE, "variables": {"participantId": participant, "status": "ATTENDED"}}
    mutation = await live.post("/graphql", json=body, headers=headers(accept))
    assert (mutation.status_code, mutation.headers["content-type"]) == (200, media_type)
    assert mutation.json()["data"]["setAttendance"]["status"] == "ATTENDED"


async def test_a_client_of_event_streams_only_gets_its_query_as_one_event_framed_with_lf(live):
    """graphql-sse's client accepts nothing else; the frames end in LF, as its reference server writes them."""
    body = {"query": "{ viewer { subject } }"}
    async with live.stream("POST", "/graphql", json=body, headers=headers(EVENT_STREAM)) as response:
        assert response.headers["content-type"] == EVENT_STREAM
        raw = b"".join([chunk async for chunk in response.aiter_bytes()]).decode()
    event, complete = raw.removesuffix("\n\n").split("\n\n")
    assert event.startswith('event: next\ndata: {"data":{"viewer":{"subject":"tester"}}') and "\r" not in raw, raw
    assert complete == "event: complete\ndata: "


async def test_a_subscription_over_an_event_stream_is_framed_with_lf(live, watched):
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    async with live.stream("POST", "/graphql", json=body, headers=headers(URQL_ACCEPT)) as response:
        assert response.headers["content-type"] == EVENT_STREAM
        first = await anext(response.aiter_text())
    assert first.startswith("event: next\ndata: {") and first.endswith("}\n\n") and "\r" not in first, first


@pytest.mark.parametrize("after", ["snapshot", "change"])
@pytest.mark.parametrize("accept", [MULTIPART, EVENT_STREAM], ids=["multipart", "sse"])
async def test_a_client_going_away_logs_no_error_and_one_line_at_most(
    app, services, gql, clinic, caplog, accept, after
):
    """A subscriber closing its stream is normal: its watcher is released and nothing is logged as
    an error (uvicorn's own loggers included), at most one line."""
    watched = await create_session(gql, clinic, patients=[await clinic.add_patient()])
    body = {"query": SESSION_UPDATES, "variables": {"id": watched["id"]}}
    server_logs = logging.getLogger("uvicorn")  # does not propagate to the root logger caplog reads
    with caplog.at_level(logging.DEBUG):
        async with serve_in_process(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            server_logs.addHandler(caplog.handler)  # after uvicorn has configured its loggers
            try:
                async with client.stream("POST", "/graphql", json=body, headers=headers(accept)) as response:
                    messages = multipart_payloads(response) if accept == MULTIPART else sse_events(response)
                    assert "SNAPSHOT" in json.dumps(await anext(messages))
                    if after == "change":
                        mark = {"participantId": watched["roster"][0]["id"], "status": "LATE"}
                        await gql.execute(SET_ATTENDANCE, mark)
                        assert "ATTENDANCE_CHANGED" in json.dumps(await anext(messages))
                    assert services.hub.watcher_count == 1
                    before = len(caplog.records)
                # The client went away; the server lets the watcher go.
                for _ in range(200):
                    if services.hub.watcher_count == 0:
                        break
                    await asyncio.sleep(0.05)
                assert services.hub.watcher_count == 0
                await asyncio.sleep(0.2)  # anything logged while the stream unwinds
            finally:
                server_logs.removeHandler(caplog.handler)
    logged = [r for r in caplog.records[before:] if not r.name.startswith(("httpx", "httpcore"))]  # the client's
    assert all(r.levelno < logging.WARNING and r.exc_info is None for r in logged), caplog.text
    assert len(logged) <= 1, [r.getMessage() for r in logged]
    assert "Traceback" not in caplog.text
