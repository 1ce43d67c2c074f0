"""Test harness: a real PostgreSQL (embedded unless TEST_DATABASE_URL/DATABASE_URL is set),
a fresh database per test run, clean data per test, and GraphQL clients over HTTP and websocket
that talk to the real ASGI app."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from app.auth import ALL_SCOPES, mint_token
from app.clock import Clock
from app.config import Settings
from app.db.embedded import EmbeddedPostgres
from app.db.migrate import upgrade
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-" + "x" * 32
KEEP_TABLES = {"alembic_version", "compliance_thresholds", "absence_thresholds"}


# Under pytest-xdist the controller starts the embedded PostgreSQL once and hands its URL to the
# workers here; each worker then makes a database of its own on it (see `database_url`).
SHARED_SERVER = "GS_TEST_SHARED_SERVER_URL"
_EMBEDDED = pytest.StashKey[EmbeddedPostgres]()


def _server_url() -> tuple[str, EmbeddedPostgres | None]:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or os.environ.get(SHARED_SERVER)
    if url:
        return url, None
    embedded = EmbeddedPostgres(ROOT / ".data" / "test")
    return embedded.start(), embedded


def pytest_configure(config: pytest.Config) -> None:
    """With workers (`-n`), the embedded server starts here, in the controller, before any worker
    does, and stops when the whole run ends (not when the first worker is done)."""
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        return
    url, embedded = _server_url()
    if embedded is not None:
        config.stash[_EMBEDDED] = embedded
        os.environ[SHARED_SERVER] = url


# The modules whose tests take longest (browsers, server processes, node, the fuzzer), longest first, are handed
# to the workers before the rest: the two workers then finish together, instead of one running a long test
# alone at the end while the other has nothing left. Their own order, and every other module's, is kept.
SLOW_FIRST = (
    "test_display_browser",
    "test_fuzz",
    "test_live_sequence",
    "test_live_group_sequence",
    "test_webhooks",
    "test_live_multiprocess",
    "test_walkthroughs",
    "test_real_clients",
    "test_faults",
    "test_cli",
    "test_live",
    "test_claim_content",
    "test_payer_answers",
    "test_fhir",
    "test_examples",
    "test_readme",
    "test_integrator_docs",
    "test_privacy",
    "test_enrollment_concurrency",
    "test_read_cache",
    "test_graphiql_browser",
    "test_calendar_feeds",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(SLOW_FIRST)}
    items.sort(
        key=lambda item: rank.get(item.nodeid.partition("::")[0].rpartition("/")[2].removesuffix(".py"), len(rank))
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    embedded = config.stash.get(_EMBEDDED, None)
    if embedded is not None:
        os.environ.pop(SHARED_SERVER, None)
        embedded.stop()


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    server, embedded = _server_url()
    name = f"gs_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(asyncpg_dsn(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    # A commit need not wait for the disk: the database is dropped at the end of the run, and no test
    # stops PostgreSQL itself (what is committed is seen at once, as with the default).
    await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    await admin.close()
    url = _with_database(server, name)
    await asyncio.to_thread(upgrade, url)
    try:
        yield url
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(server))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if embedded is not None:
            embedded.stop()


@pytest.fixture(scope="session")
def test_clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        broadcast_url="memory://",
        jwt_secret=SECRET,
        billing_sweep_seconds=0,
        allowed_origins=("*",),
        dev=True,
        db_pool_size=10,
        display_codes_per_client=100_000,  # every test's screens ask from 127.0.0.1
        # The tests' webhook receivers listen on loopback; retries come within seconds, not hours.
        webhook_allowed_networks=("127.0.0.0/8",),
        webhook_timeout_seconds=2.0,
        webhook_retry_base_seconds=0.2,
        webhook_max_attempts=4,
    )


@asynccontextmanager
async def started(application):
    """The app with its lifespan entered. Entered directly: anyio cancel scopes (LifespanManager)
    cannot span the separate tasks pytest-asyncio uses for a fixture's setup and teardown."""
    lifespan = application.router.lifespan_context(application)
    await lifespan.__aenter__()
    try:
        yield application
    finally:
        await lifespan.__aexit__(None, None, None)


@pytest.fixture(scope="session")
async def app(settings: Settings, test_clock: Clock):
    async with started(create_app(settings, clock=test_clock, background=False)) as application:
        yield application


@pytest.fixture(scope="session")
def services(app):
    return app.state.services


@pytest.fixture(autouse=True)
async def clean_data(request, test_clock: Clock) -> AsyncIterator[None]:
    """Every test starts from empty tables (reference thresholds kept) and the real time. Before the tables
    are emptied, every 837P the test made is read as a clearinghouse would (`stored_837p_problems`), and every
    270 and 271 kept is read by pyx12 (`stored_eligibility_problems`)."""
    yield
    test_clock.reset()
    if "database_url" not in request.fixturenames:
        return
    url = request.getfixturevalue("database_url")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    rejected: list[str] = []
    invalid: list[str] = []
    try:
        rejected = await stored_837p_problems(conn)
        invalid = await stored_eligibility_problems(conn)
        emptying = _EMPTYING.get(url) or await _emptying(conn)
        _EMPTYING[url] = emptying
        # A live server a module shares (tests/test_real_clients.py and the like) can still be
        # finishing a feed consumer's transaction when the test ends; the locks wait for it, and
        # PostgreSQL may pick this transaction as the deadlock victim. The other one is short: try again.
        for attempt in range(10):
            try:
                async with conn.transaction():
                    await conn.execute(emptying)
                break
            except asyncpg.exceptions.DeadlockDetectedError:
                if attempt == 9:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
    finally:
        await conn.close()
    if rejected:
        pytest.fail("An 837P the test made would be rejected at the front end:\n" + "\n".join(rejected))
    if invalid:
        pytest.fail("A 270 or 271 the test kept is not valid 005010X279A1:\n" + "\n".join(invalid))


async def stored_837p_problems(conn: asyncpg.Connection) -> list[str]:
    """Every claim's 837P in the database, read by the front end's checks, pyx12 and node-x12: no finding at
    the rejection level is allowed in any file the service writes."""
    # pyx12 and node are started only where claims were written.
    from tests.support.x12 import claim_file_problems, node_x12_problems

    rows = await conn.fetch("SELECT claim_number, edi837 FROM claims WHERE edi837 IS NOT NULL ORDER BY claim_number")
    if not rows:
        return []
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    second_reader = await asyncio.to_thread(node_x12_problems, [row["edi837"] for row in rows])
    return [
        f"{row['claim_number']}: {problem}"
        for row, other in zip(rows, second_reader, strict=True)
        for problem in claim_file_problems(row["edi837"]) + other
    ]


async def stored_eligibility_problems(conn: asyncpg.Connection) -> list[str]:
    """Every eligibility check's 270 (sent) and 271 (received), read by pyx12 with the 005010X279A1 maps of
    tests/support/x279_maps.py: both sides of every exchange the service kept are valid."""
    rows = await conn.fetch("SELECT id, inquiry, response FROM eligibility_checks ORDER BY checked_at, id")
    if not rows:
        return []
    from tests.support.x12 import pyx12_errors

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)

    def read() -> list[str]:
        return [
            f"eligibility check {row['id']} {side}: {problem}"
            for row in rows
            for side in ("inquiry", "response")
            for problem in pyx12_errors(row[side])
        ]

    return await asyncio.to_thread(read)


_EMPTYING: dict[str, str] = {}


async def _emptying(conn: asyncpg.Connection) -> str:
    """What `TRUNCATE <every table but KEEP_TABLES> RESTART IDENTITY CASCADE` does, as row deletes:
    the same tables emptied (a kept table that references an emptied one too, as CASCADE would), the
    same locks taken first, the same sequences restarted. On tables of a few rows a DELETE takes a
    millisecond where TRUNCATE takes a third of a second (it replaces every table's and index's files).
    Deleting in any order needs the foreign keys' triggers off (session_replication_role, a
    superuser's setting, left on to the end of the transaction); a role that may not set it gets the TRUNCATE."""
    emptied = await emptied_tables(conn)
    names = ", ".join(f'"{name}"' for name in emptied)
    if not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        return f"TRUNCATE {names} RESTART IDENTITY CASCADE"
    return ";\n".join(
        [
            f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE",
            "SET LOCAL session_replication_role = replica",
            *(f'DELETE FROM "{name}"' for name in emptied),
            *(f'ALTER SEQUENCE "{sequence}" RESTART' for sequence in await owned_sequences(conn, emptied)),
        ]
    )


async def emptied_tables(conn: asyncpg.Connection) -> list[str]:
    """The tables emptied after each test: all but KEEP_TABLES, and a kept one that references them."""
    tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    references = await conn.fetch(
        """SELECT referencing.relname AS referencing, referenced.relname AS referenced FROM pg_constraint c
        JOIN pg_class referencing ON referencing.oid = c.conrelid JOIN pg_class referenced ON referenced.oid = c.confrelid
        JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = 'public'"""
    )
    emptied = tables - KEEP_TABLES
    while more := {r["referencing"] for r in references if r["referenced"] in emptied} - emptied:
        emptied |= more
    return sorted(emptied)


async def owned_sequences(conn: asyncpg.Connection, tables: list[str]) -> list[str]:
    """The sequences of these tables' serial and identity columns (what RESTART IDENTITY restarts)."""
    rows = await conn.fetch(
        """SELECT s.relname AS sequence, t.relname AS owner FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND d.deptype IN ('a', 'i')"""
    )
    return sorted(r["sequence"] for r in rows if r["owner"] in tables)


def make_token(scopes=ALL_SCOPES, facilities=("*",), subject="tester", secret=SECRET, ttl=3600) -> str:
    return mint_token(secret, subject, list(scopes), [str(f) for f in facilities], ttl)


# What Apollo Client 4 sends: the GraphQL response media type, so failures keep their HTTP status
# (409 for a conflict code, 400 for a bad document). tests/test_content_negotiation.py covers the
# application/json clients, which get 200 with the code in the body.
GRAPHQL_ACCEPT = "application/graphql-response+json, application/json;q=0.9"


class GraphQLClient:
    """Posts GraphQL documents to the real app; `token` chooses who is calling, `accept` the media
    types it accepts (None: no Accept header at all)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None, accept: str = GRAPHQL_ACCEPT) -> None:
        self.http = http
        self.token = token
        self.accept = accept

    def as_(self, **token_args) -> "GraphQLClient":
        return GraphQLClient(self.http, make_token(**token_args), self.accept)

    def accepting(self, accept: str) -> "GraphQLClient":
        return GraphQLClient(self.http, self.token, accept)

    async def post(self, query: str, variables: dict | None = None, headers: dict | None = None) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.accept is not None:
            all_headers["Accept"] = self.accept
        all_headers.update(headers or {})
        request = self.http.build_request(
            "POST", "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )
        if self.accept is None:
            del request.headers["Accept"]  # httpx would send */*
        return await self.http.send(request)

    async def execute(self, query: str, variables: dict | None = None, **kwargs) -> dict:
        """The response body; fails the test on any error."""
        response = await self.post(query, variables, **kwargs)
        body = response.json()
        assert "errors" not in body, body.get("errors")
        assert response.status_code == 200, body
        return body["data"]

    async def error(self, query: str, variables: dict | None = None, **kwargs) -> tuple[int, str, dict]:
        """(HTTP status, first error's code, body) for a call expected to fail."""
        response = await self.post(query, variables, **kwargs)
        body = response.json()
        assert body.get("errors"), body
        return response.status_code, body["errors"][0]["extensions"]["code"], body


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:
    # Not entered as a context manager: pytest-asyncio runs fixture setup and teardown in
    # different tasks, and the transport's anyio task group must not span them.
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    yield client


@pytest.fixture
def gql(http) -> GraphQLClient:
    """An admin of every facility."""
    return GraphQLClient(http, make_token())


@pytest.fixture
def ws(app):
    """Open a graphql-transport-ws connection: `async with ws(token) as socket:`."""

    @asynccontextmanager
    async def connect(token: str | None = None, init: bool = True):
        transport = ASGIWebSocketTransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
            aconnect_ws("http://test/graphql", client, subprotocols=["graphql-transport-ws"]) as socket,
        ):
            if init:
                payload = {"Authorization": f"Bearer {token or make_token()}"}
                await socket.send_json({"type": "connection_init", "payload": payload})
            yield socket

    return connect


pytest_plugins = ["tests.support.builders"]
