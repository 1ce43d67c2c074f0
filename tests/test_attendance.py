"""Attendance through the endpoint: the transition table for roster and supervisor rows, the 409
bodies, expectedStatus and two tablets, locked sessions and force, the batch, audit and scopes."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from app.auth import ALL_SCOPES
from app.operations.billing_pipeline import bill_due_sessions
from app.rules.attendance import STATUSES, TRANSITIONS
from app.rules.scopes import FACILITATOR_SCOPES
from tests.support.builders_sessions import (
    SET_ATTENDANCE,
    SET_SUPERVISOR,
    at,
    audit_rows,
    cancel_directly,
    create_session,
    get_session,
    lock_session,
    set_now,
)

PAIRS = list(itertools.product(STATUSES, STATUSES))
REFUSED = [(a, b) for a, b in PAIRS if b not in TRANSITIONS.get(a, ())]
ALLOWED = [(a, b) for a, b in PAIRS if b in TRANSITIONS.get(a, ())]

BATCH = """
mutation($sessionId: ID!, $entries: [AttendanceEntryInput!]!, $force: Boolean, $reason: String) {
  setAttendanceBatch(sessionId: $sessionId, entries: $entries, force: $force, reason: $reason) { id status }
}"""

WRITE_ONLY = ["clinical.group-session.read", "clinical.attendance.write"]


@pytest.fixture
async def room(gql, clinic):
    """Two patients on an ad-hoc session, both supervised by Sam."""
    for _ in range(2):
        patient = await clinic.add_patient()
        await clinic.supervise(clinic.staff[1], patient)
    session = await create_session(gql, clinic)
    clinic.session = session
    clinic.participants = [r["id"] for r in session["roster"]]
    clinic.supervisor = clinic.staff[1]
    return clinic


async def mark(gql, participant_id: str, status: str, **extra):
    return await gql.post(SET_ATTENDANCE, {"participantId": participant_id, "status": status, **extra})


async def mark_supervisor(gql, room, status: str, **extra):
    return await gql.post(
        SET_SUPERVISOR, {"sessionId": room.session["id"], "staffId": room.supervisor, "status": status, **extra}
    )


async def bring_to(gql, send, status: str) -> None:
    """Put a row at `status` (SCHEDULED is where it starts; any other status is one step away)."""
    if status != "SCHEDULED":
        response = await send(status)
        assert response.status_code == 200, response.json()


# ------------------------------------------------------------ the transition table


@pytest.mark.parametrize("current, new", ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
async def test_roster_allowed_transition(gql, room, current, new):
    participant = room.participants[0]
    await bring_to(gql, lambda s: mark(gql, participant, s), current)
    response = await mark(gql, participant, new)
    assert response.status_code == 200
    entry = response.json()["data"]["setAttendance"]
    assert entry["status"] == new
    assert entry["allowedNext"] == list(TRANSITIONS[new])
    assert entry["billable"] is (new in ("ATTENDED", "LATE"))


@pytest.mark.parametrize("current, new", REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
async def test_roster_refused_transition_answers_409(gql, room, services, current, new):
    participant = room.participants[0]
    await bring_to(gql, lambda s: mark(gql, participant, s), current)
    before = len(await audit_rows(services))
    response = await mark(gql, participant, new)
    assert response.status_code == 409
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "ILLEGAL_TRANSITION"
    assert error["message"].startswith(f"Attendance cannot change from {current} to {new}")
    assert error["path"] == ["setAttendance"]
    assert len(await audit_rows(services)) == before
    [row] = [r for r in (await get_session(gql, room.session["id"]))["roster"] if r["id"] == participant]
    assert row["status"] == current


@pytest.mark.parametrize("current, new", ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
async def test_supervisor_allowed_transition(gql, room, current, new):
    await bring_to(gql, lambda s: mark_supervisor(gql, room, s), current)
    response = await mark_supervisor(gql, room, new)
    assert response.status_code == 200
    supervisor = response.json()["data"]["setSupervisorAttendance"]
    assert supervisor["status"] == new and supervisor["staff"]["id"] == room.supervisor
    assert supervisor["allowedNext"] == list(TRANSITIONS[new])


@pytest.mark.parametrize("current, new", REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
async def test_supervisor_refused_transition_answers_409(gql, room, current, new):
    await bring_to(gql, lambda s: mark_supervisor(gql, room, s), current)
    response = await mark_supervisor(gql, room, new)
    assert response.status_code == 409
    assert response.json()["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION"
    [supervisor] = (await get_session(gql, room.session["id"]))["supervisors"]
    assert supervisor["status"] == current


# --------------------------------------------------------------- expectedStatus


async def test_expected_status_that_matches_applies_the_change(gql, room):
    response = await mark(gql, room.participants[0], "ATTENDED", expectedStatus="SCHEDULED")
    assert response.json()["data"]["setAttendance"]["status"] == "ATTENDED"


async def test_stale_expected_status_is_a_conflict(gql, room, services):
    await mark(gql, room.participants[0], "ATTENDED")
    before = len(await audit_rows(services))
    response = await mark(gql, room.participants[0], "LATE", expectedStatus="SCHEDULED")
    assert response.status_code == 409
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "ATTENDED" in body["errors"][0]["message"]
    assert len(await audit_rows(services)) == before


async def test_two_tablets_marking_one_row_one_wins_one_conflicts(gql, room, services):
    participant = room.participants[0]
    responses = await asyncio.gather(
        mark(gql, participant, "ATTENDED", expectedStatus="SCHEDULED"),
        mark(gql, participant, "LATE", expectedStatus="SCHEDULED"),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert len(await audit_rows(services, "attendance.set")) == 1


async def test_concurrent_writers_on_one_row_serialize(gql, room, services):
    participant = room.participants[0]
    responses = await asyncio.gather(*(mark(gql, participant, status) for status in ("ATTENDED", "LATE", "ABSENT")))
    assert all(r.status_code == 200 for r in responses)
    entries = await audit_rows(services, "attendance.set")
    # Each change saw the one before it: the audit chain has no gaps.
    assert [e.before["status"] for e in entries][0] == "SCHEDULED"
    assert all(a.after["status"] == b.before["status"] for a, b in zip(entries, entries[1:], strict=False))


async def test_supervisor_stale_expected_status_is_a_conflict(gql, room):
    await mark_supervisor(gql, room, "ATTENDED")
    response = await mark_supervisor(gql, room, "ABSENT", expectedStatus="SCHEDULED")
    assert response.status_code == 409 and response.json()["errors"][0]["extensions"]["code"] == "CONFLICT"


# --------------------------------------------------------------------- audit


async def test_every_change_is_audited_with_ids_and_statuses(gql, room, services):
    await mark(gql, room.participants[0], "LATE")
    await mark(gql, room.participants[0], "ATTENDED")
    entries = await audit_rows(services, "attendance.set")
    assert [(e.before["status"], e.after["status"]) for e in entries] == [("SCHEDULED", "LATE"), ("LATE", "ATTENDED")]
    assert {e.entity_type for e in entries} == {"RosterEntry"}
    assert all(e.session_id is not None and e.actor == "tester" and e.reason is None for e in entries)
    assert set(entries[0].after) == {"patientId", "status"}


async def test_supervisor_change_is_audited_under_the_supervisor_row_id(gql, room):
    response = await mark_supervisor(gql, room, "ATTENDED")
    supervisor_id = response.json()["data"]["setSupervisorAttendance"]["id"]
    data = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action entityType entityId before after } } }",
        {"id": room.session["id"]},
    )
    entry = data["groupSession"]["auditLog"][-1]
    assert entry["action"] == "attendance.set" and entry["entityType"] == "SupervisorAttendance"
    assert entry["entityId"] == supervisor_id
    assert entry["before"]["status"] == "SCHEDULED" and entry["after"]["status"] == "ATTENDED"


# ------------------------------------------------------------------ supervisors


async def test_supervisor_without_a_row_reads_scheduled_and_keeps_their_id(gql, room):
    detail = await get_session(gql, room.session["id"])
    [before] = detail["supervisors"]
    response = await mark_supervisor(gql, room, "LATE")
    after = response.json()["data"]["setSupervisorAttendance"]
    assert before["status"] == "SCHEDULED" and after["id"] == before["id"]
    [listed] = (await get_session(gql, room.session["id"]))["supervisors"]
    assert listed["status"] == "LATE"


async def test_staff_who_is_not_a_supervisor_of_the_session_is_bad_input(gql, room, services):
    response = await gql.post(
        SET_SUPERVISOR, {"sessionId": room.session["id"], "staffId": room.staff[0], "status": "ATTENDED"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await audit_rows(services, "attendance.set") == []


async def test_unknown_staff_is_not_found(gql, room):
    import uuid

    from app.ids import encode_id

    response = await gql.post(
        SET_SUPERVISOR,
        {"sessionId": room.session["id"], "staffId": encode_id("Staff", uuid.uuid4()), "status": "ATTENDED"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_supervisors_are_never_billable_rows(gql, room):
    await mark_supervisor(gql, room, "ATTENDED")
    detail = await get_session(gql, room.session["id"])
    assert detail["attendance"]["total"] == 2  # members only


# --------------------------------------------------------- cancelled and locked


async def test_cancelled_session_attendance_is_an_illegal_transition(gql, room, services):
    await cancel_directly(services, room.session["id"])
    response = await mark(gql, room.participants[0], "ATTENDED")
    assert response.status_code == 409
    assert response.json()["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION"
    response = await mark_supervisor(gql, room, "ATTENDED")
    assert response.json()["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION"


async def test_locked_session_edit_answers_409_locked(gql, room, services):
    await lock_session(services, room.session["id"])
    for response in (await mark(gql, room.participants[0], "ATTENDED"), await mark_supervisor(gql, room, "ATTENDED")):
        assert response.status_code == 409
        body = response.json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "LOCKED"


async def test_force_on_a_locked_session_needs_the_force_scope(gql, room, services):
    await lock_session(services, room.session["id"])
    caller = gql.as_(scopes=WRITE_ONLY)
    response = await mark(caller, room.participants[0], "ATTENDED", force=True, reason="Chart review")
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await audit_rows(services, "attendance.force_update") == []


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_force_on_a_locked_session_needs_a_reason(gql, room, services, reason):
    await lock_session(services, room.session["id"])
    response = await mark(gql, room.participants[0], "ATTENDED", force=True, reason=reason)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "reason" in body["errors"][0]["message"]


async def test_forced_change_on_a_locked_session_applies_and_is_audited(gql, room, services):
    await lock_session(services, room.session["id"])
    response = await mark(gql, room.participants[0], "ABSENT", force=True, reason="Left before start; chart review")
    assert response.status_code == 200
    assert response.json()["data"]["setAttendance"]["status"] == "ABSENT"
    [entry] = await audit_rows(services, "attendance.force_update")
    assert entry.reason == "Left before start; chart review"
    assert (entry.before["status"], entry.after["status"]) == ("SCHEDULED", "ABSENT")
    assert entry.entity_type == "RosterEntry" and entry.actor == "tester"
    assert await audit_rows(services, "attendance.set") == []


async def test_forced_supervisor_change_on_a_locked_session(gql, room, services):
    await lock_session(services, room.session["id"])
    response = await mark_supervisor(gql, room, "ATTENDED", force=True, reason="Supervisor sign-in sheet")
    assert response.json()["data"]["setSupervisorAttendance"]["status"] == "ATTENDED"
    [entry] = await audit_rows(services, "attendance.force_update")
    assert entry.entity_type == "SupervisorAttendance" and entry.reason == "Supervisor sign-in sheet"


async def test_force_on_an_unlocked_session_is_an_ordinary_change(gql, room, services):
    response = await mark(gql.as_(scopes=WRITE_ONLY), room.participants[0], "ATTENDED", force=True)
    assert response.status_code == 200
    assert len(await audit_rows(services, "attendance.set")) == 1


# ------------------------------------------------------------------- the batch


async def test_batch_marks_the_whole_roster(gql, room, services):
    a, b = room.participants
    data = await gql.execute(
        BATCH,
        {
            "sessionId": room.session["id"],
            "entries": [
                {"participantId": a, "status": "ATTENDED", "expectedStatus": "SCHEDULED"},
                {"participantId": b, "status": "ABSENT"},
            ],
        },
    )
    assert data["setAttendanceBatch"] == [{"id": a, "status": "ATTENDED"}, {"id": b, "status": "ABSENT"}]
    assert (await get_session(gql, room.session["id"]))["attendance"]["terminal"] is True
    assert len(await audit_rows(services, "attendance.set")) == 2


async def test_batch_is_all_or_nothing(gql, room, services):
    a, b = room.participants
    await mark(gql, b, "ATTENDED")
    response = await gql.post(
        BATCH,
        {
            "sessionId": room.session["id"],
            "entries": [
                {"participantId": a, "status": "ATTENDED"},
                {"participantId": b, "status": "ATTENDED"},  # the same status: illegal
            ],
        },
    )
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "ILLEGAL_TRANSITION" and b in error["message"]
    statuses = {r["id"]: r["status"] for r in (await get_session(gql, room.session["id"]))["roster"]}
    assert statuses == {a: "SCHEDULED", b: "ATTENDED"}
    assert len(await audit_rows(services, "attendance.set")) == 1


async def test_batch_with_a_stale_expected_status_is_a_conflict(gql, room):
    a, b = room.participants
    await mark(gql, b, "LATE")
    response = await gql.post(
        BATCH,
        {
            "sessionId": room.session["id"],
            "entries": [
                {"participantId": a, "status": "ATTENDED", "expectedStatus": "SCHEDULED"},
                {"participantId": b, "status": "ATTENDED", "expectedStatus": "SCHEDULED"},
            ],
        },
    )
    assert response.status_code == 409 and response.json()["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_batch_refuses_duplicates_and_strangers(gql, room):
    a = room.participants[0]
    other = await create_session(gql, room)
    stranger = other["roster"][0]["id"]
    for entries, fragment in [
        ([], "must not be empty"),
        ([{"participantId": a, "status": "ATTENDED"}] * 2, "more than once"),
        ([{"participantId": stranger, "status": "ATTENDED"}], "not on this session's roster"),
    ]:
        response = await gql.post(BATCH, {"sessionId": room.session["id"], "entries": entries})
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and fragment in error["message"], entries


async def test_batch_on_a_locked_session_needs_force(gql, room, services):
    await lock_session(services, room.session["id"])
    entries = [{"participantId": p, "status": "ATTENDED"} for p in room.participants]
    response = await gql.post(BATCH, {"sessionId": room.session["id"], "entries": entries})
    assert response.status_code == 409 and response.json()["errors"][0]["extensions"]["code"] == "LOCKED"
    data = await gql.execute(
        BATCH, {"sessionId": room.session["id"], "entries": entries, "force": True, "reason": "Late paperwork"}
    )
    assert {r["status"] for r in data["setAttendanceBatch"]} == {"ATTENDED"}
    assert len(await audit_rows(services, "attendance.force_update")) == 2


# -------------------------------------------------------- isolation and scopes


async def test_attendance_needs_the_write_scope(gql, room):
    caller = gql.as_(scopes=[s for s in ALL_SCOPES if s != "clinical.attendance.write"])
    for response in (
        await mark(caller, room.participants[0], "ATTENDED"),
        await mark_supervisor(caller, room, "ATTENDED"),
        await caller.post(
            BATCH,
            {
                "sessionId": room.session["id"],
                "entries": [{"participantId": room.participants[0], "status": "ATTENDED"}],
            },
        ),
    ):
        body = response.json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_facility_roster_row_is_not_found(gql, room):
    other = await room.facility(name="Other Clinic")
    caller = gql.as_(facilities=[other])
    for response in (
        await mark(caller, room.participants[0], "ATTENDED"),
        await mark_supervisor(caller, room, "ATTENDED"),
        await caller.post(
            BATCH,
            {
                "sessionId": room.session["id"],
                "entries": [{"participantId": room.participants[0], "status": "ATTENDED"}],
            },
        ),
    ):
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert {r["status"] for r in (await get_session(gql, room.session["id"]))["roster"]} == {"SCHEDULED"}


async def test_a_session_id_is_not_a_roster_entry_id(gql, room):
    response = await mark(gql, room.session["id"], "ATTENDED")
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# ---------------------------------------------------------------- live updates

WATCH = """
subscription($id: ID!) {
  sessionUpdates(sessionId: $id) { kind sequence changedParticipantIds session { roster { status } } }
}"""


async def watch(socket, session_id: str) -> dict:
    assert (await socket.receive_json())["type"] == "connection_ack"
    await socket.send_json(
        {"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"id": session_id}}}
    )
    return await next_update(socket)


async def next_update(socket) -> dict:
    message = await asyncio.wait_for(socket.receive_json(), 5)
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]["sessionUpdates"]


async def test_watchers_see_each_attendance_change(gql, room, ws):
    async with ws() as socket:
        assert (await watch(socket, room.session["id"]))["kind"] == "SNAPSHOT"
        await mark(gql, room.participants[0], "ATTENDED")
        update = await next_update(socket)
        assert (update["kind"], update["sequence"]) == ("ATTENDANCE_CHANGED", 1)
        assert update["changedParticipantIds"] == [room.participants[0]]
        await mark_supervisor(gql, room, "ATTENDED")
        update = await next_update(socket)
        assert (update["kind"], update["sequence"]) == ("SUPERVISORS_CHANGED", 2)
        # A refused change sends nothing: the next message is the batch's.
        await mark(gql, room.participants[0], "ATTENDED")
        await gql.execute(
            BATCH,
            {"sessionId": room.session["id"], "entries": [{"participantId": room.participants[1], "status": "LATE"}]},
        )
        update = await next_update(socket)
        assert (update["kind"], update["sequence"], update["changedParticipantIds"]) == (
            "ATTENDANCE_CHANGED",
            3,
            [room.participants[1]],
        )


async def test_watchers_see_a_forced_change_as_force_updated(gql, room, ws, services):
    await lock_session(services, room.session["id"])
    async with ws() as socket:
        await watch(socket, room.session["id"])
        await mark(gql, room.participants[0], "ABSENT", force=True, reason="Chart review")
        assert (await next_update(socket))["kind"] == "FORCE_UPDATED"


async def test_forced_change_on_a_billed_session_reruns_the_billing_pipeline(gql, room, services, test_clock):
    await room.bands([(1, 12, "90853", "25.00")])
    for patient in room.patients:
        await room.cover(patient)
    a, b = room.participants
    await gql.execute(
        BATCH,
        {
            "sessionId": room.session["id"],
            "entries": [
                {"participantId": a, "status": "ATTENDED"},
                {"participantId": b, "status": "ATTENDED"},
            ],
        },
    )
    test_clock.advance(timedelta(days=2))
    billed = await gql.execute(
        "mutation($id: ID!) { runBilling(sessionId: $id) { locked charges { status } } }", {"id": room.session["id"]}
    )
    assert billed["runBilling"]["locked"] is True
    assert [c["status"] for c in billed["runBilling"]["charges"]] == ["ACTIVE", "ACTIVE"]
    response = await mark(gql, b, "ABSENT", force=True, reason="Left before the session began")
    assert response.status_code == 200
    data = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { charges { status } auditLog { action } } }",
        {"id": room.session["id"]},
    )
    assert sorted(c["status"] for c in data["groupSession"]["charges"]) == ["ACTIVE", "VOIDED"]
    actions = [e["action"] for e in data["groupSession"]["auditLog"]]
    assert actions[-2:] == ["attendance.force_update", "session.rebill"]


# ------------------------------------------------------------------ late entries (after the finalization deadline)

LATE_BILLED = """query($id: ID!) { groupSession(id: $id) { status locked
  roster { id status } claims { status frequency patient { id } }
  auditLog { action entityId reason after } } }"""


async def closed_at_the_deadline(gql, clinic, test_clock, services) -> dict:
    """Three covered members, nobody marked, the session billed (closed) by the sweep at its finalization
    deadline, 24 hours of Phoenix wall clock after its 10:30 end."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 8, "90853", "30.00")])
    for i in range(3):
        patient = await clinic.add_patient(f"Member {i}")
        await clinic.cover(patient)
    session = await create_session(gql, clinic, starts_at=at(9))
    set_now(test_clock, at(10, 30, day=11))
    assert await bill_due_sessions(services) == 1
    return session


async def test_marks_after_the_finalization_deadline_are_late_entries_with_a_reason_rebilled_row_by_row(
    gql, clinic, test_clock, services
):
    """Nobody was marked and the session was billed at its deadline. Each row's first mark then is a
    late entry: it needs a reason (audited), never force; each one is billed through the usual
    correction engine, and the next row is marked the normal way, the session locked or not."""
    session = await closed_at_the_deadline(gql, clinic, test_clock, services)
    entries = {e["patient"]["id"]: e["id"] for e in session["roster"]}
    first, second, third = (entries[p] for p in clinic.patients)
    read = (await gql.execute(LATE_BILLED, {"id": session["id"]}))["groupSession"]
    assert (read["status"], read["claims"]) == ("CLOSED", [])

    facilitator = gql.as_(scopes=FACILITATOR_SCOPES)  # no force scope
    _, code, body = await facilitator.error(SET_ATTENDANCE, {"participantId": first, "status": "ATTENDED"})
    assert code == "BAD_USER_INPUT" and "late entry" in body["errors"][0]["message"]
    reason = "Paper sign-in sheet found in the group room"
    for entry, status in ((first, "ATTENDED"), (second, "LATE"), (third, "ABSENT")):
        marked = await facilitator.execute(SET_ATTENDANCE, {"participantId": entry, "status": status, "reason": reason})
        assert marked["setAttendance"]["status"] == status

    read = (await gql.execute(LATE_BILLED, {"id": session["id"]}))["groupSession"]
    assert (read["status"], read["locked"]) == ("LOCKED", True)
    assert sorted((c["patient"]["id"], c["frequency"]) for c in read["claims"]) == sorted(
        [(clinic.patients[0], "ORIGINAL"), (clinic.patients[1], "ORIGINAL")]
    )
    late = [e for e in read["auditLog"] if e["action"] == "attendance.late_entry"]
    assert sorted(e["entityId"] for e in late) == sorted([first, second, third])
    assert {e["reason"] for e in late} == {reason}
    assert not [e for e in read["auditLog"] if e["action"] in ("attendance.set", "attendance.force_update")]
    assert sum(e["action"] == "session.rebill" for e in read["auditLog"]) == 3

    # A row marked already is corrected, not entered late: on the locked session that needs force.
    _, code, _ = await facilitator.error(SET_ATTENDANCE, {"participantId": first, "status": "ABSENT", "reason": reason})
    assert code == "LOCKED"


async def test_a_batch_of_late_entries_needs_a_reason_and_is_written_whole_or_not_at_all(
    gql, clinic, test_clock, services
):
    """docs/walkthroughs/billing-office.md: a late entry by setAttendance "or the batch". Past the
    deadline, a batch without a reason is refused whole (no row, no audit entry, no bill); with one,
    each row's mark is a late entry audited with the reason, and the session is billed again."""
    session = await closed_at_the_deadline(gql, clinic, test_clock, services)
    entries = [e["id"] for e in session["roster"]]
    before = (await gql.execute(LATE_BILLED, {"id": session["id"]}))["groupSession"]

    facilitator = gql.as_(scopes=FACILITATOR_SCOPES)
    marks = [{"participantId": entry, "status": "ATTENDED"} for entry in entries]
    _, code, body = await facilitator.error(BATCH, {"sessionId": session["id"], "entries": marks})
    assert code == "BAD_USER_INPUT" and "late entry" in body["errors"][0]["message"]
    assert (await gql.execute(LATE_BILLED, {"id": session["id"]}))["groupSession"] == before

    reason = "Sign-in sheet entered the next morning"
    marked = await facilitator.execute(BATCH, {"sessionId": session["id"], "entries": marks, "reason": reason})
    assert {r["status"] for r in marked["setAttendanceBatch"]} == {"ATTENDED"}
    read = (await gql.execute(LATE_BILLED, {"id": session["id"]}))["groupSession"]
    assert (read["status"], read["locked"]) == ("LOCKED", True)
    assert {e["status"] for e in read["roster"]} == {"ATTENDED"}
    assert sorted(c["patient"]["id"] for c in read["claims"]) == sorted(clinic.patients)
    late = [e for e in read["auditLog"] if e["action"] == "attendance.late_entry"]
    assert sorted(e["entityId"] for e in late) == sorted(entries) and {e["reason"] for e in late} == {reason}
    assert any(e["action"] == "session.rebill" for e in read["auditLog"])
