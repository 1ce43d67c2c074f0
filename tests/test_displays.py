"""Room displays through the endpoint: pairing by code (ten minutes, once, guessing limited), the
device credential (display scope only, rotated, revoked with its socket closed), the wall's fields,
names per facility, and a display following its room through boundaries and schedule changes."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from httpx_ws import WebSocketDisconnect

from tests.conftest import make_token
from tests.support.builders_displays import (
    DISPLAYS,
    NAME_FORMAT,
    PAIR,
    REVOKE,
    ROOM,
    ROOM_DISPLAY,
    ROTATE,
    claim,
    pair_screen,
    room_group,
    room_occurrence,
    start_pairing,
)
from tests.support.builders_enrollment import enroll
from tests.support.builders_notes import CREATE_GROUP_NOTE, clinician
from tests.support.builders_scheduling import CANCEL, UPDATE, create_group, generate
from tests.support.builders_sessions import NOW, SET_ATTENDANCE, set_now
from tests.support.server import serve_in_process, start_server
from tests.test_http_subscriptions import EVENT_STREAM, sse_events


async def next_message(socket, seconds: float = 5) -> dict:
    message = await asyncio.wait_for(socket.receive_json(), seconds)
    assert message["type"] == "next", message
    return message["payload"]


async def watch(socket, query: str = ROOM_DISPLAY, variables: dict | None = None) -> dict:
    assert (await socket.receive_json())["type"] == "connection_ack"
    await socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
    return await next_message(socket)


async def closed_with(socket, seconds: float = 5) -> tuple[int, str]:
    try:
        async with asyncio.timeout(seconds):
            while True:
                await socket.receive_json()
    except WebSocketDisconnect as closed:
        return closed.code, closed.reason
    raise AssertionError("the socket stayed open")


@pytest.fixture
async def room(gql, clinic, test_clock):
    """Group Room 4 at 10:00 in Phoenix: Ana Reyes and Ben Ortiz in a group meeting there from 9:30 to 10:30."""
    set_now(test_clock, NOW)
    for name in ("Ana Reyes", "Ben Ortiz"):
        await clinic.add_patient(name)
    group = await room_group(gql, clinic)
    for patient in clinic.patients:
        await enroll(gql, group, patient)
    occurrence = await room_occurrence(gql, group, NOW - timedelta(minutes=30))
    return {"group": group, "occurrence": occurrence}


# ------------------------------------------------------------------ pairing


async def test_a_screen_is_paired_by_its_code_and_claims_its_credential_once(http, gql, clinic):
    pairing = await start_pairing(http)
    assert len(pairing["code"]) == 7 and pairing["code"][3] == "-" and pairing["expiresInSeconds"] == 600
    assert (await claim(http, pairing["claim"]))["state"] == "PENDING"

    typed = pairing["code"].lower().replace("-", " ")  # as someone types it off the wall
    display = (
        await gql.execute(PAIR, {"code": typed, "facilityId": clinic.facility_id, "location": ROOM, "label": "Wall"})
    )["pairDisplay"]
    assert (display["location"], display["label"], display["pairedBy"], display["facility"]["id"]) == (
        ROOM,
        "Wall",
        "tester",
        clinic.facility_id,
    )

    claimed = await claim(http, pairing["claim"])
    assert claimed["state"] == "PAIRED" and claimed["credential"] and claimed["location"] == ROOM
    assert (await claim(http, pairing["claim"]))["state"] == "EXPIRED"  # handed out once
    _, code, _ = await gql.error(
        PAIR, {"code": pairing["code"], "facilityId": clinic.facility_id, "location": ROOM, "label": "Again"}
    )
    assert code == "NOT_FOUND"  # a code pairs once


async def test_a_code_expires_after_ten_minutes(http, gql, clinic, test_clock):
    pairing = await start_pairing(http)
    test_clock.advance(timedelta(minutes=10))
    _, code, body = await gql.error(
        PAIR, {"code": pairing["code"], "facilityId": clinic.facility_id, "location": ROOM, "label": "Late"}
    )
    assert code == "NOT_FOUND" and "10 minutes" in body["errors"][0]["message"]
    assert (await claim(http, pairing["claim"]))["state"] == "EXPIRED"


async def test_guessing_codes_is_refused_after_five_wrong_ones_even_for_a_right_code(http, gql, clinic):
    pairing = await start_pairing(http)
    guesser = gql.as_(subject="guesser")
    for wrong in ("AAA-AAA", "AAA-AAB", "AAA-AAC", "AAA-AAD", "not a code"):
        _, code, _ = await guesser.error(
            PAIR, {"code": wrong, "facilityId": clinic.facility_id, "location": ROOM, "label": "x"}
        )
        assert code == "NOT_FOUND"
    _, code, body = await guesser.error(
        PAIR, {"code": pairing["code"], "facilityId": clinic.facility_id, "location": ROOM, "label": "x"}
    )
    assert code == "FORBIDDEN" and "Too many wrong pairing codes" in body["errors"][0]["message"]
    # another member of staff is not held up by the guesser
    await gql.as_(subject="admin-2").execute(
        PAIR, {"code": pairing["code"], "facilityId": clinic.facility_id, "location": ROOM, "label": "x"}
    )


async def test_pairing_to_another_facility_is_not_found_and_bad_input_writes_nothing(http, gql, clinic):
    other = await clinic.facility(name="Elsewhere")
    pairing = await start_pairing(http)
    caller = gql.as_(facilities=[clinic.facility_id])
    _, code, _ = await caller.error(
        PAIR, {"code": pairing["code"], "facilityId": other, "location": ROOM, "label": "x"}
    )
    assert code == "NOT_FOUND"
    _, code, _ = await caller.error(
        PAIR, {"code": pairing["code"], "facilityId": clinic.facility_id, "location": "  ", "label": "x"}
    )
    assert code == "BAD_USER_INPUT"
    assert (await claim(http, pairing["claim"]))["state"] == "PENDING"  # still waiting: nothing half-written


async def test_a_claim_without_a_secret_is_a_clear_400(http):
    response = await http.post("/display/pairings/claim", content=b"not json")
    assert response.status_code == 400 and "claim" in response.json()["error"]


# ------------------------------------------------------------------ the credential


async def test_the_credential_reads_only_the_wall(http, gql, clinic, room, ws):
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    display = gql.__class__(gql.http, credential)
    for query in ("{ viewer { subject } }", "{ groupSessions { totalCount } }", "{ displays { totalCount } }"):
        _, code, _ = await display.error(query)
        assert code == "FORBIDDEN", query
    async with ws(credential) as socket:
        refused = await watch(socket, "subscription Mrn { roomDisplay { session { roster { patient { mrn } } } } }")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused.get("data") is None
    for sneaky in (
        "subscription S { roomDisplay { session { roster { ...P } } } } fragment P on RosterEntry { patient { dateOfBirth } }",
        "subscription S { roomDisplay { session { auditLog { after } } } }",
        "subscription S { roomDisplay { session { facility { taxId } } } }",
    ):
        async with ws(credential) as socket:
            assert (await watch(socket, sneaky))["errors"][0]["extensions"]["code"] == "FORBIDDEN", sneaky


async def test_staff_previewing_a_room_get_the_wall_fields_only(gql, clinic, room, ws):
    staff = make_token(scopes=["display.room"])
    variables = {"f": clinic.facility_id, "l": ROOM}
    async with ws(staff) as socket:
        shown = await watch(
            socket,
            "subscription P($f: ID!, $l: String!) { roomDisplay(facilityId: $f, location: $l) { session { roster { displayName } } } }",
            variables,
        )
    assert [r["displayName"] for r in shown["data"]["roomDisplay"]["session"]["roster"]] == ["Ana R.", "Ben O."]
    async with ws(make_token()) as socket:  # even an admin: the wall's subscription carries no MRN
        refused = await watch(
            socket,
            "subscription P($f: ID!, $l: String!) { roomDisplay(facilityId: $f, location: $l) { session { roster { patient { mrn } } } } }",
            variables,
        )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_display_shows_no_mrn_birth_date_or_member_id(http, gql, clinic, room, ws, services):
    from sqlalchemy import select

    from app.db import models

    _, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        shown = str(await watch(socket))
    async with services.sessionmaker() as db:
        patients = (await db.scalars(select(models.Patient))).all()
        member_ids = (await db.scalars(select(models.Coverage.member_id))).all()
    assert patients
    for patient in patients:
        assert patient.mrn not in shown and patient.date_of_birth.isoformat() not in shown and patient.name not in shown
    for member_id in member_ids:
        assert member_id not in shown


async def test_rotating_replaces_the_credential_and_closes_the_old_socket(http, gql, clinic, room, ws):
    display_id, credential = await pair_screen(http, gql, clinic.facility_id)
    old = gql.__class__(gql.http, credential)
    async with ws(credential) as socket:
        await watch(socket)
        rotated = (await old.execute(ROTATE))["rotateDisplayCredential"]
        assert rotated["display"]["id"] == display_id and rotated["credential"] != credential
        assert await closed_with(socket, 2) == (4401, "Display credential replaced")
    _, code, _ = await old.error(ROTATE)
    assert code == "UNAUTHENTICATED"
    async with ws(credential) as socket:
        assert await closed_with(socket) == (4403, "Display revoked")  # the old one opens nothing
    async with ws(rotated["credential"]) as socket:
        assert (await watch(socket))["data"]["roomDisplay"]["kind"] == "SNAPSHOT"


async def test_revoking_closes_the_displays_socket_within_a_second(http, gql, clinic, room, ws):
    display_id, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        await watch(socket)
        started = time.monotonic()
        await gql.execute(REVOKE, {"id": display_id})
        assert await closed_with(socket, 1) == (4403, "Display revoked")
        assert time.monotonic() - started < 1
    async with ws(credential) as socket:
        assert await closed_with(socket) == (4403, "Display revoked")
    _, code, _ = await gql.error(REVOKE, {"id": display_id})
    assert code == "ILLEGAL_TRANSITION"
    listed = (await gql.execute(DISPLAYS, {"all": False}))["displays"]
    assert listed["totalCount"] == 0
    everything = (await gql.execute(DISPLAYS, {"all": True}))["displays"]
    assert everything["edges"][0]["node"]["revokedAt"] is not None


async def test_displays_lists_the_callers_facilities_only(http, gql, clinic):
    other = await clinic.facility(name="Elsewhere")
    await pair_screen(http, gql, clinic.facility_id, label="Ours")
    await pair_screen(http, gql, other, label="Theirs")
    mine = await gql.as_(facilities=[clinic.facility_id]).execute(DISPLAYS, {"all": False})
    assert [e["node"]["label"] for e in mine["displays"]["edges"]] == ["Ours"]
    assert mine["displays"]["edges"][0]["node"]["credentialIssuedAt"] is not None


# ------------------------------------------------------------------ the room


async def test_attendance_marked_on_the_tablet_reaches_the_display(http, gql, clinic, room, ws):
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        snapshot = (await watch(socket))["data"]["roomDisplay"]
        assert snapshot["kind"] == "SNAPSHOT" and snapshot["session"]["status"] == "IN_PROGRESS"
        assert snapshot["session"]["facilitator"]["name"] == "Dana Facilitator"
        ana = snapshot["session"]["roster"][0]
        await gql.execute(SET_ATTENDANCE, {"participantId": ana["id"], "status": "ATTENDED"})
        update = (await next_message(socket))["data"]["roomDisplay"]
    assert update["kind"] == "ATTENDANCE_CHANGED" and update["changedParticipantIds"] == [ana["id"]]
    assert update["session"]["attendance"]["attended"] == 1 and update["billingPreview"]["billableCount"] == 1


async def test_the_display_switches_to_the_next_session_at_the_boundary(http, gql, clinic, room, ws, test_clock):
    later = await room_group(gql, clinic, name="Afternoon Skills")
    await room_occurrence(gql, later, NOW + timedelta(minutes=30), minutes=60)
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    set_now(test_clock, NOW + timedelta(minutes=30) - timedelta(seconds=1.5))  # the first ends in 1.5 s
    async with ws(credential) as socket:
        first = (await watch(socket))["data"]["roomDisplay"]
        assert first["session"]["title"] == "Morning IOP"
        switched = (await next_message(socket, 5))["data"]["roomDisplay"]
    assert switched["kind"] == "SNAPSHOT" and switched["session"]["title"] == "Afternoon Skills"
    assert switched["session"]["status"] == "IN_PROGRESS"


async def test_added_moved_and_cancelled_sessions_switch_the_display(http, gql, clinic, room, ws):
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        assert (await watch(socket))["data"]["roomDisplay"]["session"]["title"] == "Morning IOP"
        await gql.execute(CANCEL, {"id": room["occurrence"]["id"], "reason": "Facilitator out sick"})
        shown = await _until(socket, lambda u: u["kind"] == "SNAPSHOT" and u["session"] is None)
        assert shown["room"]["nextSessionDate"] is None

        evening = await room_group(gql, clinic, name="Evening Support")
        occurrence = await room_occurrence(gql, evening, NOW + timedelta(hours=8))
        shown = await _until(socket, lambda u: u["kind"] == "SNAPSHOT" and u["session"] is not None)
        assert (shown["session"]["title"], shown["session"]["status"]) == ("Evening Support", "SCHEDULED")

        await gql.execute(UPDATE, {"id": occurrence["id"], "input": {"sessionDate": "2026-03-12"}})
        shown = await _until(socket, lambda u: u["kind"] == "SNAPSHOT" and u["session"] is None)
        assert shown["room"]["nextSessionDate"] == "2026-03-12"  # nothing more today: the room's next date


async def test_the_name_format_is_the_facilitys(http, gql, clinic, room, ws):
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        assert [r["displayName"] for r in (await watch(socket))["data"]["roomDisplay"]["session"]["roster"]] == [
            "Ana R.",
            "Ben O.",
        ]
        changed = await gql.execute(NAME_FORMAT, {"f": clinic.facility_id, "format": "INITIALS"})
        assert changed["setDisplayNameFormat"]["displayNameFormat"] == "INITIALS"
        shown = await _until(socket, lambda u: u["kind"] == "SNAPSHOT")
    assert [r["displayName"] for r in shown["session"]["roster"]] == ["A. R.", "B. O."]


async def _until(socket, condition, seconds: float = 5) -> dict:
    async with asyncio.timeout(seconds):
        while True:
            update = (await next_message(socket, seconds))["data"]["roomDisplay"]
            if condition(update):
                return update


# ------------------------------------------------------------------ at the same time


@pytest.mark.parametrize("trial", range(5))
async def test_two_staff_pairing_one_code_at_once_pair_it_once(http, gql, clinic, trial):
    pairing = await start_pairing(http)
    staff = [gql.as_(subject=f"admin-{i}") for i in range(4)]
    bodies = await asyncio.gather(
        *(
            s.post(
                PAIR,
                {
                    "code": pairing["code"],
                    "facilityId": clinic.facility_id,
                    "location": f"Room {i}",
                    "label": f"Wall {i}",
                },
            )
            for i, s in enumerate(staff)
        )
    )
    answers = [b.json() for b in bodies]
    paired = [a["data"]["pairDisplay"] for a in answers if a.get("data")]
    assert len(paired) == 1
    assert sorted(a["errors"][0]["extensions"]["code"] for a in answers if a.get("errors")) == ["NOT_FOUND"] * 3
    claimed = await claim(http, pairing["claim"])
    assert claimed["location"] == paired[0]["location"]  # the screen hangs where the one winner put it


@pytest.mark.parametrize("trial", range(5))
async def test_a_credential_is_handed_out_once_to_claims_at_once(http, gql, clinic, trial):
    pairing = await start_pairing(http)
    await gql.execute(
        PAIR, {"code": pairing["code"], "facilityId": clinic.facility_id, "location": ROOM, "label": "Wall"}
    )
    answers = await asyncio.gather(*(claim(http, pairing["claim"]) for _ in range(4)))
    assert sorted(a["state"] for a in answers) == ["EXPIRED", "EXPIRED", "EXPIRED", "PAIRED"]


async def test_an_event_stream_of_a_revoked_display_ends_within_a_second(app, http, gql, clinic, room):
    """Not only the websocket: a display watching over graphql-sse is cut off as soon as it is revoked."""
    display_id, credential = await pair_screen(http, gql, clinic.facility_id)
    headers = {"Accept": EVENT_STREAM, "Authorization": f"Bearer {credential}"}
    async with serve_in_process(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        async with client.stream(
            "POST", "/graphql", json={"query": "subscription S { roomDisplay { kind } }"}, headers=headers
        ) as response:
            events = sse_events(response)
            kind, data = await anext(events)
            assert (kind, data["data"]["roomDisplay"]["kind"]) == ("next", "SNAPSHOT")
            started = time.monotonic()
            await gql.execute(REVOKE, {"id": display_id})
            async with asyncio.timeout(1):
                rest = [event async for event in events]
    assert time.monotonic() - started < 1
    assert rest[0][0] == "next" and rest[0][1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert rest[-1][0] == "complete"


async def test_a_client_asking_for_too_many_codes_is_told_to_wait(database_url):
    """Nobody is signed in when a screen asks for a code: each address may ask a few times per ten minutes."""
    async with (
        start_server(database_url, env={"GS_DISPLAY_CODES_PER_CLIENT": "3"}) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        answers = [await client.post("/display/pairings") for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert answers[3].headers["Retry-After"] == "60" and "Too many pairing codes" in answers[3].json()["error"]
    assert len({a.json()["code"] for a in answers[:3]}) == 3


# ------------------------------------------------------------------ what the wall shows (issue 26)

PATIENT_FACING_DISPLAY = """subscription RoomDisplay {
  roomDisplay { kind room { mode } session { id title roster { id displayName } attendance { total } } }
}"""
MODE = "mutation($id: ID!, $mode: DisplayMode!) { setDisplayMode(id: $id, mode: $mode) { id mode } }"


async def test_a_name_stored_last_first_shows_the_first_name_and_last_initial_only(http, gql, clinic, test_clock, ws):
    """Security issue 25, row 4: "Quintanilla, Marisol" on the wall is "Marisol Q.", never the surname."""
    set_now(test_clock, NOW)
    await clinic.add_patient("Quintanilla, Marisol")
    await clinic.add_patient("Ana Reyes")
    group = await room_group(gql, clinic)
    for patient in clinic.patients:
        await enroll(gql, group, patient)
    await room_occurrence(gql, group, NOW - timedelta(minutes=30))
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        shown = await watch(socket)
    assert sorted(r["displayName"] for r in shown["data"]["roomDisplay"]["session"]["roster"]) == [
        "Ana R.",
        "Marisol Q.",
    ]
    assert "Quintanilla" not in str(shown)
    await gql.execute(NAME_FORMAT, {"f": clinic.facility_id, "format": "INITIALS"})
    async with ws(credential) as socket:
        shown = await watch(socket)
    assert sorted(r["displayName"] for r in shown["data"]["roomDisplay"]["session"]["roster"]) == ["A. R.", "M. Q."]


async def test_the_wall_reads_each_members_note_status_never_the_note(http, gql, clinic, room, ws):
    """Issue 19: a display may show whether a member's note is drafted or signed, and nothing of it."""
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        shown = (await watch(socket))["data"]["roomDisplay"]["session"]
    ana, ben = (row["id"] for row in shown["roster"])
    await gql.execute(SET_ATTENDANCE, {"participantId": ana, "status": "ATTENDED"})
    dana = clinician(gql, clinic, clinic.staff[0])
    await dana.execute(CREATE_GROUP_NOTE, {"sessionId": shown["id"], "input": {"topic": "Coping with cravings"}})
    query = "subscription S { roomDisplay { session { roster { id noteStatus } } } }"
    async with ws(credential) as socket:
        roster = (await watch(socket, query))["data"]["roomDisplay"]["session"]["roster"]
    assert {row["id"]: row["noteStatus"] for row in roster} == {ana: "DRAFT", ben: None}
    for text in ("memberNote { participation }", "memberNote { id }"):
        async with ws(credential) as socket:
            refused = await watch(socket, f"subscription S {{ roomDisplay {{ session {{ roster {{ {text} }} }} }} }}")
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", text


async def test_a_patient_facing_display_shows_no_billing_and_no_members_status(http, gql, clinic, room, ws):
    display_id, credential = await pair_screen(http, gql, clinic.facility_id)
    async with ws(credential) as socket:
        assert (await watch(socket))["data"]["roomDisplay"]["billingPreview"] is not None  # STAFF, as paired
        changed = await gql.execute(MODE, {"id": display_id, "mode": "PATIENT_FACING"})
        assert changed["setDisplayMode"]["mode"] == "PATIENT_FACING"
        ended = await next_message(socket)  # the staff selection ends: the page subscribes for its mode
    assert ended["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert ended["errors"][0]["message"].startswith("A patient-facing display shows no billing")
    assert "RoomDisplayUpdate.billingPreview" in ended["errors"][0]["message"]

    for staff_only in (
        "billingPreview { readyToBill }",
        "session { roster { status } }",
        "session { roster { noteStatus } }",
        "changedParticipantIds",
    ):
        async with ws(credential) as socket:
            refused = await watch(socket, f"subscription S {{ roomDisplay {{ {staff_only} }} }}")
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", staff_only
    async with ws(credential) as socket:
        shown = (await watch(socket, PATIENT_FACING_DISPLAY))["data"]["roomDisplay"]
        assert shown["room"]["mode"] == "PATIENT_FACING"
        assert [r["displayName"] for r in shown["session"]["roster"]] == ["Ana R.", "Ben O."]
        await gql.execute(MODE, {"id": display_id, "mode": "STAFF"})
        back = (await next_message(socket))["data"]["roomDisplay"]
    assert (back["kind"], back["room"]["mode"]) == ("SNAPSHOT", "STAFF")  # the page subscribes for STAFF again

    staff = make_token(scopes=["display.room"])
    preview = "subscription P($f: ID!, $l: String!) { roomDisplay(facilityId: $f, location: $l, mode: PATIENT_FACING) { %s } }"
    async with ws(staff) as socket:
        refused = await watch(socket, preview % "billingPreview { readyToBill }", {"f": clinic.facility_id, "l": ROOM})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with ws(staff) as socket:
        shown = await watch(socket, preview % "room { mode }", {"f": clinic.facility_id, "l": ROOM})
    assert shown["data"]["roomDisplay"]["room"]["mode"] == "PATIENT_FACING"


async def test_scheduling_elsewhere_sends_the_display_no_new_snapshot(http, gql, clinic, room, ws):
    """Sessions generated for another group (another room, next year) leave this room's view as it was:
    the display's next message is the next change of its own session, not a SNAPSHOT."""
    _, credential = await pair_screen(http, gql, clinic.facility_id)
    weekly = {"recurrenceRule": "FREQ=WEEKLY;BYDAY=MO,WE", "recurrenceStart": "2027-01-04T18:00:00-07:00"}
    elsewhere = await create_group(gql, clinic, location="Group Room 9", name="Evening Support", **weekly)
    async with ws(credential) as socket:
        ana = (await watch(socket))["data"]["roomDisplay"]["session"]["roster"][0]
        for month in ("01", "02"):
            await generate(gql, elsewhere, f"2027-{month}-01", f"2027-{month}-28")
        same_room = await create_group(gql, clinic, location=ROOM, name="Next Year Here", **weekly)
        await generate(gql, same_room, "2027-03-01", "2027-03-28")  # this room, another day: the view stands
        with pytest.raises(TimeoutError):
            await next_message(socket, 1.5)
        await gql.execute(SET_ATTENDANCE, {"participantId": ana["id"], "status": "ATTENDED"})
        update = (await next_message(socket))["data"]["roomDisplay"]
    assert update["kind"] == "ATTENDANCE_CHANGED"
