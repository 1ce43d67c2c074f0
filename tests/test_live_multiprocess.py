"""Live updates across real server processes: a change made through one reaches watchers on another."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
import websockets

from app.ids import decode_id
from tests.conftest import GraphQLClient, make_token
from tests.support.builders import Clinic
from tests.support.builders_sessions import SET_ATTENDANCE, create_session
from tests.support.server import server_process, start_server, start_servers

# tests/test_broadcast_backends.py drops every Redis subscriber at once: the tests on Redis take turns
# with it in one worker (pytest-xdist).
REDIS_GROUP = pytest.mark.xdist_group("redis")

SUBSCRIPTION = """subscription($id: ID!) { sessionUpdates(sessionId: $id) {
  kind sequence changedParticipantIds billingPreview { billableCount } } }"""


def backends(database_url: str) -> dict[str, str]:
    found = {"postgres": database_url.replace("postgresql://", "postgres://", 1)}
    if os.environ.get("REDIS_URL"):
        found["redis"] = os.environ["REDIS_URL"]
    return found


async def open_watcher(base_url: str, session_id: str, token: str | None = None):
    socket = await websockets.connect(
        base_url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token or make_token()}"}})
    )
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"id": session_id}}}
        )
    )
    return socket


async def next_update(socket, timeout: float = 10.0) -> dict:
    message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
    assert message["type"] == "next" and message["payload"].get("data"), message
    return message["payload"]["data"]["sessionUpdates"]


async def watched_session(gql: GraphQLClient, patients: int = 3) -> tuple[str, dict]:
    """A facility with a facilitator and `patients` enrolled members, and a session in progress:
    (facility id, session)."""
    clinic = Clinic(gql)
    facility = await clinic.facility()
    await clinic.add_staff()
    for _ in range(patients):
        await clinic.add_patient()
    return facility, await create_session(gql, clinic, starts_at=None)


@pytest.mark.parametrize("backend", ["postgres", pytest.param("redis", marks=REDIS_GROUP)])
async def test_change_through_one_process_reaches_watchers_on_another(database_url, backend):
    urls = backends(database_url)
    if backend not in urls:
        pytest.skip("REDIS_URL not set (CI sets it when a Redis answers on 127.0.0.1:6379)")
    async with start_servers(database_url, 2, {"BROADCAST_URL": urls[backend]}) as (watcher_url, writer_url):
        async with httpx.AsyncClient(base_url=writer_url, timeout=30) as http:
            gql = GraphQLClient(http, make_token())
            _, session = await watched_session(gql)
            sockets = [await open_watcher(watcher_url, session["id"]) for _ in range(3)]
            sockets.append(await open_watcher(writer_url, session["id"]))
            try:
                for socket in sockets:
                    assert (await next_update(socket))["kind"] == "SNAPSHOT"
                entry = session["roster"][0]["id"]
                await gql.execute(SET_ATTENDANCE, {"participantId": entry, "status": "ATTENDED"})
                updates = [await next_update(socket) for socket in sockets]
                assert {(u["kind"], u["sequence"]) for u in updates} == {("ATTENDANCE_CHANGED", 1)}
                assert all(u["changedParticipantIds"] == [entry] for u in updates)
                assert all(u["billingPreview"]["billableCount"] == 1 for u in updates)
            finally:
                for socket in sockets:
                    await socket.close()


async def test_server_shuts_down_cleanly_with_watchers_connected(database_url):
    async with start_server(database_url) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            gql = GraphQLClient(http, make_token())
            clinic = Clinic(gql)
            await clinic.facility()
            await clinic.add_patient()
            session = await create_session(gql, clinic)
            sockets = [await open_watcher(base_url, session["id"]) for _ in range(5)]
            for socket in sockets:
                assert (await next_update(socket))["kind"] == "SNAPSHOT"
        process = server_process(base_url)
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM is a clean exit.
        assert await asyncio.to_thread(process.wait, 20) in (0, -signal.SIGTERM)
        log = process.log_path.read_text()
        assert "Application shutdown complete" in log and "Traceback" not in log
        for socket in sockets:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 10)


def worker_pids(supervisor_pid: int) -> set[int]:
    """uvicorn's worker processes under its supervisor (multiprocessing's resource tracker aside)."""
    children: set[int] = set()
    for task in os.listdir(f"/proc/{supervisor_pid}/task"):
        with open(f"/proc/{supervisor_pid}/task/{task}/children") as listing:
            children |= {int(pid) for pid in listing.read().split()}
    workers = set()
    for pid in children:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"spawn_main" in cmdline.read():
                    workers.add(pid)
        except FileNotFoundError:
            pass
    return workers


def test_serve_refuses_several_workers_on_the_memory_broadcaster(database_url, tmp_path):
    from tests.support.server import server_env

    env = server_env(database_url, tmp_path, {"BROADCAST_URL": "memory://"})
    done = subprocess.run(
        [sys.executable, "-m", "app.cli_entry", "serve", "--port", "0", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers above 1 needs BROADCAST_URL" in done.stderr


async def test_workers_on_one_port_share_every_change(database_url):
    """`serve --workers 2`: two worker processes on one port; a change made through whichever worker
    answers the mutation reaches the watchers of both."""
    pg = backends(database_url)["postgres"]
    async with start_server(database_url, {"BROADCAST_URL": pg}, args=("--workers", "2")) as base_url:
        supervisor = server_process(base_url)
        deadline = asyncio.get_running_loop().time() + 30
        while len(worker_pids(supervisor.pid)) < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
        assert len(worker_pids(supervisor.pid)) == 2
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            gql = GraphQLClient(http, make_token())
            _, session = await watched_session(gql)
            sockets = [await open_watcher(base_url, session["id"]) for _ in range(8)]
            try:
                for socket in sockets:
                    assert (await next_update(socket))["kind"] == "SNAPSHOT"
                for sequence, (entry, status) in enumerate(
                    zip(session["roster"], ["ATTENDED", "LATE", "ABSENT"], strict=False), start=1
                ):
                    # A new connection per write: each may land on either worker.
                    async with httpx.AsyncClient(base_url=base_url, timeout=30) as writer:
                        await GraphQLClient(writer, make_token()).execute(
                            SET_ATTENDANCE, {"participantId": entry["id"], "status": status}
                        )
                    updates = [await next_update(socket) for socket in sockets]
                    assert {(u["kind"], u["sequence"]) for u in updates} == {("ATTENDANCE_CHANGED", sequence)}
            finally:
                for socket in sockets:
                    await socket.close()


async def metrics(base_url: str) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        return (await http.get("/_bench/metrics")).json()


@pytest.mark.parametrize("backend", ["postgres", pytest.param("redis", marks=REDIS_GROUP)])
async def test_a_change_is_built_once_in_the_cluster(database_url, backend):
    """GS_LIVE_BUILD_ONCE=1, two server processes: the process that commits a change reads and
    executes it once per audience and publishes the encoded results; the other process forwards
    them to its watchers and builds nothing. Two audiences (an all-facility token and one of the
    facility) each get their own result; a watcher on the committing process gets it too."""
    urls = backends(database_url)
    if backend not in urls:
        pytest.skip("REDIS_URL not set (CI sets it when a Redis answers on 127.0.0.1:6379)")
    env = {"BROADCAST_URL": urls[backend], "GS_LIVE_BUILD_ONCE": "1"}
    async with (
        start_server(database_url, env, bench=True) as watcher_url,
        start_server(database_url, env, bench=True) as writer_url,
    ):
        async with httpx.AsyncClient(base_url=writer_url, timeout=30) as http:
            gql = GraphQLClient(http, make_token())
            facility, session = await watched_session(gql)
            local = make_token(facilities=(decode_id(facility, "Facility"),))
            sockets = [await open_watcher(watcher_url, session["id"]) for _ in range(3)]
            sockets.append(await open_watcher(watcher_url, session["id"], local))
            sockets.append(await open_watcher(writer_url, session["id"]))
            try:
                for socket in sockets:
                    assert (await next_update(socket))["kind"] == "SNAPSHOT"
                # Both audiences' shapes have reached the writer before it commits (a shape that
                # has not comes built by the watcher's own process, which another test covers).
                deadline = asyncio.get_running_loop().time() + 10
                while (await metrics(writer_url))["shapes"] < 2 and asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.05)
                before = {url: await metrics(url) for url in (watcher_url, writer_url)}
                for sequence, (entry, status) in enumerate(
                    zip(session["roster"], ["ATTENDED", "LATE", "ABSENT"], strict=False), start=1
                ):
                    await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": status})
                    updates = [await next_update(socket) for socket in sockets]
                    assert {(u["kind"], u["sequence"]) for u in updates} == {("ATTENDANCE_CHANGED", sequence)}
                    assert all(u["changedParticipantIds"] == [entry["id"]] for u in updates)
                    assert all(u["billingPreview"]["billableCount"] == sequence - (status == "ABSENT") for u in updates)
                after = {url: await metrics(url) for url in (watcher_url, writer_url)}
                builds = {url: after[url]["builds"] - before[url]["builds"] for url in after}
                forwarded = {url: after[url]["forwarded"] - before[url]["forwarded"] for url in after}
                assert builds == {watcher_url: 0, writer_url: 3}
                assert forwarded == {watcher_url: 3, writer_url: 3}
            finally:
                for socket in sockets:
                    await socket.close()


async def test_a_watcher_whose_shape_the_committer_does_not_know_gets_the_change_built_where_it_is(database_url):
    """The writer starts after the watcher subscribed, so it never heard its shape: the change still
    reaches the watcher, built by the watcher's own process, which announces the shape again; the
    next change arrives built by the writer."""
    pg = backends(database_url)["postgres"]
    env = {"BROADCAST_URL": pg, "GS_LIVE_BUILD_ONCE": "1"}
    async with start_server(database_url, env, bench=True) as watcher_url:
        async with httpx.AsyncClient(base_url=watcher_url, timeout=30) as http:
            gql = GraphQLClient(http, make_token())
            _, session = await watched_session(gql, patients=2)
        socket = await open_watcher(watcher_url, session["id"])
        try:
            assert (await next_update(socket))["kind"] == "SNAPSHOT"
            async with start_server(database_url, env, bench=True) as writer_url:
                async with httpx.AsyncClient(base_url=writer_url, timeout=30) as http:
                    writer = GraphQLClient(http, make_token())
                    first = await metrics(watcher_url)
                    await writer.execute(
                        SET_ATTENDANCE, {"participantId": session["roster"][0]["id"], "status": "ATTENDED"}
                    )
                    update = await next_update(socket)
                    assert (update["kind"], update["sequence"], update["billingPreview"]["billableCount"]) == (
                        "ATTENDANCE_CHANGED",
                        1,
                        1,
                    )
                    second = await metrics(watcher_url)
                    assert second["builds"] - first["builds"] == 1  # built here: the writer did not know the shape
                    deadline = asyncio.get_running_loop().time() + 10
                    while (await metrics(writer_url))["shapes"] < 1 and asyncio.get_running_loop().time() < deadline:
                        await asyncio.sleep(0.05)
                    await writer.execute(
                        SET_ATTENDANCE, {"participantId": session["roster"][1]["id"], "status": "ATTENDED"}
                    )
                    update = await next_update(socket)
                    assert (update["kind"], update["sequence"], update["billingPreview"]["billableCount"]) == (
                        "ATTENDANCE_CHANGED",
                        2,
                        2,
                    )
                    third = await metrics(watcher_url)
                    assert third["builds"] == second["builds"] and third["forwarded"] == second["forwarded"] + 1
        finally:
            await socket.close()
