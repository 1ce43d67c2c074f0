"""The scheduling feed on the clinical side: one session per live occurrence (scheduled, moved,
cancelled, seen twice), rosters that follow enrollment, and the same through the real mutations."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import update

from app.db import models
from app.events.consumers import clinical_sessions
from app.events.feed import drain
from app.ids import decode_id, encode_id
from tests.support.builders_scheduling import CANCEL, UPDATE, add_occurrence, create_group
from tests.support.builders_sessions import (
    NOW,
    SET_ATTENDANCE,
    at,
    audit_rows,
    enrollment_payload,
    get_session,
    lock_session,
    occurrence_payload,
    put_enrollment,
    record_events,
    session_id_of,
    sessions_for_occurrence,
    set_now,
)

ENROLL = """
mutation($groupId: ID!, $patientId: ID!) { enrollPatient(groupId: $groupId, patientId: $patientId) { enrollment { id status } } }"""
DISENROLL = """
mutation($id: ID!) { disenrollPatient(enrollmentId: $id, reason: "moved away") { enrollment { id status } promoted { id } } }"""
ADD_ANSWER = """
mutation($input: AddOccurrenceInput!) {
  addOccurrence(input: $input) { id session { id status startTime roster { patient { id } } } }
}"""
UPDATE_ANSWER = """
mutation($id: ID!, $input: UpdateOccurrenceInput!) {
  updateOccurrence(id: $id, input: $input) { startTime session { id status startTime endTime } }
}"""
CANCEL_ANSWER = """
mutation($id: ID!, $reason: String!) {
  cancelOccurrence(id: $id, reason: $reason) { status session { id status cancellationReason } }
}"""
OCCURRENCE_SESSION = """
query($id: ID!) { occurrence(id: $id) { id session { id status roster { patient { id } } } } }"""


@pytest.fixture
async def group(gql, clinic, services, test_clock):
    """A therapy group with two enrolled patients, one waitlisted and one disenrolled; the clock at NOW."""
    set_now(test_clock, NOW)
    clinic.group_id = await create_group(gql, clinic, groupType="THERAPY", maxCapacity=2)
    for _ in range(4):
        await clinic.add_patient()
    enrolled, waitlisted, gone = clinic.patients[:2], clinic.patients[2], clinic.patients[3]
    for patient in enrolled:
        await put_enrollment(services, clinic.group_id, patient)
    await put_enrollment(services, clinic.group_id, waitlisted, "WAITLISTED", position=1)
    await put_enrollment(services, clinic.group_id, gone, "DISENROLLED")
    clinic.enrolled = enrolled
    return clinic


async def schedule(services, clinic, starts_at=None, occurrence_id=None, **extra) -> dict:
    payload = occurrence_payload(
        clinic.facility_id, clinic.group_id, starts_at or at(14), occurrence_id=occurrence_id, **extra
    )
    await record_events(services, ("pm_group_session_scheduled", payload))
    return payload


async def only_session(gql, services, occurrence_id: str) -> dict:
    rows = await sessions_for_occurrence(services, occurrence_id)
    assert len(rows) == 1
    return await get_session(gql, session_id_of(rows[0]))


def roster_patients(session: dict) -> set[str]:
    return {r["patient"]["id"] for r in session["roster"]}


# ----------------------------------------------------------------- occurrences


async def test_scheduled_occurrence_gets_one_session_with_the_enrolled_roster(gql, services, group):
    payload = await schedule(services, group)
    session = await only_session(gql, services, payload["occurrenceId"])
    assert session["title"] == "Morning CBT" and session["groupType"] == "THERAPY"
    assert session["group"]["id"] == group.group_id
    assert session["occurrenceId"] == encode_id("GroupOccurrence", payload["occurrenceId"])
    assert session["facility"]["id"] == group.facility_id
    assert session["startTime"] == "14:00:00" and session["status"] == "SCHEDULED"
    assert roster_patients(session) == set(group.enrolled)
    [entry] = await audit_rows(services, "session.create")
    assert entry.actor == "feed:clinical-sessions" and entry.session_id is not None


async def test_an_event_seen_twice_makes_one_session(gql, services, group):
    payload = occurrence_payload(group.facility_id, group.group_id, at(14))
    await record_events(services, ("pm_group_session_scheduled", payload), ("pm_group_session_scheduled", payload))
    await record_events(services, ("pm_group_session_scheduled", payload))
    session = await only_session(gql, services, payload["occurrenceId"])
    assert len(session["roster"]) == 2
    assert len(await audit_rows(services, "session.create")) == 1


async def test_moved_occurrence_moves_its_session(gql, services, group):
    payload = await schedule(services, group)
    moved = occurrence_payload(
        group.facility_id, group.group_id, at(16), minutes=60, occurrence_id=payload["occurrenceId"]
    )
    await record_events(services, ("pm_group_session_updated", moved))
    session = await only_session(gql, services, payload["occurrenceId"])
    assert (session["startTime"], session["endTime"]) == ("16:00:00", "17:00:00")
    [entry] = await audit_rows(services, "session.move")
    assert entry.before["startsAt"] != entry.after["startsAt"]


async def test_locked_session_does_not_move(gql, services, group):
    payload = await schedule(services, group)
    session = await only_session(gql, services, payload["occurrenceId"])
    await lock_session(services, session["id"])
    moved = occurrence_payload(group.facility_id, group.group_id, at(16), occurrence_id=payload["occurrenceId"])
    await record_events(services, ("pm_group_session_updated", moved))
    assert (await get_session(gql, session["id"]))["startTime"] == "14:00:00"


async def test_update_for_an_unseen_occurrence_creates_its_session(gql, services, group):
    payload = occurrence_payload(group.facility_id, group.group_id, at(15))
    await record_events(services, ("pm_group_session_updated", payload))
    assert (await only_session(gql, services, payload["occurrenceId"]))["startTime"] == "15:00:00"


async def test_cancelled_occurrence_cancels_its_session(gql, services, group):
    payload = await schedule(services, group)
    await record_events(services, ("pm_group_session_cancelled", {**payload, "reason": "Facilitator out sick"}))
    session = await only_session(gql, services, payload["occurrenceId"])
    assert session["status"] == "CANCELLED"
    assert session["cancellationReason"] == "Facilitator out sick" and session["cancelledAt"]
    # Seen twice: nothing more happens.
    await record_events(services, ("pm_group_session_cancelled", {**payload, "reason": "again"}))
    assert (await get_session(gql, session["id"]))["cancellationReason"] == "Facilitator out sick"
    assert len(await audit_rows(services, "session.cancel")) == 1


async def test_cancelled_session_refuses_attendance(gql, services, group):
    payload = await schedule(services, group)
    await record_events(services, ("pm_group_session_cancelled", {**payload, "reason": "Closed"}))
    session = await only_session(gql, services, payload["occurrenceId"])
    response = await gql.post(SET_ATTENDANCE, {"participantId": session["roster"][0]["id"], "status": "ATTENDED"})
    assert response.status_code == 409 and response.json()["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION"


async def test_new_occurrence_in_a_cancelled_slot_gets_a_new_session(gql, services, group):
    first = await schedule(services, group)
    await record_events(services, ("pm_group_session_cancelled", {**first, "reason": "Moved"}))
    second = await schedule(services, group)
    assert (await only_session(gql, services, first["occurrenceId"]))["status"] == "CANCELLED"
    assert (await only_session(gql, services, second["occurrenceId"]))["status"] == "SCHEDULED"


async def test_global_ids_in_payloads_are_understood(gql, services, group):
    occurrence = uuid.uuid4()
    payload = occurrence_payload(group.facility_id, group.group_id, at(14), occurrence_id=str(occurrence))
    payload.update(
        occurrenceId=encode_id("GroupOccurrence", occurrence), groupId=group.group_id, facilityId=group.facility_id
    )
    await record_events(services, ("pm_group_session_scheduled", payload))
    assert len((await only_session(gql, services, str(occurrence)))["roster"]) == 2


@pytest.mark.parametrize(
    "breakage",
    [
        {"startsAt": "not a time"},
        {"endsAt": "2026-03-10T08:00:00Z"},
        {"groupType": "KARAOKE"},
        {"facilityId": str(uuid.uuid4())},  # no such facility
        {"occurrenceId": None},
    ],
    ids=["bad-time", "ends-before-start", "bad-type", "unknown-facility", "no-occurrence"],
)
async def test_malformed_event_is_skipped_and_the_feed_goes_on(gql, services, group, breakage):
    bad = {**occurrence_payload(group.facility_id, group.group_id, at(14)), **breakage}
    good = occurrence_payload(group.facility_id, group.group_id, at(15))
    await record_events(services, ("pm_group_session_scheduled", bad), ("pm_group_session_scheduled", good))
    assert len(await audit_rows(services, "session.create")) == 1
    assert (await only_session(gql, services, good["occurrenceId"]))["startTime"] == "15:00:00"


# --------------------------------------------------------------------- rosters


async def test_enrolled_patient_joins_sessions_that_have_not_started(gql, services, group, test_clock):
    started = await schedule(services, group, starts_at=at(9, 30))  # in progress at 10:00
    upcoming = await schedule(services, group, starts_at=at(14))
    cancelled = await schedule(services, group, starts_at=at(16))
    locked = await schedule(services, group, starts_at=at(9, day=11))
    await record_events(services, ("pm_group_session_cancelled", {**cancelled, "reason": "Closed"}))
    locked_session = await only_session(gql, services, locked["occurrenceId"])
    await lock_session(services, locked_session["id"])
    newcomer = await group.add_patient()
    await record_events(
        services, ("pm_group_enrollment_enrolled", enrollment_payload(group.group_id, newcomer, group.facility_id))
    )
    assert newcomer in roster_patients(await only_session(gql, services, upcoming["occurrenceId"]))
    for untouched in (started, cancelled, locked):
        assert newcomer not in roster_patients(await only_session(gql, services, untouched["occurrenceId"]))
    [entry] = await audit_rows(services, "session.participant_add")
    assert entry.actor == "feed:clinical-sessions"


async def test_promoted_patient_joins_and_a_repeat_changes_nothing(gql, services, group):
    upcoming = await schedule(services, group)
    waitlisted = group.patients[2]
    event = ("pm_group_enrollment_promoted", enrollment_payload(group.group_id, waitlisted, group.facility_id))
    await record_events(services, event)
    await record_events(services, event)
    session = await only_session(gql, services, upcoming["occurrenceId"])
    assert [r["patient"]["id"] for r in session["roster"]].count(waitlisted) == 1


async def test_waitlisted_patient_stays_off_the_roster(gql, services, group):
    upcoming = await schedule(services, group)
    newcomer = await group.add_patient()
    await record_events(
        services,
        ("pm_group_enrollment_enrolled", enrollment_payload(group.group_id, newcomer, group.facility_id, "WAITLISTED")),
    )
    assert newcomer not in roster_patients(await only_session(gql, services, upcoming["occurrenceId"]))


async def test_disenrolled_patient_leaves_only_where_still_scheduled(gql, services, group):
    first = await schedule(services, group, starts_at=at(14))
    second = await schedule(services, group, starts_at=at(9, day=11))
    patient = group.enrolled[0]
    marked = await only_session(gql, services, second["occurrenceId"])
    [entry] = [r for r in marked["roster"] if r["patient"]["id"] == patient]
    await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ABSENT"})  # called in to cancel
    await record_events(
        services,
        (
            "pm_group_enrollment_disenrolled",
            enrollment_payload(group.group_id, patient, group.facility_id, "DISENROLLED"),
        ),
    )
    assert patient not in roster_patients(await only_session(gql, services, first["occurrenceId"]))
    assert patient in roster_patients(await only_session(gql, services, second["occurrenceId"]))
    [audit] = await audit_rows(services, "session.participant_remove")
    assert audit.before["status"] == "SCHEDULED"


async def test_removed_enrollment_leaves_sessions_that_have_not_started(gql, services, group, test_clock):
    past = await schedule(services, group, starts_at=at(8))
    upcoming = await schedule(services, group, starts_at=at(14))
    patient = group.enrolled[1]
    await record_events(
        services,
        ("pm_group_enrollment_removed", enrollment_payload(group.group_id, patient, group.facility_id, "ENROLLED")),
    )
    assert patient not in roster_patients(await only_session(gql, services, upcoming["occurrenceId"]))
    assert patient in roster_patients(await only_session(gql, services, past["occurrenceId"]))


# -------------------------------------------------- through the real mutations


async def test_add_occurrence_gives_the_occurrence_its_session(gql, services, group):
    occurrence = await add_occurrence(gql, group.group_id, session_date="2026-03-12", start="09:00:00", end="10:30:00")
    data = await gql.execute(OCCURRENCE_SESSION, {"id": occurrence["id"]})
    session = data["occurrence"]["session"]
    assert session is not None and session["status"] == "SCHEDULED"
    assert roster_patients(session) == set(group.enrolled)
    detail = await get_session(gql, session["id"])
    assert (detail["sessionDate"], detail["startTime"], detail["endTime"]) == ("2026-03-12", "09:00:00", "10:30:00")
    assert detail["occurrenceId"] == occurrence["id"]


async def test_update_and_cancel_occurrence_follow_through(gql, services, group):
    occurrence = await add_occurrence(gql, group.group_id, session_date="2026-03-12", start="09:00:00", end="10:30:00")
    await gql.execute(UPDATE, {"id": occurrence["id"], "input": {"startTime": "13:00:00", "endTime": "14:00:00"}})
    session_id = (await gql.execute(OCCURRENCE_SESSION, {"id": occurrence["id"]}))["occurrence"]["session"]["id"]
    assert (await get_session(gql, session_id))["startTime"] == "13:00:00"
    await gql.execute(CANCEL, {"id": occurrence["id"], "reason": "Holiday"})
    detail = await get_session(gql, session_id)
    assert detail["status"] == "CANCELLED" and detail["cancellationReason"] == "Holiday"


async def test_each_scheduling_answer_shows_its_session_as_changed_and_the_feed_does_not_repeat_it(
    gql, services, group
):
    added = (
        await gql.execute(
            ADD_ANSWER,
            {
                "input": {
                    "groupId": group.group_id,
                    "sessionDate": "2026-03-12",
                    "startTime": "09:00:00",
                    "endTime": "10:30:00",
                }
            },
        )
    )["addOccurrence"]
    session = added["session"]
    assert (session["status"], session["startTime"]) == ("SCHEDULED", "09:00:00")
    assert roster_patients(session) == set(group.enrolled)

    moved = (
        await gql.execute(UPDATE_ANSWER, {"id": added["id"], "input": {"startTime": "13:00:00", "endTime": "14:00:00"}})
    )["updateOccurrence"]
    assert moved["session"] == {
        "id": session["id"],
        "status": "SCHEDULED",
        "startTime": "13:00:00",
        "endTime": "14:00:00",
    }

    cancelled = (await gql.execute(CANCEL_ANSWER, {"id": added["id"], "reason": "Holiday"}))["cancelOccurrence"]
    assert cancelled == {
        "status": "CANCELLED",
        "session": {"id": session["id"], "status": "CANCELLED", "cancellationReason": "Holiday"},
    }

    await services.feed.kick()  # what the feed had not read yet
    await replay_feed(services)  # and every event again from the start
    session_rows = [row for row in await audit_rows(services) if row.entity_type == "GroupSession"]
    assert [row.action for row in session_rows] == ["session.create", "session.move", "session.cancel"]
    assert {row.actor for row in session_rows} == {"tester"}  # done by the scheduler's change, not later by the feed
    assert len(await sessions_for_occurrence(services, str(decode_id(added["id"], "GroupOccurrence")))) == 1
    assert (await get_session(gql, session["id"]))["status"] == "CANCELLED"


async def replay_feed(services) -> None:
    async with services.sessionmaker() as db, db.begin():
        await db.execute(update(models.ConsumerOffset).values(last_event_id=0))
    await drain(services.units, clinical_sessions.CONSUMER)


async def test_cancelling_an_occurrence_whose_session_is_locked_is_refused(gql, services, group):
    occurrence = await add_occurrence(gql, group.group_id, session_date="2026-03-12", start="09:00:00", end="10:30:00")
    session_id = (await gql.execute(OCCURRENCE_SESSION, {"id": occurrence["id"]}))["occurrence"]["session"]["id"]
    await lock_session(services, session_id)
    status, code, _ = await gql.error(CANCEL, {"id": occurrence["id"], "reason": "Holiday"})
    assert (status, code) == (409, "LOCKED")
    assert (await get_session(gql, session_id))["status"] == "LOCKED"


async def test_enroll_and_disenroll_through_the_api_follow_the_rosters(gql, services, clinic, test_clock):
    set_now(test_clock, NOW)
    group_id = await create_group(gql, clinic, groupType="THERAPY", maxCapacity=1)
    first, second = await clinic.add_patient(), await clinic.add_patient()
    enrolled = (await gql.execute(ENROLL, {"groupId": group_id, "patientId": first}))["enrollPatient"]["enrollment"]
    occurrence = await add_occurrence(gql, group_id, session_date="2026-03-12", start="09:00:00", end="10:30:00")
    session_id = (await gql.execute(OCCURRENCE_SESSION, {"id": occurrence["id"]}))["occurrence"]["session"]["id"]
    assert roster_patients(await get_session(gql, session_id)) == {first}
    waitlisted = (await gql.execute(ENROLL, {"groupId": group_id, "patientId": second}))["enrollPatient"]["enrollment"]
    assert waitlisted["status"] == "WAITLISTED"
    assert roster_patients(await get_session(gql, session_id)) == {first}
    # Disenrolling the first frees the seat: the second is promoted and takes their place.
    result = (await gql.execute(DISENROLL, {"id": enrolled["id"]}))["disenrollPatient"]
    assert result["promoted"]["id"] == waitlisted["id"]
    assert roster_patients(await get_session(gql, session_id)) == {second}


async def test_occurrence_session_field_needs_the_read_scope(gql, services, group):
    occurrence = await add_occurrence(gql, group.group_id, session_date="2026-03-12", start="09:00:00", end="10:30:00")
    caller = gql.as_(scopes=["pm.group_schedule.view", "pm.group_definitions.view"])
    _, code, _ = await caller.error(OCCURRENCE_SESSION, {"id": occurrence["id"]})
    assert code == "FORBIDDEN"


# ---------------------------------------------------------------- live updates

WATCH = """
subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind sequence changedParticipantIds session { status } } }"""


async def next_update(socket) -> dict:
    message = await asyncio.wait_for(socket.receive_json(), 5)
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]["sessionUpdates"]


async def test_watchers_see_roster_changes_and_the_cancellation(gql, services, group, ws):
    payload = await schedule(services, group)
    session = await only_session(gql, services, payload["occurrenceId"])
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"id": session["id"]}}}
        )
        assert (await next_update(socket))["kind"] == "SNAPSHOT"
        newcomer = await group.add_patient()
        await record_events(
            services, ("pm_group_enrollment_enrolled", enrollment_payload(group.group_id, newcomer, group.facility_id))
        )
        update = await next_update(socket)
        assert update["kind"] == "ROSTER_CHANGED" and len(update["changedParticipantIds"]) == 1
        await add_participant_via_api(gql, session["id"], await group.add_patient())
        assert (await next_update(socket))["kind"] == "ROSTER_CHANGED"
        await record_events(services, ("pm_group_session_cancelled", {**payload, "reason": "Closed"}))
        update = await next_update(socket)
        assert (update["kind"], update["session"]["status"]) == ("CANCELLED", "CANCELLED")


async def add_participant_via_api(gql, session_id: str, patient_id: str) -> None:
    await gql.execute(
        "mutation($s: ID!, $p: ID!) { addSessionParticipant(sessionId: $s, patientId: $p) { id } }",
        {"s": session_id, "p": patient_id},
    )
