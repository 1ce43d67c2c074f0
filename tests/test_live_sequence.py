"""Each live update's sequence number carries exactly the state after that change (issue 25, row 13).

Marks that land on one session within a few milliseconds of each other, while a session watcher and a
room display listen: for every sequence number every client that got it got the same roster, and that
roster is the state after exactly that many changes. Every member starts SCHEDULED and is marked
ATTENDED once, so the state after change N has N members attended: those named by the changes 1..N.
Before the fix the update was read after its commit, so a second mark committed meanwhile showed in it
(message N showed change N+1, and N+1 repeated it)."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import websockets

from app.ids import decode_id
from tests.conftest import GraphQLClient, make_token
from tests.support.builders import Clinic
from tests.support.builders_displays import ROOM, room_occurrence
from tests.support.builders_enrollment import enroll
from tests.support.builders_scheduling import add_occurrence, create_group
from tests.support.builders_sessions import NOW, PHOENIX, SET_ATTENDANCE, set_now
from tests.support.server import start_servers
from tests.test_live_multiprocess import backends

ROUNDS = 20
PER_ROUND = 3  # near-simultaneous marks of one session in a round

WATCH = """subscription($id: ID!) { sessionUpdates(sessionId: $id) {
  kind sequence changedParticipantIds
  session { id roster { id status } attendance { attended } }
  billingPreview { billableCount } } }"""

DISPLAY = """subscription($f: ID!, $l: String!) { roomDisplay(facilityId: $f, location: $l) {
  kind sequence changedParticipantIds
  session { id roster { id status } attendance { attended } } } }"""


def contents(update: dict) -> tuple:
    """What a message says about the roster: who is attended, and the count it shows."""
    session = update["session"]
    attended = tuple(sorted(r["id"] for r in session["roster"] if r["status"] == "ATTENDED"))
    return attended, session["attendance"]["attended"]


def check(received: dict[str, dict[int, dict]], base: int, members: int) -> dict[str, int]:
    """For every sequence: every client's contents alike, and the state after exactly that change.
    Returns the counts of sequences that broke each rule (all zero when it holds)."""
    changed_at: dict[int, str] = {}
    for updates in received.values():
        for sequence, update in updates.items():
            if sequence > base:
                changed_at[sequence] = update["changedParticipantIds"][0]
    disagreeing = wrong = 0
    for sequence in sorted({s for updates in received.values() for s in updates if s > base}):
        seen = {contents(updates[sequence]) for updates in received.values() if sequence in updates}
        disagreeing += len(seen) > 1
        expected_count = sequence - base
        named = [changed_at.get(s) for s in range(base + 1, sequence + 1)]
        for attended, count in seen:
            if count != expected_count or len(attended) != expected_count:
                wrong += 1
            elif None not in named and set(attended) != set(named):
                wrong += 1
    last = base + members
    missing_last = sum(last not in updates for updates in received.values())
    return {"disagreeing": disagreeing, "wrong": wrong, "missing_last": missing_last}


async def _read_until(receive, key: str, last: int, into: dict[int, dict], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not into or max(into) < last:
            update = (await receive())[key]
            into[update["sequence"]] = update


async def _marks(execute, entries: list[str]) -> None:
    """ROUNDS rounds of PER_ROUND marks a few milliseconds apart, each member marked once."""
    for start in range(0, len(entries), PER_ROUND):

        async def one(entry: str, delay: float) -> None:
            await asyncio.sleep(delay)
            data = await execute(entry)
            assert data["setAttendance"]["status"] == "ATTENDED"

        await asyncio.gather(*(one(entry, random.uniform(0, 0.012)) for entry in entries[start : start + PER_ROUND]))


async def test_every_sequence_carries_the_state_after_exactly_that_change(gql, clinic, ws, test_clock):
    """In process: a session watcher and a room display (staff preview) of one room's session."""
    set_now(test_clock, NOW)
    members = ROUNDS * PER_ROUND
    group = await create_group(gql, clinic, location=ROOM, facilitatorId=clinic.staff[0], maxCapacity=members)
    for _ in range(members):
        await enroll(gql, group, await clinic.add_patient())
    await room_occurrence(gql, group, NOW - timedelta(minutes=30))
    staff = make_token(scopes=["display.room"])
    async with ws(staff) as display, ws() as watcher:
        assert (await display.receive_json())["type"] == "connection_ack"
        await display.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": DISPLAY, "variables": {"f": clinic.facility_id, "l": ROOM}},
            }
        )
        first = (await display.receive_json())["payload"]["data"]["roomDisplay"]
        assert first["kind"] == "SNAPSHOT", first
        session_id, base = first["session"]["id"], first["sequence"]
        entries = [r["id"] for r in first["session"]["roster"]]
        assert len(entries) == members and contents(first) == ((), 0)
        assert (await watcher.receive_json())["type"] == "connection_ack"
        await watcher.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"id": session_id}}}
        )
        snapshot = (await watcher.receive_json())["payload"]["data"]["sessionUpdates"]
        assert snapshot["kind"] == "SNAPSHOT" and snapshot["sequence"] == base

        async def receive(socket):
            message = await socket.receive_json()
            assert message["type"] == "next" and "errors" not in message["payload"], message
            return message["payload"]["data"]

        received: dict[str, dict[int, dict]] = {"watcher": {}, "display": {}}
        random.shuffle(entries)
        await _marks(lambda entry: gql.execute(SET_ATTENDANCE, {"participantId": entry, "status": "ATTENDED"}), entries)
        await _read_until(lambda: receive(watcher), "sessionUpdates", base + members, received["watcher"])
        await _read_until(lambda: receive(display), "roomDisplay", base + members, received["display"])
    counts = check(received, base, members)
    print(f"in process: {counts}, sequences per client { ({k: len(v) for k, v in received.items()}) }")
    assert counts == {"disagreeing": 0, "wrong": 0, "missing_last": 0}
    # One process reads each change in the writing transaction: every watcher gets every sequence.
    assert all(sorted(updates) == list(range(base + 1, base + members + 1)) for updates in received.values())


async def _open(base_url: str, token: str, query: str, variables: dict):
    socket = await websockets.connect(
        base_url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    payload = {"query": query, "variables": variables}
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return socket


async def _next(socket) -> dict:
    message = json.loads(await socket.recv())
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]


def _today_around(now: datetime) -> tuple[str, str, str]:
    """An occurrence in progress now in Phoenix that ends the same day: (date, start, end)."""
    local = now.astimezone(PHOENIX)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(midnight, local - timedelta(minutes=60)).replace(second=0, microsecond=0)
    end = min(local + timedelta(minutes=60), midnight + timedelta(hours=23, minutes=59, seconds=59))
    return local.date().isoformat(), start.time().isoformat(), end.time().replace(microsecond=0).isoformat()


@pytest.mark.parametrize("build_once", ["1", "0"])
async def test_every_sequence_carries_the_state_after_exactly_that_change_across_processes(database_url, build_once):
    """Two server processes on the postgres broadcaster, marks sent to both at once: on each process,
    session watchers of two audiences and a room display (built once in the cluster, or each process
    building its own; a display's change is always built where it is watched). A process that reads
    a change after its commit and finds a later one already there sends that later one only (a gap,
    never a number with the wrong roster); every client ends on the last."""
    env = {"BROADCAST_URL": backends(database_url)["postgres"], "GS_LIVE_BUILD_ONCE": build_once}
    members = ROUNDS * PER_ROUND
    async with start_servers(database_url, 2, env) as urls:
        clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
        try:
            gql = GraphQLClient(clients[0], make_token())
            clinic = Clinic(gql)
            facility = await clinic.facility()
            await clinic.add_staff()
            group = await create_group(gql, clinic, location=ROOM, facilitatorId=clinic.staff[0], maxCapacity=members)
            for _ in range(members):
                await enroll(gql, group, await clinic.add_patient())
            day, start, end = _today_around(datetime.now(UTC))
            await add_occurrence(gql, group, session_date=day, start=start, end=end)
            staff = make_token(scopes=["display.room"])
            sockets = {}
            for n, url in enumerate(urls):
                sockets[f"display@{n}"] = await _open(url, staff, DISPLAY, {"f": facility, "l": ROOM})
            shown = {name: (await _next(socket))["roomDisplay"] for name, socket in sockets.items()}
            session_id = shown["display@0"]["session"]["id"]
            entries = [r["id"] for r in shown["display@0"]["session"]["roster"]]
            assert len(entries) == members
            local = make_token(facilities=(decode_id(facility, "Facility"),))
            for n, url in enumerate(urls):
                for audience, token in (("admin", make_token()), ("facility", local)):
                    sockets[f"{audience}@{n}"] = await _open(url, token, WATCH, {"id": session_id})
            keys = {name: "roomDisplay" if name.startswith("display") else "sessionUpdates" for name in sockets}
            try:
                for name, socket in sockets.items():
                    snapshot = shown.get(name) or (await _next(socket))[keys[name]]
                    assert snapshot["kind"] == "SNAPSHOT" and contents(snapshot) == ((), 0), snapshot
                    assert snapshot["session"]["id"] == session_id
                    base = snapshot["sequence"]
                await asyncio.sleep(0.5)  # the shapes reach every process
                writers = [GraphQLClient(client, make_token()) for client in clients]
                turn = iter(range(10**6))

                def execute(entry: str):
                    writer = writers[next(turn) % 2]
                    return writer.execute(SET_ATTENDANCE, {"participantId": entry, "status": "ATTENDED"})

                random.shuffle(entries)
                await _marks(execute, entries)
                received: dict[str, dict[int, dict]] = {name: {} for name in sockets}
                for name, socket in sockets.items():

                    async def receive(socket=socket):
                        return await _next(socket)

                    await _read_until(receive, keys[name], base + members, received[name])
            finally:
                for socket in sockets.values():
                    await socket.close()
        finally:
            for client in clients:
                await client.aclose()
    counts = check(received, base, members)
    gaps = {name: members - len(updates) for name, updates in received.items()}
    print(f"across processes (build once {build_once}): {counts}, gaps per client {gaps}")
    assert counts == {"disagreeing": 0, "wrong": 0, "missing_last": 0}
