"""A request the database rolls back for another (a deadlock, PostgreSQL's 40P01) did nothing and may be
sent again: it answers CONFLICT with `retryable: true` and 503 with Retry-After, as a request that found
no free connection does, never INTERNAL; and its Idempotency-Key is free again, so the retry runs.

The deadlock is a real one: a second connection holds the roster row that setAttendance takes after the
session's row, then asks for the session's row. That connection waits 30 s before it looks for a
deadlock, so the request's own check (after PostgreSQL's default second) finds it and is the one ended."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from app.ids import split_id
from tests.support.builders_sessions import NOW, SET_ATTENDANCE, create_session, set_now

READ = "query($id: ID!) { groupSession(id: $id) { roster { id status } } }"


async def waiting_for_a_lock(conn: asyncpg.Connection, besides: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1", besides
        )
    )


async def deadlocked(gql, database_url: str, session: dict, entry_id: str, headers: dict):
    """setAttendance(entry) while another transaction holds the entry and then asks for the session."""
    conn = await asyncpg.connect(database_url)
    try:
        holder = conn.transaction()
        await holder.start()
        await conn.execute("SET LOCAL deadlock_timeout = '30s'")
        await conn.execute("SELECT 1 FROM roster_entries WHERE id = $1 FOR UPDATE", uuid.UUID(split_id(entry_id)[1]))
        mark = asyncio.create_task(
            gql.post(SET_ATTENDANCE, {"participantId": entry_id, "status": "ATTENDED"}, headers=headers)
        )
        watcher = await asyncpg.connect(database_url)
        try:
            for _ in range(200):  # the request holds the session's row and waits for the entry
                if await waiting_for_a_lock(watcher, conn.get_server_pid()):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("setAttendance never waited for the held roster row")
        finally:
            await watcher.close()
        await conn.execute(
            "SELECT 1 FROM group_sessions WHERE id = $1 FOR UPDATE", uuid.UUID(split_id(session["id"])[1])
        )
        await holder.rollback()
        return await mark
    finally:
        await conn.close()


async def test_a_request_ended_by_a_deadlock_is_retryable_and_its_key_runs_again(gql, clinic, database_url, test_clock):
    set_now(test_clock, NOW)
    for name in ("Ana Reyes", "Ben Ortiz"):
        await clinic.cover(await clinic.add_patient(name))
    session = await create_session(gql, clinic, starts_at=NOW)
    entry = session["roster"][0]["id"]
    key = {"Idempotency-Key": f"deadlock-{uuid.uuid4()}"}

    response = await deadlocked(gql, database_url, session, entry, key)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2", response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "CONFLICT", "retryable": True, "retryAfterSeconds": 2}, error
    assert "rolled back" in error["message"] and "nothing was done" in error["message"]
    roster = (await gql.execute(READ, {"id": session["id"]}))["groupSession"]["roster"]
    assert {e["status"] for e in roster} == {"SCHEDULED"}  # nothing of it was written

    retried = await gql.post(SET_ATTENDANCE, {"participantId": entry, "status": "ATTENDED"}, headers=key)
    assert retried.status_code == 200 and "errors" not in retried.json(), retried.text
    assert retried.json()["data"]["setAttendance"]["status"] == "ATTENDED"
    assert "idempotent-replayed" not in {h.lower() for h in retried.headers}
