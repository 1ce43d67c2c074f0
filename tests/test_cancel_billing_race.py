"""Cancelling or moving an occurrence races billing its session (rules.md §4, §9): real concurrent
requests to a real server process, many trials. Whoever takes the session row first wins: either
the occurrence is cancelled (moved) and its session is never billed, or the session is billed and
the cancellation (move) answers LOCKED. Never both."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select

from app.db import models
from app.ids import decode_id
from tests.conftest import GraphQLClient, make_token
from tests.support.builders_enrollment import enroll, make_group
from tests.support.builders_scheduling import add_occurrence
from tests.support.builders_sessions import PHOENIX
from tests.support.server import start_server

TRIALS = 24
# runBilling leaves this many milliseconds after the cancellation (or move) was sent.
DELAYS_MS = (0, 1, 2, 3, 4, 5, 6, 8)

CANCEL = 'mutation($id: ID!) { cancelOccurrence(id: $id, reason: "Room flooded") { id } }'
MOVE = "mutation($id: ID!, $d: Date!) { updateOccurrence(id: $id, input: {sessionDate: $d}) { id } }"
RUN_BILLING = "mutation($id: ID!) { runBilling(sessionId: $id) { id locked } }"
BATCH = """mutation($id: ID!, $entries: [AttendanceEntryInput!]!) {
  setAttendanceBatch(sessionId: $id, entries: $entries) { __typename } }"""
SESSION_OF = "query($id: ID!) { occurrence(id: $id) { session { id roster { id } } } }"


async def ended_occurrences(gql, clinic, count: int) -> list[tuple[str, str]]:
    """`count` occurrences that ended yesterday, each with its session of three attending, covered members."""
    await clinic.bands([(1, 8, "90853", "30.00")])
    group = await make_group(gql, clinic, maxCapacity=8, durationMinutes=15)
    for _ in range(3):
        patient = await clinic.add_patient()
        await clinic.cover(patient)
        await enroll(gql, group, patient)
    yesterday = (datetime.now(PHOENIX) - timedelta(days=1)).date().isoformat()
    pairs = []
    for i in range(count):
        start = datetime(2000, 1, 1, 0, 10) + timedelta(minutes=25 * i)
        occurrence = await add_occurrence(
            gql, group, yesterday, start.strftime("%H:%M:%S"), (start + timedelta(minutes=15)).strftime("%H:%M:%S")
        )
        session = await _session_of(gql, occurrence["id"])
        entries = [{"participantId": row["id"], "status": "ATTENDED"} for row in session["roster"]]
        assert len(entries) == 3
        await gql.execute(BATCH, {"id": session["id"], "entries": entries})
        pairs.append((occurrence["id"], session["id"]))
    return pairs


async def _session_of(gql, occurrence_id: str) -> dict:
    deadline = time.monotonic() + 10
    while True:
        session = (await gql.execute(SESSION_OF, {"id": occurrence_id}))["occurrence"]["session"]
        if session is not None or time.monotonic() > deadline:
            return session
        await asyncio.sleep(0.05)


async def race(
    client: GraphQLClient, change: str, change_variables: dict, session_id: str, delay_ms: int
) -> tuple[dict, dict]:
    async def bill_later() -> httpx.Response:
        await asyncio.sleep(delay_ms / 1000)
        return await client.post(RUN_BILLING, {"id": session_id})

    changed, billed = await asyncio.gather(client.post(change, change_variables), bill_later())
    return changed.json(), billed.json()


def code(body: dict) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def session_state(services, session_id: str) -> tuple[models.GroupSession, int, int]:
    pk = decode_id(session_id, "GroupSession")
    async with services.sessionmaker() as db:
        row = await db.get(models.GroupSession, pk)
        charges = await db.scalar(
            select(func.count()).where(models.Charge.session_id == pk, models.Charge.status == "ACTIVE")
        )
        claims = await db.scalar(select(func.count()).where(models.Claim.session_id == pk))
    return row, int(charges), int(claims)


async def settled(services, check, seconds: float = 15) -> None:
    """Wait for the clinical feed to apply what scheduling committed (it runs right after each commit)."""
    deadline = time.monotonic() + seconds
    while not await check() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def test_cancel_and_billing_of_one_session_never_both_succeed(gql, clinic, services, database_url):
    pairs = await ended_occurrences(gql, clinic, TRIALS)
    outcomes = []
    async with start_server(database_url) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        client = GraphQLClient(http, make_token())
        for (occurrence_id, session_id), delay in zip(pairs, itertools.cycle(DELAYS_MS)):
            cancelled, billed = await race(client, CANCEL, {"id": occurrence_id}, session_id, delay)
            outcomes.append((occurrence_id, session_id, cancelled, billed))

        async def feed_caught_up() -> bool:
            for _, session_id, cancelled, _ in outcomes:
                row, _, _ = await session_state(services, session_id)
                if code(cancelled) is None and row.cancelled_at is None:
                    return False
            return True

        await settled(services, feed_caught_up)
    wins = {"cancel": 0, "billing": 0}
    for _occurrence_id, session_id, cancelled, billed in outcomes:
        row, charges, claims = await session_state(services, session_id)
        if code(cancelled) is None:
            wins["cancel"] += 1
            assert code(billed) == "ILLEGAL_TRANSITION", billed
            assert (charges, claims, row.billed_at, row.locked_at) == (0, 0, None, None), (cancelled, billed)
            assert row.cancelled_at is not None
        else:
            wins["billing"] += 1
            assert code(cancelled) == "LOCKED", cancelled
            assert code(billed) is None and billed["data"]["runBilling"]["locked"] is True, billed
            assert (charges, claims, row.cancelled_at) == (3, 3, None)
    assert sum(wins.values()) == TRIALS


async def test_moving_an_occurrence_and_billing_its_session_never_both_succeed(gql, clinic, services, database_url):
    pairs = await ended_occurrences(gql, clinic, TRIALS)
    tomorrow = (datetime.now(PHOENIX) + timedelta(days=1)).date()
    outcomes = []
    async with start_server(database_url) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        client = GraphQLClient(http, make_token())
        for (occurrence_id, session_id), delay in zip(pairs, itertools.cycle(DELAYS_MS)):
            moved, billed = await race(
                client, MOVE, {"id": occurrence_id, "d": tomorrow.isoformat()}, session_id, delay
            )
            outcomes.append((occurrence_id, session_id, moved, billed))

        async def feed_caught_up() -> bool:
            for _, session_id, moved, _ in outcomes:
                row, _, _ = await session_state(services, session_id)
                if code(moved) is None and row.ends_at.astimezone(PHOENIX).date() != tomorrow:
                    return False
            return True

        await settled(services, feed_caught_up)
    for _occurrence_id, session_id, moved, billed in outcomes:
        row, charges, claims = await session_state(services, session_id)
        if code(moved) is None:
            assert code(billed) == "ILLEGAL_TRANSITION", billed
            assert (charges, claims, row.billed_at, row.locked_at) == (0, 0, None, None), (moved, billed)
            assert row.starts_at.astimezone(PHOENIX).date() == tomorrow
        else:
            assert code(moved) == "LOCKED", moved
            assert (charges, claims) == (3, 3) and row.locked_at is not None


async def test_billing_skips_a_session_the_feed_has_not_cancelled_or_moved_yet(gql, clinic, services):
    """The feed's lag, held still: the occurrence is cancelled (another moved into tomorrow) in the
    scheduling tables while its session still reads as live. runBilling refuses, the sweep and
    bill-due skip it, and bill the session whose occurrence stands."""
    from sqlalchemy import update

    from app.operations.billing_pipeline import bill_due_sessions

    (cancelled_occ, cancelled_session), (moved_occ, moved_session), (_, billable_session) = await ended_occurrences(
        gql, clinic, 3
    )
    tomorrow = datetime.now(PHOENIX) + timedelta(days=1)
    async with services.sessionmaker() as db, db.begin():
        occurrence = models.GroupOccurrence
        await db.execute(
            update(occurrence)
            .where(occurrence.id == decode_id(cancelled_occ, "GroupOccurrence"))
            .values(cancelled_at=datetime.now(PHOENIX))
        )
        await db.execute(
            update(occurrence)
            .where(occurrence.id == decode_id(moved_occ, "GroupOccurrence"))
            .values(starts_at=tomorrow, ends_at=tomorrow + timedelta(minutes=15))
        )
    for session_id in (cancelled_session, moved_session):
        status, error, body = await gql.error(RUN_BILLING, {"id": session_id})
        assert error == "ILLEGAL_TRANSITION", body
    assert await bill_due_sessions(services) == 1
    for session_id, expected in ((cancelled_session, 0), (moved_session, 0), (billable_session, 3)):
        row, charges, claims = await session_state(services, session_id)
        assert (charges, claims) == (expected, expected)
        assert (row.billed_at is not None) == bool(expected)
