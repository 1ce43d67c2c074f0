"""The read cache (app/http/read_cache.py): a repeated read of a session page is answered from the
bytes kept for it, and never once anything it shows has changed: every mutation that touches a
page followed by that page, the clock passing a session's start, and a write through another
server process (read-your-writes across processes)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import httpx
import pytest

from tests.conftest import GraphQLClient, make_token
from tests.support.builders import Clinic
from tests.support.builders_sessions import NOW, SET_ATTENDANCE, SET_SUPERVISOR, at, create_session, set_now
from tests.support.server import start_servers
from tests.test_query_counts import count_statements

PAGE_FIELDS = """
id title status locked groupType startsAt endsAt sessionDate startTime endTime modality
facility { id name timezone }
roster { id status allowedNext billable noteStatus patient { id name mrn } }
supervisors { id status allowedNext staff { id name } }
attendance { scheduled attended late absent total terminal }
billingPreview {
  billableCount state presentSupervisors maxParticipantsPerSupervisor readyToBill
  payer { id name } band { minSize maxSize procedureCode modifiers rate }
  issues { code severity message accepted participantIds }
}
"""
LIST = f"""query($from: Date, $to: Date) {{
  groupSessions(first: 50, filter: {{from: $from, to: $to}}) {{ totalCount edges {{ node {{ {PAGE_FIELDS} }} }} }}
}}"""
DETAIL = f"query($id: ID!) {{ groupSession(id: $id) {{ {PAGE_FIELDS} }} }}"
DAY = {"from": "2026-03-10", "to": "2026-03-10"}
_fresh = itertools.count()


async def read(gql: GraphQLClient, document: str, variables: dict, fresh: bool = False) -> bytes:
    """The answer's bytes; `fresh` sends the document with a comment no earlier request had, so it
    is executed (a document is kept under its own text)."""
    if fresh:
        document = f"{document}\n# {next(_fresh)}"
    response = await gql.post(document, variables)
    assert response.status_code == 200 and b'"errors"' not in response.content, response.content
    return response.content


async def session_day(gql: GraphQLClient, clinic: Clinic) -> dict:
    """A session at 09:00-10:30 on the test day with three members covered by the clinic's payer,
    a band for their size, and a supervisor assigned to the first."""
    await clinic.bands([(1, 12, "90853", "40.00")])
    for _ in range(3):
        await clinic.cover(await clinic.add_patient())
    await clinic.supervise(clinic.staff[1], clinic.patients[0])
    return await create_session(gql, clinic, starts_at=at(9))


async def test_a_repeated_read_is_answered_from_the_kept_bytes_with_one_statement(gql, clinic, services, test_clock):
    set_now(test_clock, NOW)
    session = await session_day(gql, clinic)
    for document, variables in ((LIST, DAY), (DETAIL, {"id": session["id"]})):
        first = await read(gql, document, variables)  # executed, noted as answered
        assert await read(gql, document, variables) == first  # executed after the versions, kept
        with count_statements(services) as statements:
            again = await read(gql, document, variables)
        assert again == first
        assert len(statements) == 1 and "read_versions" in statements[0], statements
        # Executed afresh, the page says the same.
        assert await read(gql, document, variables, fresh=True) == first


async def test_the_audience_is_part_of_the_key(gql, clinic, test_clock):
    """A caller without billing.read gets its own answer (here: an error), never another caller's bytes."""
    set_now(test_clock, NOW)
    session = await session_day(gql, clinic)
    await read(gql, DETAIL, {"id": session["id"]})
    other = gql.as_(facilities=("00000000-0000-0000-0000-000000000001",))
    status, code, _ = await other.error(DETAIL, {"id": session["id"]})
    assert code == "NOT_FOUND", (status, code)


async def _mark(gql, clinic, session):
    await gql.execute(SET_ATTENDANCE, {"participantId": session["roster"][0]["id"], "status": "ATTENDED"})


async def _supervise(gql, clinic, session):
    await gql.execute(SET_SUPERVISOR, {"sessionId": session["id"], "staffId": clinic.staff[1], "status": "ATTENDED"})


async def _bands(gql, clinic, session):
    await clinic.bands([(1, 12, "90853", "55.00")])


async def _ratio(gql, clinic, session):
    await clinic.supervision_rule(1)


async def _new_session(gql, clinic, session):
    await create_session(gql, clinic, starts_at=at(13), title="Afternoon")


async def _modality(gql, clinic, session):
    await gql.execute(
        "mutation($s: ID!) { setSessionModality(sessionId: $s, modality: TELEHEALTH_VIDEO) { id } }",
        {"s": session["id"]},
    )


async def _group_note(gql, clinic, session):
    facilitator = gql.as_(subject=clinic.staff[0], facilities=[clinic.facility_id])
    await facilitator.execute(
        "mutation($s: ID!, $input: GroupNoteInput!) { createGroupNote(sessionId: $s, input: $input) { id } }",
        {"s": session["id"], "input": {"topic": "Coping skills"}},
    )


async def _late(gql, clinic, session):
    await gql.execute(SET_ATTENDANCE, {"participantId": session["roster"][2]["id"], "status": "LATE"})


async def _rename(gql, clinic, session):
    await gql.execute(
        'mutation($id: ID!) { updatePatient(id: $id, input: {name: "Renamed Member"}) { id } }',
        {"id": session["roster"][0]["patient"]["id"]},
    )


async def _nothing(gql, clinic, session):
    pass


# Each write, after what makes it show on the page (a member marked: the preview's band and the
# member notes a group note drafts are for those present).
WRITES = {
    "setAttendance": (_nothing, _mark),
    "setSupervisorAttendance": (_nothing, _supervise),
    "setGroupSizeBands": (_mark, _bands),
    "setSupervisionRule": (_nothing, _ratio),
    "createGroupSession": (_nothing, _new_session),
    "setSessionModality": (_nothing, _modality),
    "createGroupNote": (_mark, _group_note),
    "setAttendance LATE": (_nothing, _late),
    "updatePatient": (_nothing, _rename),  # a roster member's name
}


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
@pytest.mark.parametrize("page", ["list", "detail"])
async def test_every_write_that_touches_a_page_is_in_the_next_read_of_it(gql, clinic, test_clock, write, page):
    set_now(test_clock, NOW)
    session = await session_day(gql, clinic)
    document, variables = (LIST, DAY) if page == "list" else (DETAIL, {"id": session["id"]})
    setup, change = WRITES[write]
    await setup(gql, clinic, session)
    before = await read(gql, document, variables)
    assert await read(gql, document, variables) == before  # kept
    assert await read(gql, document, variables) == before  # answered from what was kept
    await change(gql, clinic, session)
    after = await read(gql, document, variables)
    assert after == await read(gql, document, variables, fresh=True)
    if not (write == "createGroupSession" and page == "detail"):
        assert after != before, "the write changed nothing on the page: the case proves nothing"


async def test_a_status_that_follows_the_clock_is_never_served_stale(gql, clinic, test_clock):
    set_now(test_clock, at(8, 59))
    session = await session_day(gql, clinic)
    variables = {"id": session["id"]}
    before = await read(gql, DETAIL, variables)
    assert b'"status":"SCHEDULED"' in before
    assert await read(gql, DETAIL, variables) == before
    assert await read(gql, DETAIL, variables) == before
    set_now(test_clock, at(9))
    started = await read(gql, DETAIL, variables)
    assert b'"status":"IN_PROGRESS"' in started
    set_now(test_clock, at(8, 59))  # a clock set back never reuses what was kept after it
    assert await read(gql, DETAIL, variables) == before
    set_now(test_clock, at(10, 30) + timedelta(seconds=1))
    assert b'"status":"ENDED"' in await read(gql, DETAIL, variables)


async def test_a_write_through_another_process_is_in_the_next_read(database_url):
    """Read-your-writes across processes: each process keeps its own answers, and checks the read
    versions in the database before serving one."""
    async with start_servers(database_url, 2) as (reader_url, writer_url):
        async with (
            httpx.AsyncClient(base_url=reader_url, timeout=30) as reader_http,
            httpx.AsyncClient(base_url=writer_url, timeout=30) as writer_http,
        ):
            writer = GraphQLClient(writer_http, make_token())
            reader = GraphQLClient(reader_http, make_token())
            clinic = Clinic(writer)
            await clinic.facility()
            await clinic.add_staff()
            for _ in range(3):
                await clinic.add_patient()
            session = await create_session(writer, clinic, starts_at=None)
            variables = {"id": session["id"]}
            for k, entry in enumerate(session["roster"]):
                seen = await read(reader, DETAIL, variables)
                assert await read(reader, DETAIL, variables) == seen  # kept by the reader's process
                assert await read(reader, DETAIL, variables) == seen  # answered from what it kept
                await writer.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})
                # The very next read through the other process, with no wait, sees the write.
                after = await read(reader, DETAIL, variables)
                assert after.count(b'"status":"ATTENDED"') == k + 1, after
            # Both processes at once, many times: no read ever shows fewer marks than were committed before it began.
            marks = [e["id"] for e in session["roster"]]
            for entry in marks:
                await writer.execute(SET_ATTENDANCE, {"participantId": entry, "status": "LATE"})
                answers = await asyncio.gather(*(read(reader, DETAIL, variables) for _ in range(3)))
                committed = marks.index(entry) + 1
                assert all(a.count(b'"status":"LATE"') == committed for a in answers)


async def test_every_table_a_page_can_read_carries_the_read_version_triggers(services):
    """A table added later without the trigger would let a cached page go stale: every table but the
    ones no cached page reads has it (migration 0021_read_versions)."""
    from sqlalchemy import text

    unversioned = {
        "integration_events",
        "consumer_offsets",
        "idempotency_keys",
        "webhook_deliveries",
        "webhook_attempts",
        "read_versions",
        "read_version_marks",
        "alembic_version",
        "attempt_counters",
    }
    async with services.sessionmaker() as db:
        tables = set((await db.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).all())
        triggered = set(
            (
                await db.scalars(
                    text(
                        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                        "WHERE t.tgname = 'read_versions_touch'"
                    )
                )
            ).all()
        )
    assert tables - unversioned == triggered
