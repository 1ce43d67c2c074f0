"""Live updates: sessionUpdates and groupUpdates over graphql-transport-ws, and the hub beneath them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import timedelta

import pytest

from app.db import models
from app.ids import encode_id
from app.live.publish import session_channel, stage_session_update
from app.operations.work import unit_of_work
from app.rules.updates import touched
from tests.conftest import make_token

SESSION_UPDATES = """
subscription($id: ID!) {
  sessionUpdates(sessionId: $id) {
    kind sequence changedParticipantIds
    session { id title roster { status } }
    billingPreview { billableCount readyToBill issues { code severity } }
  }
}"""


async def make_session(services, clinic, patients: int = 3) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A session straight in the clinical tables (the ad-hoc and feed paths have their own tests)."""
    facility_pk = uuid.UUID(__import__("app.ids", fromlist=["split_id"]).split_id(clinic.facility_id)[1])
    patient_ids = [await clinic.add_patient() for _ in range(patients)]
    now = services.clock.now()
    async with services.sessionmaker() as db, db.begin():
        row = models.GroupSession(
            facility_id=facility_pk,
            group_type="THERAPY",
            title="Morning CBT",
            starts_at=now - timedelta(minutes=10),
            ends_at=now + timedelta(minutes=80),
        )
        db.add(row)
        await db.flush()
        participants = []
        for gid in patient_ids:
            pk = uuid.UUID(__import__("app.ids", fromlist=["split_id"]).split_id(gid)[1])
            p = models.RosterEntry(session_id=row.id, patient_id=pk, status="SCHEDULED")
            db.add(p)
            participants.append(p)
        await db.flush()
        return row.id, [p.id for p in participants]


async def mark(services, participant_id: uuid.UUID, status: str, *, fail: bool = False) -> None:
    """What an attendance change does: write, stage the live update, commit (or roll back)."""
    async with unit_of_work(services, "tablet") as uow:
        row = await uow.db.get(models.RosterEntry, participant_id, with_for_update=True)
        row.status = status
        await stage_session_update(uow, row.session_id, "ATTENDANCE_CHANGED", [touched("RosterEntry", row.id)])
        if fail:
            raise RuntimeError("rolled back on purpose")


async def subscribe(socket, query: str, variables: dict, op_id: str = "1") -> None:
    assert (await socket.receive_json())["type"] == "connection_ack"
    await socket.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})


async def next_payload(socket, timeout: float = 5.0) -> dict:
    message = await asyncio.wait_for(socket.receive_json(), timeout)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]
    return message["payload"]["data"]


async def test_snapshot_then_one_message_per_committed_change(ws, services, clinic):
    session_id, participants = await make_session(services, clinic)
    async with ws() as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
        snapshot = (await next_payload(socket))["sessionUpdates"]
        assert snapshot["kind"] == "SNAPSHOT" and snapshot["sequence"] == 0
        assert snapshot["billingPreview"]["billableCount"] == 0
        await mark(services, participants[0], "ATTENDED")
        update = (await next_payload(socket))["sessionUpdates"]
        assert update["kind"] == "ATTENDANCE_CHANGED" and update["sequence"] == 1
        assert update["changedParticipantIds"] == [encode_id("RosterEntry", participants[0])]
        assert update["billingPreview"]["billableCount"] == 1
        assert sorted(r["status"] for r in update["session"]["roster"]) == ["ATTENDED", "SCHEDULED", "SCHEDULED"]


async def test_a_change_a_process_of_the_release_before_announced_is_sent(ws, services, clinic):
    """During a rolling deploy a process of the release before commits a change and announces it as it did:
    the rows touched named by their global ids, its reading ("p") kept in its own memory. This process reads
    the change after the commit and sends it, the row named as it names its own."""
    session_id, participants = await make_session(services, clinic)
    async with ws() as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
        await next_payload(socket)
        async with services.sessionmaker() as db, db.begin():
            (await db.get(models.RosterEntry, participants[0])).status = "ATTENDED"
            (await db.get(models.GroupSession, session_id)).update_sequence += 1
        message = {
            "sequence": 1,
            "kind": "ATTENDANCE_CHANGED",
            "changed": [encode_id("RosterEntry", participants[0])],
            "at": services.clock.now().isoformat(),
            "p": "a-reading-kept-by-the-other-process",
        }
        await services.broadcast.publish(session_channel(str(session_id)), json.dumps(message))
        update = (await next_payload(socket))["sessionUpdates"]
        assert (update["kind"], update["sequence"]) == ("ATTENDANCE_CHANGED", 1)
        assert update["changedParticipantIds"] == [encode_id("RosterEntry", participants[0])]
        assert update["billingPreview"]["billableCount"] == 1


async def test_rolled_back_change_sends_nothing(ws, services, clinic):
    session_id, participants = await make_session(services, clinic)
    async with ws() as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
        await next_payload(socket)
        with pytest.raises(RuntimeError):
            await mark(services, participants[0], "ATTENDED", fail=True)
        await mark(services, participants[1], "LATE")
        update = (await next_payload(socket))["sessionUpdates"]
        assert update["sequence"] == 1  # the rolled-back change used no sequence and sent nothing
        assert update["changedParticipantIds"] == [encode_id("RosterEntry", participants[1])]


async def test_every_watcher_gets_the_change_computed_once(ws, services, clinic):
    session_id, participants = await make_session(services, clinic)
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for _ in range(12):
            socket = await stack.enter_async_context(ws())
            await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
            await next_payload(socket)
            sockets.append(socket)
        before = services.session_states.previews
        await mark(services, participants[2], "ABSENT")
        updates = [(await next_payload(s))["sessionUpdates"] for s in sockets]
        assert {u["sequence"] for u in updates} == {1}
        assert services.session_states.previews - before == 1


async def test_another_facilitys_session_is_not_found(ws, services, clinic):
    session_id, _ = await make_session(services, clinic)
    other = await clinic.facility(name="Elsewhere")
    async with ws(make_token(facilities=[other])) as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
        message = await asyncio.wait_for(socket.receive_json(), 5)
        assert message["type"] == "error" or message["payload"].get("errors")
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_subscription_needs_the_read_scope(ws, services, clinic):
    session_id, _ = await make_session(services, clinic)
    async with ws(make_token(scopes=["clinical.attendance.write"])) as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
        message = await asyncio.wait_for(socket.receive_json(), 5)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_reconnecting_watcher_gets_a_fresh_snapshot(ws, services, clinic):
    session_id, participants = await make_session(services, clinic)
    async with ws() as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
        await next_payload(socket)
    await mark(services, participants[0], "ATTENDED")
    async with ws() as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": encode_id("GroupSession", session_id)})
        snapshot = (await next_payload(socket))["sessionUpdates"]
        assert snapshot["kind"] == "SNAPSHOT" and snapshot["sequence"] == 1
        assert snapshot["billingPreview"]["billableCount"] == 1


async def test_subscribing_and_leaving_a_thousand_times_frees_everything(ws, services, clinic):
    session_id, _ = await make_session(services, clinic, patients=1)
    hub = services.hub
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        for i in range(1000):
            op = str(i)
            await socket.send_json(
                {
                    "id": op,
                    "type": "subscribe",
                    "payload": {"query": SESSION_UPDATES, "variables": {"id": encode_id("GroupSession", session_id)}},
                }
            )
            await next_payload(socket)
            await socket.send_json({"id": op, "type": "complete"})
        await asyncio.sleep(0.2)
    assert hub.channel_count == 0 and hub.watcher_count == 0


async def test_billing_pushes_locked_to_watchers(ws, gql, services, clinic, test_clock):
    from tests.support.builders_sessions import at, create_session, set_now

    set_now(test_clock, at(9, 20))
    patient = await clinic.add_patient()
    session = await create_session(gql, clinic, patients=[patient], starts_at=at(9))
    async with ws() as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": session["id"]})
        await next_payload(socket)
        entry = session["roster"][0]["id"]
        await gql.execute(
            "mutation($id: ID!) { setAttendance(participantId: $id, status: ABSENT) { id } }", {"id": entry}
        )
        await next_payload(socket)
        set_now(test_clock, at(10, 31))
        await gql.execute("mutation($id: ID!) { runBilling(sessionId: $id) { id } }", {"id": session["id"]})
        update = (await next_payload(socket))["sessionUpdates"]
        assert update["kind"] == "BILLED"  # nobody billable: billed (CLOSED), no claim, not locked


GROUP_UPDATES = """
subscription($id: ID!) {
  groupUpdates(groupId: $id) {
    kind sequence group { name capacity { enrolled waitlisted } }
    enrollment { status waitlistPosition } occurrence { sessionDate status }
  }
}"""


async def test_group_watchers_see_enrollment_occurrence_and_group_changes(ws, gql, clinic):
    from tests.support.builders_enrollment import disenroll, enroll, make_group
    from tests.support.builders_scheduling import generate

    group_id = await make_group(
        gql,
        clinic,
        maxCapacity=1,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE",
        recurrenceStart="2026-03-02T09:00:00-07:00",
    )
    first, second = await clinic.add_patient(), await clinic.add_patient()
    async with ws() as socket:
        await subscribe(socket, GROUP_UPDATES, {"id": group_id})
        snapshot = (await next_payload(socket))["groupUpdates"]
        assert snapshot["kind"] == "SNAPSHOT" and snapshot["group"]["capacity"]["enrolled"] == 0

        enrolled = await enroll(gql, group_id, first)
        update = (await next_payload(socket))["groupUpdates"]
        assert (update["kind"], update["enrollment"]["status"]) == ("ENROLLED", "ENROLLED")
        await enroll(gql, group_id, second)
        update = (await next_payload(socket))["groupUpdates"]
        assert (update["kind"], update["enrollment"]["waitlistPosition"]) == ("WAITLISTED", 1)

        await disenroll(gql, enrolled["enrollment"]["id"])
        kinds = [(await next_payload(socket))["groupUpdates"] for _ in range(2)]
        assert [k["kind"] for k in kinds] == ["DISENROLLED", "PROMOTED"]
        assert kinds[1]["group"]["capacity"] == {"enrolled": 1, "waitlisted": 0}

        created = await generate(gql, group_id, "2026-03-02", "2026-03-31")
        assert len(created["created"]) == 9
        update = (await next_payload(socket))["groupUpdates"]
        assert update["kind"] == "OCCURRENCE_SCHEDULED"  # one message for the whole generation

        await gql.execute(
            'mutation($id: ID!) { updateGroup(id: $id, input: {name: "Renamed"}) { id } }', {"id": group_id}
        )
        update = (await next_payload(socket))["groupUpdates"]
        assert (update["kind"], update["group"]["name"]) == ("GROUP_CHANGED", "Renamed")
        assert update["sequence"] == snapshot["sequence"] + 6


async def test_a_moved_occurrence_tells_session_watchers(ws, gql, clinic, services):
    from tests.support.builders_enrollment import make_group
    from tests.support.builders_scheduling import add_occurrence

    group_id = await make_group(gql, clinic)
    occurrence = await add_occurrence(gql, group_id, session_date="2027-01-07")
    session = await gql.execute("query($id: ID!) { occurrence(id: $id) { session { id } } }", {"id": occurrence["id"]})
    session_id = session["occurrence"]["session"]["id"]
    async with ws() as socket:
        await subscribe(socket, SESSION_UPDATES, {"id": session_id})
        await next_payload(socket)
        await gql.execute(
            'mutation($id: ID!) { updateOccurrence(id: $id, input: {startTime: "10:00:00", endTime: "13:00:00"}) { id } }',
            {"id": occurrence["id"]},
        )
        assert (await next_payload(socket))["sessionUpdates"]["kind"] == "RESCHEDULED"
