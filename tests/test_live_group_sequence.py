"""Each groupUpdates sequence number carries exactly the group's line after that change, as
sessionUpdates does (tests/test_live_sequence.py, whose helpers this reuses).

Enrollments and disenrollments land on one group within a few milliseconds of each other, while
watchers listen: for every sequence number every client that got it got the same line, and that line
(the enrolled count, the waitlist in order, the changed enrollment's status) is the state after
exactly that many changes. The expected state is replayed from the messages' own kinds and
enrollment ids, which the writer puts in the message: ENROLLED and WAITLISTED add the enrollment,
DISENROLLED takes it out, PROMOTED moves it from the waitlist to the enrolled. A disenrollment and the
promotion it causes are one transaction with two numbers (DISENROLLED, then PROMOTED): the line in
between was never committed, so both carry the state after that transaction."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from tests.conftest import GraphQLClient, make_token
from tests.support.builders import Clinic
from tests.support.builders_enrollment import DISENROLL, ENROLL, make_group
from tests.support.server import start_servers
from tests.test_live_multiprocess import backends
from tests.test_live_sequence import _next, _open, _read_until

ROUNDS = 20
PER_ROUND = 3  # near-simultaneous enrollPatient / disenrollPatient calls on one group in a round
CAPACITY = 3  # small, so the waitlist fills and disenrollments promote

WATCH = """subscription($id: ID!) { groupUpdates(groupId: $id) {
  kind sequence enrollment { id status }
  group { capacity { enrolled waitlisted } waitlist { id } } } }"""

# The enrollment's status in the state after a change of each kind.
STATUS_AFTER = {
    "ENROLLED": "ENROLLED",
    "WAITLISTED": "WAITLISTED",
    "PROMOTED": "ENROLLED",
    "DISENROLLED": "DISENROLLED",
}


def contents(update: dict) -> tuple:
    """What a message says about the group's line: enrolled and waitlisted counts, the waitlist in
    order, and the changed enrollment's status."""
    group = update["group"]
    status = update["enrollment"]["status"] if update.get("enrollment") else None
    waitlist = tuple(e["id"] for e in group["waitlist"])
    return group["capacity"]["enrolled"], group["capacity"]["waitlisted"], waitlist, status


def expected_states(received: dict[str, dict[int, dict]], base: int, last: int) -> dict[int, tuple]:
    """The line after each change, replayed from the changes' kinds and enrollment ids (the writer's,
    the same in every message); stops at a number no client got."""
    named: dict[int, tuple[str, str]] = {}
    for updates in received.values():
        for sequence, update in updates.items():
            if sequence > base:
                named[sequence] = (update["kind"], update["enrollment"]["id"])
    enrolled: set[str] = set()
    waitlist: list[str] = []
    states: dict[int, tuple] = {}
    for sequence in range(base + 1, last + 1):
        if sequence not in named:
            break
        kind, enrollment = named[sequence]
        if kind == "ENROLLED":
            enrolled.add(enrollment)
        elif kind == "WAITLISTED":
            waitlist.append(enrollment)
        elif kind == "PROMOTED":
            waitlist.remove(enrollment)
            enrolled.add(enrollment)
        elif kind == "DISENROLLED":
            enrolled.discard(enrollment)
            if enrollment in waitlist:
                waitlist.remove(enrollment)
        else:
            raise AssertionError(f"unexpected kind {kind}")
        states[sequence] = (len(enrolled), len(waitlist), tuple(waitlist), STATUS_AFTER[kind])
    for sequence in sorted(states):  # a disenrollment's number carries the state after its promotion
        following = named.get(sequence + 1)
        if named[sequence][0] == "DISENROLLED" and following and following[0] == "PROMOTED" and sequence + 1 in states:
            states[sequence] = (*states[sequence + 1][:3], "DISENROLLED")
    return states


def check(received: dict[str, dict[int, dict]], base: int, last: int) -> dict[str, int]:
    """For every sequence: every client's contents alike, and the state after exactly that change.
    Returns the counts of sequences that broke each rule (all zero when it holds)."""
    states = expected_states(received, base, last)
    disagreeing = wrong = 0
    for sequence in sorted({s for updates in received.values() for s in updates if s > base}):
        seen = {contents(updates[sequence]) for updates in received.values() if sequence in updates}
        disagreeing += len(seen) > 1
        wrong += any(found != states.get(sequence) for found in seen)
    missing_last = sum(last not in updates for updates in received.values())
    unnamed = last - base - len(states)  # numbers no client got: the state after them is unknown
    return {"disagreeing": disagreeing, "wrong": wrong, "missing_last": missing_last, "unnamed": unnamed}


async def _changes(enroll, disenroll, patients: list[str]) -> int:
    """ROUNDS rounds of PER_ROUND enrollments and disenrollments a few milliseconds apart on one
    group, keeping its line around twice its capacity. Returns the number of changes (a promotion
    is a change of its own)."""
    active: list[str] = []  # enrollments this test made and has not disenrolled
    changes = 0
    patients = list(patients)
    for _ in range(ROUNDS):
        leaving = 2 if len(active) > 2 * CAPACITY else (1 if active else 0)
        random.shuffle(active)
        calls = [("disenroll", active.pop()) for _ in range(leaving)]
        calls += [("enroll", patients.pop()) for _ in range(PER_ROUND - leaving)]

        async def one(what: str, which: str, delay: float) -> int:
            await asyncio.sleep(delay)
            if what == "enroll":
                data = (await enroll(which))["enrollPatient"]
                assert data["outcome"] in ("ENROLLED", "WAITLISTED"), data
                active.append(data["enrollment"]["id"])
                return 1
            data = (await disenroll(which))["disenrollPatient"]
            assert data["enrollment"]["status"] == "DISENROLLED", data
            return 1 + (data["promoted"] is not None)

        done = await asyncio.gather(*(one(what, which, random.uniform(0, 0.012)) for what, which in calls))
        changes += sum(done)
    return changes


async def test_every_group_sequence_carries_the_line_after_exactly_that_change(gql, clinic, ws):
    """In process: two watchers of one group."""
    group = await make_group(gql, clinic, maxCapacity=CAPACITY)
    patients = [await clinic.add_patient() for _ in range(ROUNDS * PER_ROUND)]
    async with ws() as first, ws(make_token()) as second:
        base = None
        for socket in (first, second):
            assert (await socket.receive_json())["type"] == "connection_ack"
            await socket.send_json(
                {"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"id": group}}}
            )
            snapshot = (await socket.receive_json())["payload"]["data"]["groupUpdates"]
            assert snapshot["kind"] == "SNAPSHOT" and contents(snapshot) == (0, 0, (), None), snapshot
            assert base in (None, snapshot["sequence"])
            base = snapshot["sequence"]

        async def receive(socket):
            message = await socket.receive_json()
            assert message["type"] == "next" and "errors" not in message["payload"], message
            return message["payload"]["data"]

        changes = await _changes(
            lambda patient: gql.execute(ENROLL, {"groupId": group, "patientId": patient}),
            lambda enrollment: gql.execute(DISENROLL, {"id": enrollment}),
            patients,
        )
        last = base + changes
        received: dict[str, dict[int, dict]] = {"first": {}, "second": {}}
        await _read_until(lambda: receive(first), "groupUpdates", last, received["first"])
        await _read_until(lambda: receive(second), "groupUpdates", last, received["second"])
    counts = check(received, base, last)
    print(
        f"in process: {counts} over {changes} changes, sequences per client { ({k: len(v) for k, v in received.items()}) }"
    )
    assert counts == {"disagreeing": 0, "wrong": 0, "missing_last": 0, "unnamed": 0}
    # One process reads each change in the writing transaction: every watcher gets every sequence.
    assert all(sorted(updates) == list(range(base + 1, last + 1)) for updates in received.values())


@pytest.mark.parametrize("build_once", ["1", "0"])
async def test_every_group_sequence_carries_the_line_after_exactly_that_change_across_processes(
    database_url, build_once
):
    """Two server processes on the postgres broadcaster, changes sent to both at once, two watchers
    on each. A process that reads a change after its commit and finds a later one already there
    sends that later one only (a gap, never a number with another line); every watcher ends on the
    last, and the committing process's own watchers get each of its changes."""
    env = {"BROADCAST_URL": backends(database_url)["postgres"], "GS_LIVE_BUILD_ONCE": build_once}
    async with start_servers(database_url, 2, env) as urls:
        clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
        try:
            gql = GraphQLClient(clients[0], make_token())
            clinic = Clinic(gql)
            await clinic.facility()
            await clinic.add_staff()
            group = await make_group(gql, clinic, maxCapacity=CAPACITY)
            patients = [await clinic.add_patient() for _ in range(ROUNDS * PER_ROUND)]
            sockets = {
                f"{watcher}@{n}": await _open(url, make_token(), WATCH, {"id": group})
                for n, url in enumerate(urls)
                for watcher in ("a", "b")
            }
            try:
                base = None
                for socket in sockets.values():
                    snapshot = (await _next(socket))["groupUpdates"]
                    assert snapshot["kind"] == "SNAPSHOT" and contents(snapshot) == (0, 0, (), None)
                    base = snapshot["sequence"]
                await asyncio.sleep(0.5)
                writers = [GraphQLClient(client, make_token()) for client in clients]
                turn = iter(range(10**6))

                def writer() -> GraphQLClient:
                    return writers[next(turn) % 2]

                changes = await _changes(
                    lambda patient: writer().execute(ENROLL, {"groupId": group, "patientId": patient}),
                    lambda enrollment: writer().execute(DISENROLL, {"id": enrollment}),
                    patients,
                )
                last = base + changes
                received: dict[str, dict[int, dict]] = {name: {} for name in sockets}
                for name, socket in sockets.items():

                    async def receive(socket=socket):
                        return await _next(socket)

                    await _read_until(receive, "groupUpdates", last, received[name])
            finally:
                for socket in sockets.values():
                    await socket.close()
        finally:
            for client in clients:
                await client.aclose()
    counts = check(received, base, last)
    gaps = {name: changes - len(updates) for name, updates in received.items()}
    print(f"across processes (build once {build_once}): {counts} over {changes} changes, gaps per watcher {gaps}")
    assert counts == {"disagreeing": 0, "wrong": 0, "missing_last": 0, "unnamed": 0}
