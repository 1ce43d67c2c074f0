"""Faults: a server process killed (SIGKILL) in the middle of its work and started again, database
connections dropped under load, a broadcaster that goes away. Afterwards nothing is half-written,
nothing is billed twice, every committed integration event is published once, and the service
recovered by itself."""
from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

import asyncpg
import httpx
import pytest

from app.ids import decode_id, encode_id
from tests.builders_enrollment import ENROLL, assert_line_is_sound, make_group, stored_enrollments
from tests.builders_hardening import ServerProcess
from tests.builders_sessions import SET_ATTENDANCE, create_session
from tests.conftest import GraphQLClient, _asyncpg_dsn, make_token

EVENTS_CHANNEL = "integration-events"  # app.events.relay.CHANNEL


async def until(predicate, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@asynccontextmanager
async def listening(database_url: str, channel: str = EVENTS_CHANNEL):
    """Every NOTIFY on `channel`, as the parsed messages, for the block's duration."""
    received: list[dict] = []
    conn = await asyncpg.connect(_asyncpg_dsn(database_url))

    def on_notify(_conn, _pid, _channel, payload: str) -> None:
        received.append(json.loads(payload))

    await conn.add_listener(channel, on_notify)
    try:
        yield received
    finally:
        await conn.close()


async def fetch(database_url: str, sql: str, *args):
    conn = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def fetchval(database_url: str, sql: str, *args):
    return (await fetch(database_url, sql, *args))[0][0]


async def all_published(database_url: str) -> bool:
    return await fetchval(database_url, "SELECT count(*) = 0 FROM integration_events WHERE published_at IS NULL")


async def assert_each_event_published_once(database_url: str, received: list[dict]) -> None:
    await until(lambda: all_published(database_url), what="every committed event to be marked published")
    committed = {str(r["id"]) for r in await fetch(database_url, "SELECT id FROM integration_events")}
    await until(lambda: _received_all(received, committed), timeout=10, what="every committed event to be heard")
    counts = Counter(message["id"] for message in received)
    assert set(counts) == committed
    assert {i: n for i, n in counts.items() if n > 1} == {}, "published more than once"


async def _received_all(received: list[dict], committed: set[str]) -> bool:
    return committed <= {m["id"] for m in received}


@pytest.fixture
async def workdir(tmp_path):
    return tmp_path


# ------------------------------------------------------------------ the outbox relay


def postgres_broadcast(database_url: str, shorthand: bool = False) -> dict[str, str]:
    """The postgres broadcaster on the application's database, spelled out or as the `postgres://` shorthand."""
    return {"BROADCAST_URL": "postgres://" if shorthand else database_url.replace("postgresql://", "postgres://", 1)}


@pytest.mark.parametrize("shorthand", [False, True], ids=["database-url", "postgres-shorthand"])
async def test_events_in_flight_when_the_relay_is_killed_are_published_exactly_once(database_url, workdir, shorthand):
    """A backlog of committed, unpublished events; the relay is killed while publishing it and
    started again. With at-least-once delivery the batch in flight at the kill is sent twice."""
    conn = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        await conn.executemany(
            "INSERT INTO integration_events (type, payload) VALUES ('hardening_probe', $1::jsonb)",
            [(json.dumps({"n": i, "pad": "x" * 200}),) for i in range(6000)],
        )
    finally:
        await conn.close()
    server = ServerProcess(database_url, workdir, postgres_broadcast(database_url, shorthand))
    async with listening(database_url) as received:
        try:
            await server.start()
            await until(lambda: _some(received, 300), timeout=30, interval=0.005, what="the relay to be publishing")
            server.kill()
            heard_before_restart = len(received)
            assert heard_before_restart < 6000, "the backlog was gone before the kill: make it larger"
            await server.start()
            await assert_each_event_published_once(database_url, received)
        finally:
            await server.stop()


async def _some(received: list, count: int) -> bool:
    return len(received) >= count
