"""Group sessions: ad-hoc creation, late participants, the list page's defaults and filters, the
detail page (supervisors, roster, attendance, audit), facility isolation and permissions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from app.auth import ALL_SCOPES
from app.ids import encode_id
from tests.support.builders_sessions import (
    CREATE_SESSION,
    NOW,
    SESSION,
    at,
    audit_rows,
    cancel_directly,
    create_session,
    get_session,
    lock_session,
    set_now,
)

LIST = """
query($filter: GroupSessionFilter, $first: Int, $after: String) {
  groupSessions(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id title status groupType sessionDate startTime endTime facility { id }
      supervisors { staff { id } status }
      attendance { scheduled attended late absent total terminal }
    } }
  }
}"""

ADD_PARTICIPANT = """
mutation($sessionId: ID!, $patientId: ID!) {
  addSessionParticipant(sessionId: $sessionId, patientId: $patientId) { id status addedLate allowedNext patient { id } }
}"""

SET = """
mutation($id: ID!, $status: AttendanceStatus!) { setAttendance(participantId: $id, status: $status) { status } }"""

ASSIGN = """
mutation($input: StaffAssignmentInput!) { assignStaff(input: $input) { id } }"""


async def list_sessions(gql, **filter_args) -> dict:
    first = filter_args.pop("first", None)
    after = filter_args.pop("after", None)
    variables = {"filter": filter_args or None, "first": first, "after": after}
    return (await gql.execute(LIST, variables))["groupSessions"]


def titles(connection: dict) -> list[str]:
    return [edge["node"]["title"] for edge in connection["edges"]]


@pytest.fixture
async def room(clinic):
    """The clinic with three patients."""
    for name in ("Ana", "Ben", "Cy"):
        await clinic.add_patient(name=f"{name} Patient")
    return clinic


# ------------------------------------------------------------ createGroupSession


async def test_create_ad_hoc_session_puts_every_patient_on_the_roster(gql, room, services, test_clock):
    set_now(test_clock, NOW)
    session = await create_session(gql, room, starts_at=at(11), minutes=60, groupType="SKILLS_TRAINING")
    assert session["title"] == "Morning CBT"
    assert session["groupType"] == "SKILLS_TRAINING"
    assert session["status"] == "SCHEDULED"
    assert session["locked"] is False
    assert session["group"] is None and session["occurrenceId"] is None
    assert session["facility"]["id"] == room.facility_id
    assert (session["sessionDate"], session["startTime"], session["endTime"]) == ("2026-03-10", "11:00:00", "12:00:00")
    assert sorted(r["patient"]["id"] for r in session["roster"]) == sorted(room.patients)
    assert all(r["status"] == "SCHEDULED" and r["addedLate"] is False for r in session["roster"])
    assert all(r["allowedNext"] == ["ATTENDED", "ABSENT", "LATE"] for r in session["roster"])
    assert session["attendance"] == {
        "scheduled": 3,
        "attended": 0,
        "late": 0,
        "absent": 0,
        "total": 3,
        "terminal": False,
    }
    [entry] = await audit_rows(services, "session.create")
    assert entry.after["patientIds"] and "Ana" not in str(entry.after)


async def test_roster_reads_in_patient_name_order(gql, room):
    session = await create_session(gql, room, patients=list(reversed(room.patients)))
    assert [r["patient"]["id"] for r in session["roster"]] == room.patients


async def test_session_without_patients_has_an_empty_terminal_roster(gql, clinic):
    session = await create_session(gql, clinic, patients=[])
    assert session["roster"] == []
    assert session["attendance"]["terminal"] is True


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"endsAt": at(9).isoformat()}, "endsAt must be after startsAt"),
        ({"endsAt": at(8).isoformat()}, "endsAt must be after startsAt"),
        ({"endsAt": (at(9) + timedelta(hours=13)).isoformat()}, "at most 720 minutes"),
        ({"startsAt": "2026-03-10T09:00:00", "endsAt": "2026-03-10T10:00:00"}, "UTC offset"),
        ({"title": "   "}, "title must not be empty"),
    ],
)
async def test_create_session_rejects_bad_input_and_writes_nothing(gql, room, services, overrides, fragment):
    data = {
        "facilityId": room.facility_id,
        "groupType": "THERAPY",
        "title": "Morning CBT",
        "startsAt": at(9).isoformat(),
        "endsAt": at(10).isoformat(),
        "patientIds": room.patients,
    }
    data.update(overrides)
    status, code, body = await gql.error(CREATE_SESSION, {"input": data})
    assert (status, code) == (200, "BAD_USER_INPUT")
    assert fragment in body["errors"][0]["message"]
    assert await audit_rows(services, "session.create") == []


async def test_create_session_refuses_a_patient_of_another_facility(gql, room, services):
    other = await room.facility(name="Other Clinic")
    outsider = await room.add_patient(facility_id=other)
    _, code, body = await gql.error(
        CREATE_SESSION,
        {
            "input": {
                "facilityId": room.facility_id,
                "groupType": "THERAPY",
                "title": "CBT",
                "startsAt": at(9).isoformat(),
                "endsAt": at(10).isoformat(),
                "patientIds": [room.patients[0], outsider],
            }
        },
    )
    assert code == "BAD_USER_INPUT" and "patients of the session's facility" in body["errors"][0]["message"]
    assert await audit_rows(services, "session.create") == []


async def test_create_session_refuses_a_patient_listed_twice(gql, room):
    _, code, body = await gql.error(
        CREATE_SESSION,
        {
            "input": {
                "facilityId": room.facility_id,
                "groupType": "THERAPY",
                "title": "CBT",
                "startsAt": at(9).isoformat(),
                "endsAt": at(10).isoformat(),
                "patientIds": [room.patients[0]] * 2,
            }
        },
    )
    assert code == "BAD_USER_INPUT" and "more than once" in body["errors"][0]["message"]


async def test_create_session_in_an_invisible_facility_is_not_found(gql, room):
    other = await room.facility(name="Other Clinic")
    caller = gql.as_(facilities=[room.facility_id])
    _, code, _ = await caller.error(
        CREATE_SESSION,
        {
            "input": {
                "facilityId": other,
                "groupType": "THERAPY",
                "title": "CBT",
                "startsAt": at(9).isoformat(),
                "endsAt": at(10).isoformat(),
            }
        },
    )
    assert code == "NOT_FOUND"


async def test_create_session_needs_the_create_scope(gql, room):
    caller = gql.as_(scopes=[s for s in ALL_SCOPES if s != "clinical.group-session.create"])
    _, code, body = await caller.error(
        CREATE_SESSION,
        {
            "input": {
                "facilityId": room.facility_id,
                "groupType": "THERAPY",
                "title": "CBT",
                "startsAt": at(9).isoformat(),
                "endsAt": at(10).isoformat(),
            }
        },
    )
    assert code == "FORBIDDEN" and body["data"] is None


# ------------------------------------------------------- addSessionParticipant


async def test_late_participant_joins_the_roster_at_scheduled(gql, room, services):
    session = await create_session(gql, room, patients=room.patients[:2])
    entry = (await gql.execute(ADD_PARTICIPANT, {"sessionId": session["id"], "patientId": room.patients[2]}))[
        "addSessionParticipant"
    ]
    assert entry["status"] == "SCHEDULED" and entry["addedLate"] is True
    assert entry["patient"]["id"] == room.patients[2]
    detail = await get_session(gql, session["id"])
    assert detail["attendance"]["total"] == 3
    [audit] = await audit_rows(services, "session.participant_add")
    assert audit.after == {"patientId": audit.after["patientId"], "status": "SCHEDULED", "addedLate": True}


async def test_participant_already_on_the_roster_is_a_conflict(gql, room):
    session = await create_session(gql, room)
    status, code, body = await gql.error(ADD_PARTICIPANT, {"sessionId": session["id"], "patientId": room.patients[0]})
    assert (status, code) == (409, "CONFLICT") and body["data"] is None


async def test_participant_cannot_join_a_locked_session(gql, room, services):
    session = await create_session(gql, room, patients=room.patients[:1])
    await lock_session(services, session["id"])
    status, code, _ = await gql.error(ADD_PARTICIPANT, {"sessionId": session["id"], "patientId": room.patients[1]})
    assert (status, code) == (409, "LOCKED")


async def test_participant_cannot_join_a_cancelled_session(gql, room, services):
    session = await create_session(gql, room, patients=room.patients[:1])
    await cancel_directly(services, session["id"])
    status, code, _ = await gql.error(ADD_PARTICIPANT, {"sessionId": session["id"], "patientId": room.patients[1]})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")


async def test_participant_must_be_a_patient_of_the_session_facility(gql, room):
    other = await room.facility(name="Other Clinic")
    outsider = await room.add_patient(facility_id=other)
    session = await create_session(gql, room, patients=[])
    _, code, _ = await gql.error(ADD_PARTICIPANT, {"sessionId": session["id"], "patientId": outsider})
    assert code == "BAD_USER_INPUT"


async def test_add_participant_needs_the_create_scope(gql, room):
    session = await create_session(gql, room, patients=[])
    caller = gql.as_(scopes=["clinical.group-session.read", "clinical.attendance.write"])
    _, code, _ = await caller.error(ADD_PARTICIPANT, {"sessionId": session["id"], "patientId": room.patients[0]})
    assert code == "FORBIDDEN"


# ------------------------------------------------------------------- the list


async def test_list_defaults_to_today_in_the_facility_time_zone(gql, room, test_clock):
    # 23:30 in Phoenix is already the 11th in UTC: "today" must still be the 10th.
    set_now(test_clock, at(23, 30))
    await create_session(gql, room, starts_at=at(9, day=9), title="Yesterday")
    await create_session(gql, room, starts_at=at(0, 15), title="Early today")
    await create_session(gql, room, starts_at=at(22), minutes=60, title="Late today")
    await create_session(gql, room, starts_at=at(8, day=11), title="Tomorrow")
    assert titles(await list_sessions(gql)) == ["Early today", "Late today"]


async def test_list_today_is_each_facility_own_today(gql, room, test_clock):
    set_now(test_clock, at(23, 30))  # 06:30 UTC on the 11th; 19:30 on the 11th in Auckland
    auckland = await room.facility(name="Kiwi Clinic", state="AZ", timezone="Pacific/Auckland")
    await create_session(gql, room, patients=[], starts_at=at(22), minutes=60, title="Phoenix tonight")
    # 09:00 on the 11th in Auckland is 13:00 on the 10th in Phoenix.
    await create_session(
        gql, room, patients=[], facilityId=auckland, starts_at=at(13), minutes=60, title="Auckland today"
    )
    # 09:00 on the 10th in Auckland: yesterday there.
    await create_session(
        gql, room, patients=[], facilityId=auckland, starts_at=at(13, day=9), minutes=60, title="Auckland yesterday"
    )
    assert titles(await list_sessions(gql)) == ["Auckland today", "Phoenix tonight"]


async def test_list_date_range_is_inclusive_facility_local_dates(gql, room, test_clock):
    set_now(test_clock, NOW)
    for day in (8, 9, 10, 11):
        await create_session(gql, room, patients=[], starts_at=at(22, day=day), minutes=60, title=f"Day {day}")
    assert titles(await list_sessions(gql, **{"from": "2026-03-09", "to": "2026-03-10"})) == ["Day 9", "Day 10"]
    assert titles(await list_sessions(gql, **{"from": "2026-03-11"})) == ["Day 11"]
    assert titles(await list_sessions(gql, to="2026-03-08")) == ["Day 8"]


async def test_list_refuses_a_backwards_date_range(gql, room):
    _, code, body = await gql.error(LIST, {"filter": {"from": "2026-03-10", "to": "2026-03-09"}})
    assert code == "BAD_USER_INPUT" and "to must not be before from" in body["errors"][0]["message"]


async def test_list_defaults_to_the_viewer_home_facility(gql, room, test_clock):
    set_now(test_clock, NOW)
    other = await room.facility(name="Other Clinic")
    await create_session(gql, room, patients=[], title="Home")
    await create_session(gql, room, patients=[], facilityId=other, title="Away")
    home_first = gql.as_(facilities=[room.facility_id, other])
    assert titles(await list_sessions(home_first)) == ["Home"]
    assert titles(await list_sessions(home_first, facilityId=other)) == ["Away"]
    assert titles(await list_sessions(gql.as_(facilities=[other, room.facility_id]))) == ["Away"]
    # An all-facility token with no facilityId sees every facility.
    assert sorted(titles(await list_sessions(gql))) == ["Away", "Home"]


async def test_list_of_an_invisible_facility_is_not_found(gql, room):
    other = await room.facility(name="Other Clinic")
    _, code, _ = await gql.as_(facilities=[room.facility_id]).error(LIST, {"filter": {"facilityId": other}})
    assert code == "NOT_FOUND"


async def test_list_filters_by_group_type(gql, room, test_clock):
    set_now(test_clock, NOW)
    await create_session(gql, room, patients=[], title="CBT", groupType="THERAPY")
    await create_session(gql, room, patients=[], title="IOP", groupType="IOP")
    assert titles(await list_sessions(gql, groupType="IOP")) == ["IOP"]


async def test_list_filters_by_the_derived_status(gql, room, services, test_clock):
    set_now(test_clock, NOW)  # 10:00
    await create_session(gql, room, patients=[], starts_at=at(7), minutes=60, title="Ended")
    await create_session(gql, room, patients=[], starts_at=at(9), minutes=90, title="In progress")
    await create_session(gql, room, patients=[], starts_at=at(14), minutes=60, title="Scheduled")
    locked = await create_session(gql, room, patients=[], starts_at=at(6), minutes=60, title="Locked")
    cancelled = await create_session(gql, room, patients=[], starts_at=at(15), minutes=60, title="Cancelled")
    await lock_session(services, locked["id"])
    await cancel_directly(services, cancelled["id"])
    for status, expected in [
        ("ENDED", ["Ended"]),
        ("IN_PROGRESS", ["In progress"]),
        ("SCHEDULED", ["Scheduled"]),
        ("LOCKED", ["Locked"]),
        ("CANCELLED", ["Cancelled"]),
    ]:
        connection = await list_sessions(gql, status=status)
        assert titles(connection) == expected, status
        assert {e["node"]["status"] for e in connection["edges"]} == {status}
    # An hour later the 09:00 session has ended too.
    test_clock.advance(timedelta(hours=1))
    assert titles(await list_sessions(gql, status="ENDED")) == ["Ended", "In progress"]
    assert titles(await list_sessions(gql, status="IN_PROGRESS")) == []


async def test_list_rows_show_counts_supervisors_and_times(gql, room, test_clock):
    set_now(test_clock, NOW)
    supervisor = room.staff[1]
    await room.supervise(supervisor, room.patients[0])
    session = await create_session(gql, room, starts_at=at(9, 30), minutes=60)
    await gql.execute(SET, {"id": session["roster"][0]["id"], "status": "ATTENDED"})
    await gql.execute(SET, {"id": session["roster"][1]["id"], "status": "ABSENT"})
    [edge] = (await list_sessions(gql))["edges"]
    row = edge["node"]
    assert (row["sessionDate"], row["startTime"], row["endTime"]) == ("2026-03-10", "09:30:00", "10:30:00")
    assert row["facility"]["id"] == room.facility_id and row["groupType"] == "THERAPY"
    assert row["supervisors"] == [{"staff": {"id": supervisor}, "status": "SCHEDULED"}]
    assert row["attendance"] == {"scheduled": 1, "attended": 1, "late": 0, "absent": 1, "total": 3, "terminal": False}


async def test_list_pages_in_start_order(gql, room, test_clock):
    set_now(test_clock, NOW)
    for hour in (15, 9, 12):
        await create_session(gql, room, patients=[], starts_at=at(hour), minutes=60, title=f"{hour}h")
    first = await list_sessions(gql, first=2)
    assert titles(first) == ["9h", "12h"] and first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    rest = await list_sessions(gql, first=2, after=first["pageInfo"]["endCursor"])
    assert titles(rest) == ["15h"] and not rest["pageInfo"]["hasNextPage"]


async def test_list_caps_first_at_100(gql, room):
    _, code, _ = await gql.error(LIST, {"first": 101})
    assert code == "BAD_USER_INPUT"


async def test_list_needs_the_read_scope(gql, room):
    _, code, body = await gql.as_(scopes=["clinical.attendance.write"]).error(LIST)
    assert code == "FORBIDDEN" and body["data"] is None


# ------------------------------------------------------------------ the detail


async def test_supervisors_are_the_distinct_supervising_staff_of_rostered_patients(gql, room):
    dana, sam = room.staff
    outsider_patient = await room.add_patient(name="Dee Patient")
    await room.supervise(sam, room.patients[0])
    await room.supervise(sam, room.patients[1])  # same supervisor twice: listed once
    await room.supervise(dana, room.patients[2])
    rendering = await room.add_staff("Rae Rendering")
    await gql.execute(ASSIGN, {"input": {"staffId": rendering, "patientId": room.patients[0], "role": "RENDERING"}})
    off_roster = await room.add_staff("Olly Offroster")
    await room.supervise(off_roster, outsider_patient)
    session = await create_session(gql, room, patients=room.patients[:3])
    supervisors = session["supervisors"]
    assert [s["staff"]["id"] for s in supervisors] == [dana, sam]  # by name
    assert all(s["status"] == "SCHEDULED" and s["allowedNext"] == ["ATTENDED", "ABSENT", "LATE"] for s in supervisors)
    assert len({s["id"] for s in supervisors}) == 2


async def test_supervisor_card_is_empty_without_supervising_assignments(gql, room):
    session = await create_session(gql, room)
    assert session["supervisors"] == []


async def test_detail_shows_the_audit_log(gql, room):
    session = await create_session(gql, room, patients=room.patients[:1])
    await gql.execute(SET, {"id": session["roster"][0]["id"], "status": "LATE"})
    data = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action entityType entityId actor before after reason } } }",
        {"id": session["id"]},
    )
    log = data["groupSession"]["auditLog"]
    assert [e["action"] for e in log] == ["session.create", "attendance.set"]
    assert log[0]["entityId"] == session["id"]
    assert log[1]["entityType"] == "RosterEntry" and log[1]["entityId"] == session["roster"][0]["id"]
    assert log[1]["before"]["status"] == "SCHEDULED" and log[1]["after"]["status"] == "LATE"
    assert log[1]["actor"] == "tester"


async def test_another_facility_session_is_not_found(gql, room):
    other = await room.facility(name="Other Clinic")
    session = await create_session(gql, room, patients=[], facilityId=other)
    caller = gql.as_(facilities=[room.facility_id])
    status, code, body = await caller.error(SESSION, {"id": session["id"]})
    assert code == "NOT_FOUND" and body["data"] == {"groupSession": None}
    _, code, _ = await caller.error("query($id: ID!) { node(id: $id) { id } }", {"id": session["id"]})
    assert code == "NOT_FOUND"


async def test_session_is_a_node(gql, room):
    session = await create_session(gql, room, patients=[])
    data = await gql.execute(
        "query($id: ID!) { node(id: $id) { id ... on GroupSession { title status } } }", {"id": session["id"]}
    )
    assert data["node"] == {"id": session["id"], "title": "Morning CBT", "status": session["status"]}


async def test_session_detail_and_node_need_the_read_scope(gql, room):
    session = await create_session(gql, room, patients=[])
    caller = gql.as_(scopes=["clinical.attendance.write"])
    _, code, _ = await caller.error(SESSION, {"id": session["id"]})
    assert code == "FORBIDDEN"
    _, code, _ = await caller.error("query($id: ID!) { node(id: $id) { id } }", {"id": session["id"]})
    assert code == "FORBIDDEN"


async def test_unknown_session_is_not_found(gql, room):
    _, code, _ = await gql.error(SESSION, {"id": encode_id("GroupSession", uuid.uuid4())})
    assert code == "NOT_FOUND"
