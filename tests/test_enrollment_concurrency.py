"""The waitlist under concurrency (rules.md §5): simultaneous callers, one consistent line, no errors.

Each burst is fired at once (asyncio.gather) at the in-process app and at real server
processes over TCP; the group-row lock is what serializes them, not the event loop.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from contextlib import AsyncExitStack

import httpx

from app.ids import decode_id
from tests.conftest import GraphQLClient, make_token
from tests.support.builders_enrollment import (
    DISENROLL,
    ENROLL,
    UPDATE_CAPACITY,
    assert_line_is_sound,
    enroll,
    group_line,
    make_group,
    stored_enrollments,
)
from tests.support.server import start_server, start_servers
from tests.test_enrollment import enrollment_events


async def register_patients(clinic, count: int) -> list[str]:
    return [await clinic.add_patient() for _ in range(count)]


async def fire(clients: list[GraphQLClient], document: str, variables: list[dict]) -> list[dict]:
    """Send every request at once, spread over the clients; every caller must succeed."""
    responses = await asyncio.gather(
        *(client.post(document, v) for client, v in zip(itertools.cycle(clients), variables))
    )
    bodies = [r.json() for r in responses]
    assert [r.status_code for r in responses] == [200] * len(responses), bodies
    assert [b.get("errors") for b in bodies] == [None] * len(bodies)
    return [b["data"] for b in bodies]


async def assert_fifty_enrollments_fill_five_seats(gql, clinic, services, clients: list[GraphQLClient]) -> None:
    group = await make_group(gql, clinic, maxCapacity=8)
    for patient in await register_patients(clinic, 3):
        await enroll(gql, group, patient)
    newcomers = await register_patients(clinic, 50)
    results = await fire(clients, ENROLL, [{"groupId": group, "patientId": p} for p in newcomers])
    outcomes = Counter(r["enrollPatient"]["outcome"] for r in results)
    assert outcomes == {"ENROLLED": 5, "WAITLISTED": 45}
    positions = sorted(r["enrollPatient"]["enrollment"]["waitlistPosition"] or 0 for r in results)
    assert positions == [0] * 5 + list(range(1, 46))
    line = await group_line(gql, group)
    assert line["capacity"]["enrolled"] == 8 and line["capacity"]["waitlisted"] == 45
    assert line["positions"] == list(range(1, 46))
    assert_line_is_sound(await stored_enrollments(services, group), 8)


async def test_fifty_simultaneous_enrollments_in_process(gql, clinic, services):
    await assert_fifty_enrollments_fill_five_seats(gql, clinic, services, [gql])


async def test_fifty_simultaneous_enrollments_over_tcp_to_a_real_server(gql, clinic, services, database_url):
    async with start_server(database_url) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        remote = GraphQLClient(http, make_token())
        await assert_fifty_enrollments_fill_five_seats(gql, clinic, services, [remote])


async def test_fifty_simultaneous_enrollments_across_two_server_processes(gql, clinic, services, database_url):
    async with start_servers(database_url, 2) as urls, AsyncExitStack() as stack:
        clients = [
            GraphQLClient(await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=60)), make_token())
            for url in urls
        ]
        await assert_fifty_enrollments_fill_five_seats(gql, clinic, services, clients)


async def test_twenty_simultaneous_disenrolls_promote_twenty_distinct_patients(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=20)
    members = [await enroll(gql, group, p) for p in await register_patients(clinic, 40)]
    seated, waiting = members[:20], members[20:]
    assert {m["outcome"] for m in seated} == {"ENROLLED"} and {m["outcome"] for m in waiting} == {"WAITLISTED"}

    results = await fire([gql], DISENROLL, [{"id": m["enrollment"]["id"], "reason": "Discharged"} for m in seated])

    promoted = [r["disenrollPatient"]["promoted"]["id"] for r in results]
    assert sorted(promoted) == sorted(m["enrollment"]["id"] for m in waiting)
    line = await group_line(gql, group)
    assert line["enrolled"] == {m["enrollment"]["patient"]["id"] for m in waiting}
    assert line["waitlist"] == [] and line["capacity"]["enrolled"] == 20
    assert_line_is_sound(await stored_enrollments(services, group), 20)
    promotions = [e for e in await enrollment_events(services) if e.type == "pm_group_enrollment_promoted"]
    assert len(promotions) == len({e.payload["enrollmentId"] for e in promotions}) == 20


async def test_a_mixed_burst_keeps_the_line_sound_and_promotes_each_patient_once(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=10)
    members = [await enroll(gql, group, p) for p in await register_patients(clinic, 25)]
    seated, waiting = members[:10], members[10:]
    newcomers = await register_patients(clinic, 8)

    async def leave(member):
        return await gql.post(DISENROLL, {"id": member["enrollment"]["id"]})

    async def join(patient):
        return await gql.post(ENROLL, {"groupId": group, "patientId": patient})

    async def grow():
        return await gql.post(UPDATE_CAPACITY, {"id": group, "max": 13})

    responses = await asyncio.gather(
        *(leave(m) for m in seated[:6]),
        *(leave(m) for m in waiting[3:9]),
        *(join(p) for p in newcomers),
        grow(),
    )
    assert [r.json().get("errors") for r in responses] == [None] * len(responses)

    rows = await stored_enrollments(services, group)
    assert_line_is_sound(rows, 13)
    active = [r for r in rows if r.status in ("ENROLLED", "WAITLISTED")]
    assert len(active) == 25 - 12 + 8
    assert sum(r.status == "ENROLLED" for r in active) == 13
    promotions = [e for e in await enrollment_events(services) if e.type == "pm_group_enrollment_promoted"]
    promoted = {e.payload["enrollmentId"] for e in promotions}
    assert len(promotions) == len(promoted)
    # Of the patients waiting before the burst who stayed, those promoted were the front of the line.
    left = {m["enrollment"]["id"] for m in waiting[3:9]}
    stayed = [str(decode_id(m["enrollment"]["id"], "Enrollment")) for m in waiting if m["enrollment"]["id"] not in left]
    promoted_from_line = promoted & set(stayed)
    assert promoted_from_line == set(stayed[: len(promoted_from_line)])
