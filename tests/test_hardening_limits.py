"""Query limits (rules.md §11) against hostile documents and bodies: each one is answered quickly
with QUERY_TOO_COMPLEX or BAD_USER_INPUT, never INTERNAL or a 5xx, and the server keeps serving."""

from __future__ import annotations

import json
import time

import pytest
from graphql import get_introspection_query

from app.schema.root import MAX_ALIASES, MAX_DEPTH, schema
from tests.support.builders_enrollment import make_group
from tests.support.webhooks import register

QUICK = 2.0  # seconds: a refusal must not cost the server real work


async def refused(gql, document: str, variables: dict | None = None) -> tuple[int, str, str]:
    """(status, code, message) of a document the server must refuse quickly."""
    started = time.monotonic()
    response = await gql.post(document, variables)
    elapsed = time.monotonic() - started
    body = response.json()
    assert body.get("errors"), body
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert "INTERNAL" not in codes and response.status_code < 500, body
    assert elapsed < QUICK, f"refusal took {elapsed:.1f}s"
    return response.status_code, body["errors"][0]["extensions"]["code"], body["errors"][0]["message"]


async def assert_still_serving(gql) -> None:
    assert (await gql.execute("{ viewer { subject } }"))["viewer"]["subject"] == "tester"


LEAF = {"groups": "totalCount", "edges": "cursor", "node": "id", "enrollments": "totalCount", "group": "id"}


def query_of_depth(depth: int) -> str:
    """groups → edges → node → enrollments → edges → node → group → … with a leaf at `depth`
    (pages of two, so that the cost limit stays out of the way)."""
    path = (["groups", "edges", "node"] + ["enrollments", "edges", "node", "group"] * depth)[: depth - 1]
    document = LEAF[path[-1]]
    for name in reversed(path):
        paged = f"{name}(first: 2)" if name in ("groups", "enrollments") else name
        document = f"{paged} {{ {document} }}"
    return f"{{ {document} }}"


# ------------------------------------------------------------------ depth


async def test_depth_at_the_limit_is_served_and_one_more_level_is_refused(gql):
    # Depth counts the levels below the root field (graphql-depth-limit's convention, which
    # strawberry's QueryDepthLimiter follows): the root field plus 12 levels.
    assert "errors" not in (await gql.post(query_of_depth(MAX_DEPTH + 1))).json()
    status, code, message = await refused(gql, query_of_depth(MAX_DEPTH + 2))
    assert (status, code) == (400, "QUERY_TOO_COMPLEX")
    assert str(MAX_DEPTH) in message


async def test_fragment_spreads_cannot_dodge_the_depth_limit(gql):
    document = """
    { groups { edges { node { ...G } } } }
    fragment G on GroupDefinition { enrollments { edges { node { group { ...H } } } } }
    fragment H on GroupDefinition { enrollments { edges { node { group { ...I } } } } }
    fragment I on GroupDefinition { enrollments { edges { node { group { id } } } } }
    """
    assert (await refused(gql, document))[:2] == (400, "QUERY_TOO_COMPLEX")


async def test_inline_fragments_cannot_dodge_the_depth_limit(gql):
    inner = "id"
    for _ in range(4):
        inner = f"... on GroupDefinition {{ enrollments {{ edges {{ node {{ group {{ {inner} }} }} }} }} }}"
    document = f"{{ groups {{ edges {{ node {{ {inner} }} }} }} }}"
    assert (await refused(gql, document))[:2] == (400, "QUERY_TOO_COMPLEX")


async def test_a_fragment_cycle_is_bad_user_input(gql):
    document = "{ viewer { ...A } } fragment A on Viewer { subject ...B } fragment B on Viewer { ...A }"
    status, code, message = await refused(gql, document)
    assert (status, code) == (400, "BAD_USER_INPUT")
    assert "within itself" in message


async def test_fragment_fan_out_is_refused_before_validation_explodes(gql):
    """Each fragment spreads the next twice: 2^22 fields once expanded, from a 1 KB document.
    Expanding it (as the depth and alias validators do) takes the event loop for seconds."""
    levels = 22
    document = (
        "{ viewer { ...F0 } } "
        + " ".join(f"fragment F{i} on Viewer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
        + f" fragment F{levels} on Viewer {{ subject }}"
    )
    status, code, message = await refused(gql, document)
    assert (status, code) == (400, "QUERY_TOO_COMPLEX")
    await assert_still_serving(gql)


async def test_fan_out_of_real_fields_is_refused(gql):
    """The same explosion through nested object fields rather than one scalar."""
    document = (
        "{ groups { edges { node { ...F0 } } } } "
        + " ".join(
            f"fragment F{i} on GroupDefinition {{ ...F{i + 1} facility {{ id }} ...F{i + 1} }}" for i in range(20)
        )
        + " fragment F20 on GroupDefinition { id name }"
    )
    assert (await refused(gql, document))[:2] == (400, "QUERY_TOO_COMPLEX")


async def test_introspection_recursion_is_query_too_complex(gql):
    inner = "name"
    for _ in range(8):
        inner = f"fields {{ type {{ {inner} }} }}"
    status, code, _ = await refused(gql, f"{{ __schema {{ types {{ {inner} }} }} }}")
    assert (status, code) == (400, "QUERY_TOO_COMPLEX")


async def test_the_standard_introspection_query_is_served(gql):
    """Integrators and GraphiQL use it; its ofType chain is deeper than 12 on purpose."""
    started = time.monotonic()
    data = await gql.execute(get_introspection_query(descriptions=True))
    assert time.monotonic() - started < QUICK
    assert {t["name"] for t in data["__schema"]["types"]} >= {"Query", "Mutation", "Subscription", "GroupSession"}


async def test_a_long_oftype_chain_ends_with_the_schema(gql):
    """Wrapping types nest at most three deep ([X!]!), so a longer ofType chain is answered with nulls, fast."""
    inner = "name"
    for _ in range(30):
        inner = f"ofType {{ {inner} }}"
    started = time.monotonic()
    await gql.execute(f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}")
    assert time.monotonic() - started < QUICK


# ------------------------------------------------------------ aliases, tokens


async def test_aliases_hidden_in_a_fragment_are_counted(gql):
    aliases = " ".join(f"a{i}: subject" for i in range(MAX_ALIASES + 10))
    document = f"{{ viewer {{ ...F }} }} fragment F on Viewer {{ {aliases} }}"
    assert (await refused(gql, document))[:2] == (400, "QUERY_TOO_COMPLEX")


async def test_aliases_spread_over_fragments_are_counted(gql):
    fragments = " ".join(
        f"fragment F{i} on Query {{ " + " ".join(f"f{i}_{j}: viewer {{ subject }}" for j in range(8)) + " }"
        for i in range(5)
    )
    document = "{ " + " ".join(f"...F{i}" for i in range(5)) + " } " + fragments
    assert (await refused(gql, document))[:2] == (400, "QUERY_TOO_COMPLEX")


async def test_a_huge_list_of_variable_definitions_hits_the_token_limit(gql):
    definitions = ", ".join(f"$v{i}: Int" for i in range(3000))
    assert (await refused(gql, f"query({definitions}) {{ viewer {{ subject }} }}"))[:2] == (400, "QUERY_TOO_COMPLEX")


async def test_directive_spam_hits_the_token_limit(gql):
    document = "{ viewer { subject " + "@include(if: true) " * 1000 + "} }"
    assert (await refused(gql, document))[:2] == (400, "QUERY_TOO_COMPLEX")


async def test_repeating_one_field_thousands_of_times_is_refused_quickly(gql):
    status, code, _ = await refused(gql, "{ viewer { " + " subject" * 4000 + " } }")
    assert status == 400 and code in {"QUERY_TOO_COMPLEX", "BAD_USER_INPUT"}


async def test_many_unused_variables_are_refused_by_the_body_limit(gql):
    response = await gql.post("{ viewer { subject } }", {f"v{i}": i for i in range(30_000)})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# ----------------------------------------------------------- `first` caps


def connection_fields() -> list[tuple[str, str]]:
    """(type, field) of every field in the schema that takes `first`."""
    found = []
    for type_name, graphql_type in schema._schema.type_map.items():
        fields = getattr(graphql_type, "fields", None)
        if type_name.startswith("__") or not fields or not hasattr(graphql_type, "interfaces"):
            continue
        found.extend((type_name, name) for name, field in fields.items() if "first" in field.args)
    return sorted(found)


FIRST_DOCUMENTS = {
    ("Query", "patients"): "query($first: Int) { patients(first: $first) { totalCount } }",
    ("Query", "groups"): "query($first: Int) { groups(first: $first) { totalCount } }",
    ("Query", "groupSessions"): "query($first: Int) { groupSessions(first: $first) { totalCount } }",
    ("Query", "integrationEvents"): "query($first: Int) { integrationEvents(first: $first) { totalCount } }",
    (
        "GroupDefinition",
        "occurrences",
    ): "query($first: Int, $id: ID!) { group(id: $id) { occurrences(first: $first) { totalCount } } }",
    (
        "GroupDefinition",
        "enrollments",
    ): "query($first: Int, $id: ID!) { group(id: $id) { enrollments(first: $first) { totalCount } } }",
    (
        "Query",
        "patientAttendance",
    ): "query($first: Int, $patient: ID!) { patientAttendance(patientId: $patient, first: $first) { totalCount } }",
    (
        "Patient",
        "attendance",
    ): "query($first: Int, $patient: ID!) { node(id: $patient) { ... on Patient { attendance(first: $first) { totalCount } } } }",
    (
        "Query",
        "patientsAtRisk",
    ): "query($first: Int, $facility: ID!) { patientsAtRisk(facilityId: $facility, first: $first) { totalCount } }",
    ("Query", "calendarFeeds"): "query($first: Int) { calendarFeeds(first: $first) { totalCount } }",
    ("Query", "displays"): "query($first: Int) { displays(first: $first) { totalCount } }",
    ("Query", "staff"): "query($first: Int) { staff(first: $first) { totalCount } }",
    ("Query", "staffAssignments"): "query($first: Int) { staffAssignments(first: $first) { totalCount } }",
    (
        "GroupDefinition",
        "enrollmentHistory",
    ): "query($first: Int, $id: ID!) { group(id: $id) { enrollmentHistory(first: $first) { totalCount } } }",
    (
        "GroupDefinition",
        "auditLog",
    ): "query($first: Int, $id: ID!) { group(id: $id) { auditLog(first: $first) { totalCount } } }",
    (
        "GroupSession",
        "auditLogPage",
    ): "query($first: Int, $session: ID!) { node(id: $session) { ... on GroupSession { auditLogPage(first: $first) { totalCount } } } }",
    ("Query", "webhookEndpoints"): "query($first: Int) { webhookEndpoints(first: $first) { totalCount } }",
    ("Query", "ediFiles"): "query($first: Int) { ediFiles(first: $first) { totalCount } }",
    ("Query", "claimBatches"): "query($first: Int) { claimBatches(first: $first) { totalCount } }",
    ("Query", "rejectedClaims"): "query($first: Int) { rejectedClaims(first: $first) { totalCount } }",
    ("Query", "deniedClaims"): "query($first: Int) { deniedClaims(first: $first) { totalCount } }",
    (
        "Query",
        "sessionsAwaitingFinalization",
    ): "query($first: Int) { sessionsAwaitingFinalization(first: $first) { totalCount } }",
    ("Query", "sessionsClosedUnmarked"): "query($first: Int) { sessionsClosedUnmarked(first: $first) { totalCount } }",
    (
        "Query",
        "claimsNearingFilingLimit",
    ): "query($first: Int) { claimsNearingFilingLimit(first: $first) { totalCount } }",
    (
        "WebhookEndpoint",
        "deliveries",
    ): "query($first: Int, $endpoint: ID!) { node(id: $endpoint) { ... on WebhookEndpoint { deliveries(first: $first) { totalCount } } } }",
}


def test_every_paged_field_has_a_first_cap_case():
    assert connection_fields() == sorted(FIRST_DOCUMENTS), "a new paged field needs a case in FIRST_DOCUMENTS"


@pytest.mark.parametrize("where", sorted(FIRST_DOCUMENTS), ids=lambda w: ".".join(w))
async def test_first_is_capped_at_100_on_every_paged_field(gql, clinic, where):
    group = await make_group(gql, clinic)
    document = FIRST_DOCUMENTS[where]
    records = {
        name: value
        for name, value in {"id": group, "patient": await clinic.add_patient(), "facility": clinic.facility_id}.items()
        if f"${name}:" in document
    }
    if "$session:" in document:
        from tests.support.builders_sessions import create_session

        records["session"] = (await create_session(gql, clinic))["id"]
    if "$endpoint:" in document:
        records["endpoint"] = (await register(gql, "http://127.0.0.1:9/hooks", ["pm_group_session_scheduled"]))[0]
    assert "errors" not in (await gql.post(document, {"first": 100, **records})).json()
    for first in (101, -1, 2**31 - 1):
        status, code, _ = await refused(gql, document, {"first": first, **records})
        assert code == "BAD_USER_INPUT"
    status, code, _ = await refused(gql, document, {"first": 2**31, **records})  # not an Int at all
    assert (status, code) == (400, "BAD_USER_INPUT")


# ------------------------------------------------------------------ bodies


def _raw(gql, content: bytes | str, content_type: str = "application/json"):
    headers = {"Authorization": f"Bearer {gql.token}", "Content-Type": content_type}
    return gql.http.post("/graphql", content=content, headers=headers)


async def test_a_deeply_nested_json_body_is_bad_user_input(gql):
    body = b'{"query": "{ viewer { subject } }", "variables": {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    response = await _raw(gql, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_still_serving(gql)


async def test_deeply_nested_variables_in_a_get_query_string_are_bad_user_input(gql):
    response = await gql.http.get(
        "/graphql",
        params={"query": "{ viewer { subject } }", "variables": "[" * 5000 + "]" * 5000},
        headers={"Authorization": f"Bearer {gql.token}", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_deeply_nested_list_variable_is_bad_user_input(gql, clinic):
    nested: object = clinic.patients or ["x"]
    for _ in range(500):
        nested = [nested]
    document = """mutation($ids: [ID!]!, $f: ID!) { createGroupSession(input: {facilityId: $f, groupType: THERAPY,
      title: "t", startsAt: "2026-03-10T09:00:00-07:00", endsAt: "2026-03-10T10:00:00-07:00", patientIds: $ids}) { id } }"""
    status, code, _ = await refused(gql, document, {"ids": nested, "f": clinic.facility_id})
    assert (status, code) == (400, "BAD_USER_INPUT")


@pytest.mark.parametrize(
    "body",
    [
        b'"hello"',
        b"5",
        b"null",
        b"true",
        b'{"query": 5}',
        b'{"query": "{ viewer { subject } }", "variables": [1]}',
        b"\xff\xfe",
        b"{",
        b"",
    ],
    ids=[
        "string",
        "number",
        "null",
        "bool",
        "query-not-string",
        "variables-not-object",
        "not-utf8",
        "truncated",
        "empty",
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_bad_user_input(gql, body):
    response = await _raw(gql, body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_batch_array_is_refused_with_a_clear_error(gql):
    response = await _raw(gql, json.dumps([{"query": "{ viewer { subject } }"}] * 3))
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "atch" in error["message"]


async def test_an_unsupported_content_type_is_bad_user_input(gql):
    response = await _raw(gql, "query=%7Bviewer%7Bsubject%7D%7D", "application/x-www-form-urlencoded")
    assert response.status_code in (400, 415)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_chunked_body_over_the_limit_is_refused(gql):
    """No Content-Length: the limit must hold while reading, not only on the header."""

    async def chunks():
        yield b'{"query": "{ viewer { subject } }", "variables": {"pad": "'
        for _ in range(400):
            yield b"x" * 1024
        yield b'"}}'

    response = await gql.http.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_chunked_body_under_the_limit_is_served(gql):
    async def chunks():
        yield b'{"query": "{ viewer '
        yield b'{ subject } }"}'

    response = await gql.http.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json"},
    )
    assert response.json()["data"] == {"viewer": {"subject": "tester"}}


async def test_an_oversized_body_with_an_idempotency_key_is_refused(gql):
    response = await gql.post(
        'mutation { createPayer(input: {name: "p", payerCode: "P1"}) { id } }',
        {"pad": "x" * 300_000},
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status_code == 413


async def test_a_deeply_nested_body_with_an_idempotency_key_is_bad_user_input(gql):
    body = b'{"query": "mutation { x }", "variables": {"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}"
    headers = {"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json", "Idempotency-Key": "k-2"}
    response = await gql.http.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# ------------------------------------------------------------ subscriptions


async def test_a_subscription_document_obeys_the_same_limits(ws):
    levels = 22
    document = (
        "subscription($id: ID!) { sessionUpdates(sessionId: $id) { session { ...F0 } } } "
        + " ".join(f"fragment F{i} on GroupSession {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
        + f" fragment F{levels} on GroupSession {{ id }}"
    )
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        started = time.monotonic()
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": document, "variables": {"id": "x"}}}
        )
        message = await socket.receive_json()
        assert time.monotonic() - started < QUICK
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_websocket_message_that_is_not_json_closes_the_socket_with_4400(ws):
    from httpx_ws import WebSocketDisconnect

    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_text("{" * 50_000)
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive_json()
    assert closed.value.code == 4400


async def test_operations_past_the_per_socket_limit_are_refused_with_a_code(ws, gql, clinic):
    from tests.support.builders_sessions import create_session

    session = await create_session(gql, clinic, patients=[])
    subscription = "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind } }"
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        for i in range(100):
            await socket.send_json(
                {
                    "id": str(i),
                    "type": "subscribe",
                    "payload": {"query": subscription, "variables": {"id": session["id"]}},
                }
            )
            assert (await socket.receive_json())["type"] == "next"
        await socket.send_json(
            {
                "id": "one-too-many",
                "type": "subscribe",
                "payload": {"query": subscription, "variables": {"id": session["id"]}},
            }
        )
        refused = await socket.receive_json()
    assert refused["type"] == "error" and refused["id"] == "one-too-many"
    assert refused["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def padded_subscribe(size: int) -> str:
    """A valid subscribe message of about `size` bytes (a trivial query padded with spaces)."""
    query = "query { viewer { subject } }"
    return json.dumps({"id": "big", "type": "subscribe", "payload": {"query": query + " " * (size - len(query))}})


async def test_a_websocket_message_over_the_body_limit_closes_the_socket_unread(ws):
    """The same 256 KB as an HTTP body; before, a 10 MB document ran."""
    from httpx_ws import WebSocketDisconnect

    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_text(padded_subscribe(256 * 1024 - 200))
        assert (await socket.receive_json())["type"] == "next"  # just under the limit: served
        await socket.send_text(padded_subscribe(10 * 1024 * 1024))
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                await socket.receive_json(timeout=10)  # the document is served until the socket closes
    assert closed.value.code == 4400


FLOOD = """
import asyncio, json, sys, websockets

async def flood(url, auth, message):
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_size=None) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": auth}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        try:
            await socket.send(message)
            while True:
                await asyncio.wait_for(socket.recv(), 30)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
    return 0

async def main(url, token, count, size):
    query = "query { viewer { subject } }"
    message = json.dumps({"id": "big", "type": "subscribe", "payload": {"query": query + " " * size}})
    auth = {"Authorization": "Bearer " + token}
    print(json.dumps(await asyncio.gather(*(flood(url, auth, message) for _ in range(count)))))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
"""


async def test_ten_huge_websocket_messages_do_not_stall_a_real_server(database_url):
    """Against a real server, from another process: ten sockets each sending a 15 MB document are
    closed (1009, the server reads no further) while another client's query keeps answering."""
    import asyncio
    import sys

    import httpx

    from tests.conftest import make_token
    from tests.support.server import start_server

    async with start_server(database_url) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        ws_url = base_url.replace("http://", "ws://") + "/graphql"
        token = make_token()
        flood = await asyncio.create_subprocess_exec(
            sys.executable, "-c", FLOOD, ws_url, token, "10", str(15 * 1024 * 1024), stdout=asyncio.subprocess.PIPE
        )
        finished = asyncio.ensure_future(flood.communicate())
        longest = 0.0
        while not finished.done():
            started = time.monotonic()
            body = (
                await http.post(
                    "/graphql", json={"query": "{ viewer { subject } }"}, headers={"Authorization": f"Bearer {token}"}
                )
            ).json()
            assert body["data"]["viewer"]["subject"] == "tester"
            longest = max(longest, time.monotonic() - started)
            await asyncio.sleep(0.02)
        output, _ = await finished
    assert json.loads(output) == [1009] * 10, output
    assert longest < 1.0, f"another client waited {longest:.2f}s"
