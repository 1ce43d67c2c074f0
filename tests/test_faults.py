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
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest

from app.ids import decode_id, encode_id
from tests.conftest import GraphQLClient, _with_database, asyncpg_dsn, make_token
from tests.support.builders_enrollment import ENROLL, assert_line_is_sound, make_group, stored_enrollments
from tests.support.builders_hardening import ServerProcess
from tests.support.builders_sessions import SET_ATTENDANCE, create_session

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
    conn = await asyncpg.connect(asyncpg_dsn(database_url))

    def on_notify(_conn, _pid, _channel, payload: str) -> None:
        received.append(json.loads(payload))

    await conn.add_listener(channel, on_notify)
    try:
        yield received
    finally:
        await conn.close()


async def fetch(database_url: str, sql: str, *args):
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
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
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
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


# ------------------------------------------------------------------ billing


async def ended_sessions(gql, clinic, count: int, members: int = 3) -> list[str]:
    """`count` ended, unbilled sessions of `members` covered patients, all ATTENDED."""
    await clinic.bands([(1, 4, "90853", "40.00"), (5, 8, "90853", "30.00")])
    patients = [await clinic.add_patient() for _ in range(members)]
    for patient in patients:
        await clinic.cover(patient)
    sessions = []
    start = clinic_now() - timedelta(days=1)
    for i in range(count):
        session = await create_session(
            gql, clinic, patients=patients, starts_at=start + timedelta(minutes=i), minutes=60
        )
        for entry in session["roster"]:
            await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})
        sessions.append(session["id"])
    return sessions


def clinic_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


async def billed_count(database_url: str) -> int:
    return await fetchval(database_url, "SELECT count(*) FROM group_sessions WHERE billed_at IS NOT NULL")


async def test_a_billing_sweep_killed_midway_bills_every_session_exactly_once(gql, clinic, database_url, workdir):
    sessions = await ended_sessions(gql, clinic, 40)
    env = {**postgres_broadcast(database_url), "GS_BILLING_SWEEP_SECONDS": "0.05"}
    server = ServerProcess(database_url, workdir, env)
    async with listening(database_url) as received:
        try:
            await server.start()
            await until(lambda: _billed_at_least(database_url, 3), interval=0.01, what="the sweep to start billing")
            server.kill()
            killed_at = await billed_count(database_url)
            assert killed_at < len(sessions), "every session was billed before the kill: add sessions"
            await server.start()
            await until(lambda: _billed_at_least(database_url, len(sessions)), what="the restarted sweep to finish")
            await assert_each_event_published_once(database_url, received)
        finally:
            await server.stop()

    pks = [decode_id(s, "GroupSession") for s in sessions]
    per_session = await fetch(
        database_url,
        """
        SELECT s.id, s.billed_at IS NOT NULL AS billed, s.locked_at IS NOT NULL AS locked,
          (SELECT count(*) FROM charges c WHERE c.session_id = s.id AND c.status = 'ACTIVE') AS charges,
          (SELECT count(*) FROM claims c WHERE c.session_id = s.id) AS claims,
          (SELECT count(*) FROM claims c WHERE c.session_id = s.id
             AND NOT EXISTS (SELECT 1 FROM claim_charges cc WHERE cc.claim_id = c.id)) AS claims_without_charge,
          (SELECT count(*) FROM audit_entries a WHERE a.entity_id = s.id AND a.action = 'session.bill') AS audits,
          (SELECT count(*) FROM integration_events e WHERE e.type = 'group_session_documented'
             AND e.payload->>'sessionId' = s.id::text) AS events
        FROM group_sessions s WHERE s.id = ANY($1::uuid[])""",
        pks,
    )
    assert len(per_session) == len(sessions)
    for row in per_session:
        assert dict(row) | {"id": None} == {
            "id": None,
            "billed": True,
            "locked": True,
            "charges": 3,
            "claims": 3,
            "claims_without_charge": 0,
            "audits": 1,
            "events": 1,
        }, dict(row)
    assert (
        await fetchval(
            database_url,
            """SELECT count(*) FROM (SELECT session_id, patient_id FROM charges
        WHERE status = 'ACTIVE' GROUP BY 1, 2 HAVING count(*) > 1) twice""",
        )
        == 0
    )


async def _billed_at_least(database_url: str, count: int) -> bool:
    return await billed_count(database_url) >= count


# ------------------------------------------------------------------ enrollment


async def test_an_enrollment_burst_killed_midway_leaves_a_sound_line_and_nothing_half_written(
    gql, clinic, services, database_url, workdir
):
    group = await make_group(gql, clinic, maxCapacity=10)
    patients = [await clinic.add_patient() for _ in range(60)]
    server = ServerProcess(database_url, workdir, postgres_broadcast(database_url))
    token = make_token()
    answered: dict[str, dict] = {}
    async with listening(database_url) as received:
        try:
            await server.start()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                remote = GraphQLClient(http, token)

                async def enroll(patient: str) -> None:
                    response = await remote.post(ENROLL, {"groupId": group, "patientId": patient})
                    answered[patient] = response.json()

                burst = [asyncio.create_task(enroll(p)) for p in patients]
                await until(lambda: _some(answered, 10), interval=0.005, what="some enrollments to be answered")
                server.kill()
                await asyncio.gather(*burst, return_exceptions=True)
            assert len(answered) < len(patients), "the whole burst finished before the kill"
            await server.start()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                remote = GraphQLClient(http, token)
                retried = [(await remote.post(ENROLL, {"groupId": group, "patientId": p})).json() for p in patients]
            await assert_each_event_published_once(database_url, received)
        finally:
            await server.stop()

    rows = await stored_enrollments(services, group)
    assert_line_is_sound(rows, 10)
    assert sorted(str(r.patient_id) for r in rows) == sorted(str(decode_id(p, "Patient")) for p in patients)
    by_id = {encode_id("Enrollment", r.id): r for r in rows}
    for body in answered.values():  # every answered success is stored as it was answered
        if "errors" not in body:
            enrollment = body["data"]["enrollPatient"]["enrollment"]
            assert by_id[enrollment["id"]].status == enrollment["status"]
    for body in retried:  # a retry after the restart never enrolls twice
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        assert codes in ([], ["CONFLICT"]), body
    audits = Counter(
        r["entity_id"]
        for r in await fetch(
            database_url,
            "SELECT entity_id FROM audit_entries WHERE action IN ('enrollment.enrolled', 'enrollment.waitlisted')",
        )
    )
    events = Counter(
        r["id"]
        for r in await fetch(
            database_url,
            """SELECT payload->>'enrollmentId' AS id FROM integration_events
                         WHERE type IN ('pm_group_enrollment_enrolled', 'pm_group_enrollment_waitlisted')""",
        )
    )
    assert audits == Counter({r.id: 1 for r in rows}), "one audit entry per stored enrollment, none for a lost one"
    assert events == Counter({str(r.id): 1 for r in rows}), "one event per stored enrollment, none for a lost one"


async def _some(received, count: int) -> bool:
    return len(received) >= count


# ------------------------------------------------------------------ dropped database connections


SESSION_UPDATES = "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind sequence } }"


@asynccontextmanager
async def watcher(base_url: str, session_id: str, token: str):
    """A websocket subscribed to one session's updates; yields the list its messages land in."""
    from httpx_ws import aconnect_ws

    messages: list[dict] = []
    async with (
        httpx.AsyncClient(base_url=base_url) as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as socket,
    ):
        await socket.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": SESSION_UPDATES, "variables": {"id": session_id}}}
        )

        async def read() -> None:
            while True:
                messages.append(await socket.receive_json())

        reader = asyncio.create_task(read())
        try:
            yield messages
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


def kinds(messages: list[dict]) -> list[str]:
    return [
        m["payload"]["data"]["sessionUpdates"]["kind"]
        for m in messages
        if m.get("type") == "next" and m["payload"].get("data")
    ]


async def terminate_app_connections(database_url: str) -> int:
    """pg_terminate_backend on every other connection to the test database: the server's pool,
    its LISTEN connection, its NOTIFY pool."""
    name = urlparse(database_url).path.lstrip("/")
    return await fetchval(
        database_url,
        """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()""",
        name,
    )


async def test_the_service_recovers_from_dropped_database_connections_without_a_restart(
    gql, clinic, database_url, workdir
):
    patients = [await clinic.add_patient() for _ in range(4)]
    session = await create_session(
        gql, clinic, patients=patients, starts_at=clinic_now() - timedelta(minutes=5), minutes=90
    )
    entries = [e["id"] for e in session["roster"]]
    token = make_token()
    server = ServerProcess(database_url, workdir, postgres_broadcast(database_url))
    outcomes: list[tuple[float, str]] = []  # (time, "ok" | error code | transport error)
    try:
        await server.start()
        pid = server.process.pid
        async with AsyncExitStack() as stack, watcher(server.base_url, session["id"], token) as messages:
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=server.base_url, timeout=30))
            remote = GraphQLClient(http, token)
            await until(lambda: _async(kinds(messages)), what="the snapshot")
            stop = asyncio.Event()

            async def load(i: int) -> None:
                statuses = ["ATTENDED", "LATE"]
                n = 0
                while not stop.is_set():
                    n += 1
                    if i % 2:
                        document, variables = "{ groupSessions { totalCount } patients { totalCount } }", {}
                    else:
                        document, variables = (
                            SET_ATTENDANCE,
                            {"participantId": entries[i // 2], "status": statuses[n % 2]},
                        )
                    try:
                        response = await remote.post(document, variables)
                        body = response.json()
                        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
                        outcome = "ok" if not codes or codes == ["ILLEGAL_TRANSITION"] else codes[0]
                        if response.status_code >= 500:
                            outcome = f"HTTP {response.status_code}"
                    except httpx.TransportError as error:
                        outcome = type(error).__name__
                    outcomes.append((time.monotonic(), outcome))

            workers = [asyncio.create_task(load(i)) for i in range(8)]
            # Load first, whatever the machine's speed: every worker has had answers before the drop.
            await until(lambda: _async(len(outcomes) >= 16), timeout=30, what="answers before the drop")
            dropped_at = time.monotonic()
            assert await terminate_app_connections(database_url) > 0
            await asyncio.sleep(3.0)
            stop.set()
            await asyncio.gather(*workers)
            # The watcher's LISTEN connection came back: a fresh SNAPSHOT, then changes again.
            await until(lambda: _async(kinds(messages).count("SNAPSHOT") >= 2), timeout=10, what="a resync snapshot")
            seen = len(kinds(messages))
            await remote.execute(SET_ATTENDANCE, {"participantId": entries[3], "status": "ABSENT"})
            await until(lambda: _async(len(kinds(messages)) > seen), timeout=10, what="an update after the drop")
        assert server.process.poll() is None and server.process.pid == pid, "the server restarted or died"
    finally:
        await server.stop()
    before = [o for t, o in outcomes if t < dropped_at]
    settled = [o for t, o in outcomes if t > dropped_at + 1.0]
    assert before and set(before) == {"ok"}
    assert settled and set(settled) == {"ok"}, Counter(settled)
    assert not any(o.startswith("HTTP 5") for _, o in outcomes), Counter(o for _, o in outcomes)
    # A request caught by the drop may fail, as INTERNAL: never blamed on the caller.
    assert {o for _, o in outcomes} <= {"ok", "INTERNAL", "ReadError", "RemoteProtocolError"}, Counter(
        o for _, o in outcomes
    )
    (await gql.execute("{ viewer { subject } }"))  # the in-process pool recovered too


async def _async(value):
    return value


async def test_a_read_session_that_fails_to_close_does_not_fail_a_finished_request(gql, monkeypatch):
    """After a dropped connection the request's shared read session may fail to close; the
    operation's result (a committed mutation's included) stands."""
    import sqlalchemy.exc

    from app.schema.batching import Loaders

    async def broken_close(self) -> None:
        raise sqlalchemy.exc.InterfaceError("ROLLBACK", None, RuntimeError("connection was closed"))

    monkeypatch.setattr(Loaders, "close", broken_close)
    data = await gql.execute(
        'mutation { createPayer(input: {name: "Closing Payer", payerCode: "CLOSE1"}) { payerCode } }'
    )
    assert data == {"createPayer": {"payerCode": "CLOSE1"}}
    assert (await gql.execute("{ viewer { subject } }"))["viewer"]["subject"] == "tester"


def test_a_server_fault_outside_any_field_is_internal_and_masked(caplog):
    """An exception from an extension hook has no path; it is not the caller's document at fault."""
    import sqlalchemy.exc
    from graphql import GraphQLError

    from app.schema.errors import classify

    fault = sqlalchemy.exc.InternalError(
        "ROLLBACK", None, RuntimeError("cannot switch to state 15; another operation is in progress")
    )
    classified = classify(GraphQLError(str(fault), original_error=fault), "req-1")
    assert classified.extensions == {"code": "INTERNAL", "requestId": "req-1"}
    assert classified.message == "Internal server error"
    document_fault = classify(GraphQLError("Syntax Error: Unexpected Name 'x'."), "req-2")
    assert document_fault.extensions == {"code": "BAD_USER_INPUT"}


# ------------------------------------------------------------------ broadcaster outage


@asynccontextmanager
async def broadcaster_database(database_url: str):
    """A database of its own for the broadcaster (so its outage is not the application's); yields
    (its postgres:// URL, a function that takes it down or brings it back)."""
    name = "gs_bcast_" + urlparse(database_url).path.lstrip("/")[-12:]
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')

    async def available(up: bool) -> None:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(up).lower()}')
        if not up:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)

    try:
        # The embedded server's URL carries its socket in the query string: keep it.
        yield _with_database(database_url, name).replace("postgresql://", "postgres://", 1), available
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_broadcaster_outage_degrades_live_updates_without_failing_writes(gql, clinic, database_url, workdir):
    patients = [await clinic.add_patient() for _ in range(2)]
    session = await create_session(
        gql, clinic, patients=patients, starts_at=clinic_now() - timedelta(minutes=5), minutes=90
    )
    entries = [e["id"] for e in session["roster"]]
    token = make_token()
    async with broadcaster_database(database_url) as (broadcast_url, available):
        server = ServerProcess(database_url, workdir, {"BROADCAST_URL": broadcast_url})
        try:
            await server.start()
            async with (
                httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
                watcher(server.base_url, session["id"], token) as messages,
            ):
                remote = GraphQLClient(http, token)
                await until(lambda: _async(kinds(messages) == ["SNAPSHOT"]), what="the snapshot")
                await remote.execute(SET_ATTENDANCE, {"participantId": entries[0], "status": "ATTENDED"})
                await until(lambda: _async(len(kinds(messages)) == 2), what="a live update before the outage")

                await available(False)
                await until(lambda: _async(kinds(messages)[-1] == "PAUSED"), what="watchers told updates are paused")
                # Writes go on and answer success: the change is committed; watchers catch up on resync.
                changed = await remote.post(SET_ATTENDANCE, {"participantId": entries[1], "status": "LATE"})
                assert changed.status_code == 200 and "errors" not in changed.json(), changed.json()
                assert (await http.get("/healthz")).status_code == 200
                async with watcher(server.base_url, session["id"], token) as during:
                    await until(lambda: _async(kinds(during) == ["SNAPSHOT"]), what="a snapshot during the outage")

                await available(True)
                await until(
                    lambda: _async(kinds(messages).count("SNAPSHOT") == 2), timeout=20, what="a resync after the outage"
                )
                assert kinds(messages)[2:] == ["PAUSED", "SNAPSHOT"]
                resync = [m for m in messages if m.get("type") == "next"][-1]["payload"]["data"]["sessionUpdates"]
                assert resync["sequence"] >= 2  # the snapshot includes the change made during the outage
                await remote.execute(SET_ATTENDANCE, {"participantId": entries[1], "status": "ATTENDED"})
                await until(
                    lambda: _async(kinds(messages)[-1] == "ATTENDANCE_CHANGED"), timeout=10, what="updates again"
                )
            assert server.process.poll() is None, "the server died"
        finally:
            await server.stop()
    assert "broadcast LISTEN connection lost; reconnecting" in server.log()  # what an operator sees
