"""The query cost limit, the per-request connection cap and a busy pool (rules.md §11): a document
that fans out is refused before any SQL, one request cannot take every connection, and a request
that finds no connection free answers a retryable error, never INTERNAL."""

from __future__ import annotations

import asyncio
import contextlib
import re

import asyncpg
import httpx
import pytest
from graphql import parse
from sqlalchemy import event

import bench.scenarios
import bench.watchers
from app.schema.cost import MAX_COST, query_cost
from app.schema.root import schema
from tests.conftest import ROOT, asyncpg_dsn, make_token
from tests.support.server import start_server

NESTED_SESSIONS = (
    "groupSessions(first: 100) { edges { node { roster { patient { charges { session { roster { id } } } } } } } }"
)
SESSIONS_FAN_OUT = "{ " + " ".join(f"s{i}: {NESTED_SESSIONS}" for i in range(30)) + " }"
# Three nested pages of 60: 216,000 occurrences from under 250 bytes.
OCCURRENCES_CUBED = """{ groups(first: 60) { edges { node { occurrences(first: 60) { edges { node { group {
  occurrences(first: 60) { edges { node { id sessionDate } } } } } } } } } } }"""


@contextlib.contextmanager
def statements_run(engine):
    """Counts the SQL statements the app sends while the block runs."""
    count = [0]

    def counted(*_args):
        count[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    try:
        yield count
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counted)


@pytest.mark.parametrize(
    "document", [SESSIONS_FAN_OUT, OCCURRENCES_CUBED], ids=["sessions-fan-out", "occurrences-cubed"]
)
async def test_a_fan_out_of_nested_lists_is_refused_before_any_sql(gql, services, document):
    with statements_run(services.engine) as statements:
        response = await gql.post(document)
    body = response.json()
    assert response.status_code == 400 and "data" not in body, body
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
    assert body["extensions"]["cost"]["requested"] > MAX_COST == body["extensions"]["cost"]["limit"]
    assert statements[0] == 0


async def test_every_response_reports_its_cost(gql, clinic):
    viewer = (await gql.post("{ viewer { subject facilities { id } } }")).json()
    assert viewer["extensions"]["cost"] == {"requested": 1 + 10, "limit": MAX_COST}  # a viewer, up to 10 facilities
    page = (await gql.post("{ groups(first: 20) { totalCount edges { node { id name } } } }")).json()
    assert page["extensions"]["cost"] == {"requested": 1 + 20 + 20, "limit": MAX_COST}
    default_page = (await gql.post("{ patients { edges { node { id } } } }")).json()
    assert default_page["extensions"]["cost"]["requested"] == 1 + 50 + 50
    created = (await gql.post('mutation { createPayer(input: {name: "P", payerCode: "PCOST"}) { id } }')).json()
    assert "errors" not in created and created["extensions"]["cost"]["requested"] == 1
    variables = (await gql.post("query($n: Int) { groups(first: $n) { edges { node { id } } } }", {"n": 7})).json()
    assert variables["extensions"]["cost"]["requested"] == 1 + 7 + 7


def _repository_documents() -> dict[str, str]:
    documents = {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "examples").rglob("*.graphql"))}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        blocks = re.findall(r"```graphql\n(.*?)```", page.read_text(), re.S)
        documents.update({f"{page.relative_to(ROOT)} #{i}": block for i, block in enumerate(blocks)})
    for module in (bench.scenarios, bench.watchers):
        for name, value in vars(module).items():
            if (
                isinstance(value, str)
                and name.isupper()
                and value.lstrip().startswith(("query", "mutation", "subscription", "{"))
            ):
                documents[f"{module.__name__}.{name}"] = value
    return documents


def test_the_repositorys_own_documents_fit_the_limit_at_their_largest_pages():
    documents = _repository_documents()
    assert (
        len(documents) >= 15
        and any(k.startswith("bench.") for k in documents)
        and any(k.startswith("README") for k in documents)
        and any(k.startswith("docs/walkthroughs/") for k in documents)
    )
    costs = {}
    for name, text in documents.items():
        document = parse(text)
        for definition in document.definitions:
            operation = getattr(definition, "name", None)
            if getattr(definition, "operation", None) is None:
                continue
            costs[f"{name} {operation.value if operation else ''}"] = query_cost(
                schema._schema, document, operation.value if operation else None, {"first": 100}
            )
    assert {name: cost for name, cost in costs.items() if cost > MAX_COST} == {}


async def test_one_request_holds_at_most_its_share_of_the_pool(gql, services, clinic):
    """30 aliases each took a connection at once (30 of the pool's 30); now at most the cap, plus
    the one connection the request's batched loads share."""
    pool = services.engine.sync_engine.pool
    held, most = [0], [0]

    def checkout(*_args):
        held[0] += 1
        most[0] = max(most[0], held[0])

    def checkin(*_args):
        held[0] -= 1

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        document = (
            "{ "
            + " ".join(
                f"s{i}: groupSessions(first: 1) {{ totalCount edges {{ node {{ roster {{ id }} }} }} }}"
                for i in range(30)
            )
            + " }"
        )
        body = (await gql.post(document)).json()
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    assert "errors" not in body, body
    assert most[0] <= services.settings.db_connections_per_request + 1, most[0]


async def test_a_request_that_finds_no_free_connection_is_told_to_retry_never_internal(gql, clinic, database_url):
    """A real server with a pool of 1 (+2 overflow) and a 1 s wait; a table lock holds every
    connection that touches group sessions for 3 s. Eight clients with a 10-alias list, and another
    user reading patients: every one either gets its data or 503 Retry-After with a retryable
    CONFLICT; once the lock is gone, the same request succeeds."""
    aliases = "{ " + " ".join(f"s{i}: groupSessions(first: 1) {{ totalCount }}" for i in range(10)) + " }"
    other_user = "{ patients(first: 1) { totalCount } }"
    env = {"GS_DB_POOL_SIZE": "1", "GS_DB_POOL_TIMEOUT": "1"}
    async with start_server(database_url, env) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        headers = {"Authorization": f"Bearer {make_token()}"}
        locker = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            locking = locker.transaction()
            await locking.start()
            await locker.execute("LOCK TABLE group_sessions IN ACCESS EXCLUSIVE MODE")
            requests = [http.post("/graphql", json={"query": aliases}, headers=headers) for _ in range(8)]
            requests.append(http.post("/graphql", json={"query": other_user}, headers=headers))
            pending = asyncio.gather(*requests)
            await asyncio.sleep(3)
            await locking.rollback()
            responses = await pending
        finally:
            await locker.close()
        busy = 0
        for response in responses:
            body = response.json()
            if not body.get("errors"):
                assert response.status_code == 200
                continue
            busy += 1
            assert response.status_code == 503 and response.headers["retry-after"] == "2", body
            assert {(e["extensions"]["code"], e["extensions"].get("retryable")) for e in body["errors"]} == {
                ("CONFLICT", True)
            }, body
        assert busy >= 1, "the lock held every connection for longer than the pool wait"
        again = await http.post("/graphql", json={"query": other_user}, headers=headers)
        assert again.status_code == 200 and "errors" not in again.json()
