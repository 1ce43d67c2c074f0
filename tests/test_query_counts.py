"""The session list with rosters, supervisors and attendance issues a fixed number of SQL
statements, whatever the page size (DataLoaders, no N+1)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.support.builders_scheduling import create_group
from tests.support.builders_sessions import (
    NOW,
    at,
    occurrence_payload,
    put_enrollment,
    record_events,
    set_now,
)

PAGE = """
query($first: Int) {
  groupSessions(filter: {from: "2026-03-01", to: "2026-03-31"}, first: $first) {
    totalCount
    edges { node {
      id title status locked groupType startsAt endsAt sessionDate startTime endTime occurrenceId
      facility { id name timezone }
      group { id name }
      roster { id status allowedNext billable addedLate patient { id name mrn } }
      supervisors { id status allowedNext staff { id name facility { id } } }
      attendance { scheduled attended late absent total terminal }
      auditLog { action entityType }
    } }
  }
}"""

# The same page with the clinical notes' fields (issue 19): note status, minutes, modality, the notes.
NOTES_PAGE = PAGE.replace(
    "roster { id status allowedNext billable addedLate patient { id name mrn } }",
    "modality groupNote { id status memberNotes { id status addenda { id } } } "
    "roster { id status allowedNext billable addedLate noteStatus minutesPresent modality memberNote { id status } "
    "patient { id name mrn } }",
)

SET_SUPERVISOR = """
mutation($s: ID!, $staff: ID!) { setSupervisorAttendance(sessionId: $s, staffId: $staff, status: ATTENDED) { id } }"""

SET_ATTENDANCE = """
mutation($id: ID!) { setAttendance(participantId: $id, status: LATE) { id } }"""


@contextlib.contextmanager
def count_statements(services):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# The read cache's versions and the page's own statements (were 12 and 12 before the versions were read
# first and the preview read coverages and diagnoses in one statement; the audit log, kept to its newest
# entries since it is paged, counts them in a statement of its own).
@pytest.mark.parametrize("document, most", [(PAGE, 10), (NOTES_PAGE, 13)], ids=["sessions", "with-notes"])
async def test_session_list_statement_count_does_not_grow_with_the_page(
    gql, clinic, services, test_clock, document, most
):
    set_now(test_clock, NOW)
    group_id = await create_group(gql, clinic, groupType="THERAPY", maxCapacity=10)
    dana, sam = clinic.staff
    for i in range(4):
        patient = await clinic.add_patient()
        await put_enrollment(services, group_id, patient)
        await clinic.supervise(dana if i % 2 else sam, patient)
    await record_events(
        services,
        *(
            (
                "pm_group_session_scheduled",
                occurrence_payload(clinic.facility_id, group_id, at(8, day=1) + timedelta(hours=6 * i)),
            )
            for i in range(50)
        ),
    )
    first_page = (await gql.execute(document, {"first": 50}))["groupSessions"]
    assert first_page["totalCount"] == 50
    for edge in first_page["edges"][:3]:  # some marked rows, so both sides of the outer join are read
        node = edge["node"]
        await gql.execute(SET_SUPERVISOR, {"s": node["id"], "staff": sam})
        await gql.execute(SET_ATTENDANCE, {"id": node["roster"][0]["id"]})

    # Each page asked once before (the 50 above): both measured requests then read the read cache's
    # versions first and execute (app/http/read_cache.py), so they count the same statements.
    await gql.execute(document, {"first": 5})
    counts = {}
    for first in (5, 50):
        with count_statements(services) as statements:
            page = (await gql.execute(document, {"first": first}))["groupSessions"]
        assert len(page["edges"]) == first
        assert all(len(e["node"]["roster"]) == 4 and len(e["node"]["supervisors"]) == 2 for e in page["edges"])
        counts[first] = len(statements)

    assert counts[5] == counts[50], counts
    assert counts[50] <= most, counts


async def test_scheduled_occurrences_are_written_and_consumed_in_a_fixed_number_of_statements(
    gql, clinic, services, test_clock
):
    """The outbox takes a run of events in one INSERT and the session feed makes their sessions,
    rosters and audit entries in a fixed number of statements, whatever the length of the run."""
    set_now(test_clock, NOW)
    group_id = await create_group(gql, clinic, groupType="THERAPY", maxCapacity=10)
    for _ in range(3):
        await put_enrollment(services, group_id, await clinic.add_patient())
    counts = {}
    for day, size in ((2, 3), (3, 40)):
        with count_statements(services) as statements:
            await record_events(
                services,
                *(
                    (
                        "pm_group_session_scheduled",
                        occurrence_payload(clinic.facility_id, group_id, at(6, day=day) + timedelta(minutes=20 * i)),
                    )
                    for i in range(size)
                ),
            )
        counts[size] = len(statements)
    assert counts[3] == counts[40], counts
    page = (await gql.execute(PAGE, {"first": 50}))["groupSessions"]
    assert page["totalCount"] == 43
    assert all(len(edge["node"]["roster"]) == 3 for edge in page["edges"])
