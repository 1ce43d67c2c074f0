"""Plain leaf fields and lean resolvers (app.schema.plain_leaves) answer byte for byte as Strawberry's
and graphql-core's own path does: every query in examples/, the bench's documents, introspection,
documents made to fail (nulls in non-null fields, errors raised, unknown ids), and the session
watcher's and room display's subscriptions, run against the demo clinic by two apps on one
database, one of them built with `plain_leaves=False`."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

import app.main as main
from app.schema.plain_leaves import PLAN_KEY, complete_plain_leaf, plan_plain_leaves
from app.schema.root import build_schema
from bench.history import HISTORY
from bench.scenarios import DETAIL, LIST
from bench.watchers import SUBSCRIPTION
from tests.conftest import GRAPHQL_ACCEPT, make_token, started
from tests.test_examples import demo  # noqa: F401 - the demo clinic fixture

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DISPLAY_JS = Path(__file__).resolve().parent.parent / "app" / "http" / "assets" / "display" / "display.js"


@pytest.fixture
async def field_by_field(settings, test_clock, monkeypatch) -> AsyncIterator:
    """A second app on the same database whose schema executes every field the usual way."""
    monkeypatch.setattr(main, "build_schema", partial(build_schema, plain_leaves=False))
    async with started(main.create_app(settings, clock=test_clock, background=False)) as application:
        yield application


def queries_of(text: str) -> bool:
    body = re.sub(r"#[^\n]*", "", text).strip()
    return not body.startswith(("mutation", "subscription"))


def documents() -> dict[str, str]:
    found = {
        str(path.relative_to(EXAMPLES)): path.read_text()
        for path in sorted(EXAMPLES.rglob("*.graphql"))
        if queries_of(path.read_text())
    }
    found.update({"bench detail": DETAIL, "bench list": LIST, "bench history": HISTORY})
    # made to fail: a field that raises for an unknown id, a non-null field under a null, bad input
    found["unknown node"] = (
        '{ node(id: "R3JvdXBTZXNzaW9uOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==") { id } }'
    )
    found["malformed id"] = '{ groupSession(id: "not-an-id") { id title } }'
    found["null under non-null"] = (
        "query($sessionId: ID!) { groupSession(id: $sessionId) { id groupNote { id text } } }"
    )
    return found


async def demo_values(gql, clock) -> dict[str, list]:
    """Values for the documents' variables, read from the demo (several of each, so sessions of
    every kind are compared)."""
    today = clock.now().date()
    window = {"from": (today - timedelta(days=60)).isoformat(), "to": (today + timedelta(days=60)).isoformat()}
    sessions = await gql.execute(
        "query($from: Date, $to: Date) { groupSessions(first: 60, filter: {from: $from, to: $to}) {"
        " edges { node { id group { id } facility { id } roster { id patient { id } } claims { id }"
        " billingPreview { payer { id } } } } } }",
        window,
    )
    nodes = [edge["node"] for edge in sessions["groupSessions"]["edges"]]
    assert len(nodes) >= 10, "the demo has sessions"
    return {
        "sessionId": [n["id"] for n in nodes],
        "id": [n["id"] for n in nodes],
        "groupId": sorted({n["group"]["id"] for n in nodes}),
        "facilityId": sorted({n["facility"]["id"] for n in nodes}),
        "patientId": sorted({r["patient"]["id"] for n in nodes for r in n["roster"]})[:12],
        "patient": sorted({r["patient"]["id"] for n in nodes for r in n["roster"]})[:6],
        "participantId": [r["id"] for n in nodes for r in n["roster"]][:6],
        "claimId": [c["id"] for n in nodes for c in n["claims"]][:8],
        "payerId": sorted({n["billingPreview"]["payer"]["id"] for n in nodes if n["billingPreview"]["payer"]}),
        "from": [window["from"]],
        "to": [window["to"]],
        "weekOf": [today.isoformat()],
        "first": [50],
        "withinDays": [30],
    }


def variable_sets(document: str, values: dict[str, list], limit: int = 12) -> list[dict]:
    names = sorted(set(re.findall(r"\$(\w+)\s*:", document)))
    choices = [values.get(name, [None]) for name in names]
    combos = itertools.islice(itertools.product(*choices), 10_000)
    picked = list(combos)
    # every value of the first variable at least once, within the limit
    step = max(1, len(picked) // limit)
    return [dict(zip(names, combo, strict=True)) for combo in picked[::step][:limit]] or [{}]


async def post(client: httpx.AsyncClient, document: str, variables: dict) -> bytes:
    response = await client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {make_token()}", "Accept": GRAPHQL_ACCEPT},
    )
    return response.content


async def test_every_query_answers_byte_for_byte_as_field_by_field_execution(
    http, gql, demo, field_by_field, test_clock
):
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=field_by_field), base_url="http://test")
    values = await demo_values(gql, test_clock)
    compared, with_errors = 0, 0
    for name, document in documents().items():
        for variables in variable_sets(document, values):
            planned = await post(http, document, variables)
            usual = await post(other, document, variables)
            assert planned == usual, f"{name} {variables}:\n{planned[:2000]!r}\n{usual[:2000]!r}"
            compared += 1
            with_errors += b'"errors"' in planned
    print("compared", compared, "with errors", with_errors)
    assert compared >= 60, compared
    assert with_errors >= 3, "the documents made to fail did fail"


async def first_messages(app, document: str, variables: dict, token: str, count: int = 1) -> list[dict]:
    transport = ASGIWebSocketTransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        aconnect_ws("http://test/graphql", client, subprotocols=["graphql-transport-ws"]) as socket,
    ):
        await socket.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": document, "variables": variables}})
        return [await socket.receive_json() for _ in range(count)]


def without_times(message: dict) -> str:
    """The message with its `at` (when it was built) left out: the rest must match byte for byte."""
    text = json.dumps(message, sort_keys=True)
    return re.sub(r'"at": "[^"]*"', '"at": null', text)


async def test_subscriptions_snapshot_as_field_by_field_execution(app, gql, demo, field_by_field, test_clock):
    values = await demo_values(gql, test_clock)
    session_updates = (EXAMPLES / "room-display" / "session_updates.graphql").read_text()
    display = re.findall(r"`(subscription RoomDisplay \{.*?)`", DISPLAY_JS.read_text(), re.S)
    assert len(display) == 2, "the display page's two subscriptions"
    for session_id in values["sessionId"][:8]:
        for document, variables in ((session_updates, {"sessionId": session_id}), (SUBSCRIPTION, {"id": session_id})):
            planned = await first_messages(app, document, variables, make_token())
            usual = await first_messages(field_by_field, document, variables, make_token())
            assert planned[0]["type"] == "next", planned
            assert without_times(planned[0]) == without_times(usual[0])


def test_a_plain_leaf_leaves_every_unusual_value_to_the_usual_path():
    """Table: what `complete_plain_leaf` answers itself, and what it hands back (NOT_PLAIN)."""
    from graphql import GraphQLString
    from graphql.pyutils import Undefined

    from app.schema.plain_leaves import NOT_PLAIN

    async def coroutine():
        return "x"

    def raises(_):
        raise ValueError("no")

    awaitable = coroutine()
    rows = [
        # getter, non-null, expected
        (lambda _: "a", True, "a"),
        (lambda _: 3, False, "3"),
        (lambda _: None, False, None),
        (lambda _: Undefined, False, None),
        (lambda _: None, True, NOT_PLAIN),  # the usual path raises "Cannot return null"
        (raises, False, NOT_PLAIN),
        (lambda _: ValueError("returned"), False, NOT_PLAIN),
        (lambda _: awaitable, False, NOT_PLAIN),
        (lambda _: object(), False, NOT_PLAIN),  # String cannot represent it: the usual path says so
    ]
    for getter, non_null, expected in rows:
        plan = (getter, GraphQLString.coerce_output_value, non_null)
        got = complete_plain_leaf(plan, object(), lambda value: hasattr(value, "__await__"))
        assert got is expected or got == expected, (getter, got)


def test_the_plan_covers_the_pages_leaves_and_none_with_arguments_or_extensions():
    schema = build_schema()
    graphql_schema = schema._schema
    session = graphql_schema.type_map["GroupSession"]
    assert PLAN_KEY in session.fields["id"].extensions  # a resolver of the parent alone
    assert PLAN_KEY in session.fields["title"].extensions  # an attribute
    assert PLAN_KEY not in session.fields["status"].extensions  # it needs the clock (info)
    for named in graphql_schema.type_map.values():
        for field in getattr(named, "fields", {}).values() if hasattr(named, "fields") else ():
            if field.extensions and PLAN_KEY in field.extensions:
                definition = field.extensions["strawberry-definition"]
                assert not definition.arguments and not definition.extensions
    # a schema with an exception handler plans nothing
    assert plan_plain_leaves(build_schema(plain_leaves=False)._schema, has_exception_handlers=True) == 0
