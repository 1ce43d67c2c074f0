"""Every operation in examples/ runs against the demo clinic, so the examples never rot."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.demo import gid, load_demo
from app.rules.edi837 import edi_problems, parse_segments
from tests.conftest import GraphQLClient, make_token
from tests.support.builders_sessions import set_now
from tests.support.server import start_server
from tests.support.snapshots import Snapshot
from tests.support.x12 import pyx12_errors

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(path: str) -> str:
    return (EXAMPLES / path).read_text()


_LOADED: dict[tuple[str, date], Snapshot] = {}


@pytest.fixture
async def demo(services, test_clock, database_url):
    """The demo loaded at 14:00 in Phoenix, so today's list holds every kind of session. It is loaded
    once a day per database; the tests after the first get its rows back as that load left them."""
    today = test_clock.now().astimezone(ZoneInfo("America/Phoenix")).date()
    set_now(test_clock, datetime(today.year, today.month, today.day, 14, 0, tzinfo=ZoneInfo("America/Phoenix")))
    loaded = _LOADED.get((database_url, today))
    if loaded is not None:
        await loaded.restore()
        return
    assert "Loaded" in await load_demo(services)
    snapshot = await Snapshot.take(database_url, "demo")
    if snapshot is not None:
        _LOADED[(database_url, today)] = snapshot


@pytest.fixture
async def demo_now(services):
    """The demo loaded at the real time (for a real server process, which keeps the real clock)."""
    assert "Loaded" in await load_demo(services)


async def live_session(gql) -> dict:
    sessions = (await gql.execute(example("tablet/todays_sessions.graphql")))["groupSessions"]["edges"]
    assert sessions, "the demo has sessions today"
    return next((s["node"] for s in sessions if s["node"]["status"] == "IN_PROGRESS"), sessions[-1]["node"])


async def test_tablet_examples(gql, demo):
    session = await live_session(gql)
    detail = (await gql.execute(example("tablet/session_roster.graphql"), {"sessionId": session["id"]}))["groupSession"]
    waiting = next(r for r in detail["roster"] if r["status"] == "SCHEDULED")
    marked = await gql.execute(
        example("tablet/mark_attendance.graphql"),
        {"participantId": waiting["id"], "status": "ATTENDED", "expectedStatus": "SCHEDULED"},
        headers={"Idempotency-Key": "tablet-example-1"},
    )
    assert marked["setAttendance"]["status"] == "ATTENDED"
    # The facilitator's walkthrough's next step: the same change sent again no longer expects the row's status.
    _, code, body = await gql.error(
        example("tablet/mark_attendance.graphql"),
        {"participantId": waiting["id"], "status": "ATTENDED", "expectedStatus": "SCHEDULED"},
    )
    assert code == "CONFLICT"
    assert body["errors"][0]["message"] == "Attendance is ATTENDED, not the expected SCHEDULED; reload and try again"
    preview = await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": session["id"]})
    assert preview["groupSession"]["billingPreview"]["billableCount"] >= 1


async def mark_the_unmarked(gql, session_id: str) -> None:
    detail = (await gql.execute(example("tablet/session_roster.graphql"), {"sessionId": session_id}))["groupSession"]
    [unmarked] = [r for r in detail["roster"] if r["status"] == "SCHEDULED"]
    await gql.execute(
        example("tablet/mark_attendance.graphql"),
        {"participantId": unmarked["id"], "status": "ABSENT", "expectedStatus": "SCHEDULED"},
    )


async def test_the_demos_ended_session_awaits_its_last_mark_then_the_notes_its_payer_requires(gql, demo):
    sessions = (await gql.execute(example("tablet/todays_sessions.graphql")))["groupSessions"]["edges"]
    waiting = [s["node"] for s in sessions if s["node"]["status"] == "AWAITING_FINALIZATION"]
    cbt = next(s for s in waiting if s["title"] == "Morning CBT Group")
    preview = (await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": cbt["id"]}))["groupSession"][
        "billingPreview"
    ]
    assert {i["code"] for i in preview["issues"] if i["severity"] == "BLOCKING"} == {
        "GROUP_UNATTENDED_BILLED",
        "NOTE_UNSIGNED",
    }
    await mark_the_unmarked(gql, cbt["id"])
    preview = (await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": cbt["id"]}))["groupSession"][
        "billingPreview"
    ]
    # The roster is complete; Suncrest's members still need a signed note (BLOCKING): not billed yet.
    assert {i["code"] for i in preview["issues"] if i["severity"] == "BLOCKING"} == {"NOTE_UNSIGNED"}
    billed = (await gql.execute(example("billing/claims.graphql"), {"sessionId": cbt["id"]}))["groupSession"]
    assert billed["status"] == "AWAITING_FINALIZATION" and billed["claims"] == []


async def test_room_display_subscription(ws, gql, demo):
    session = await live_session(gql)
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": example("room-display/session_updates.graphql"),
                    "variables": {"sessionId": session["id"]},
                },
            }
        )
        message = await asyncio.wait_for(socket.receive_json(), 10)
        assert message["type"] == "next" and "errors" not in message["payload"]
        assert message["payload"]["data"]["sessionUpdates"]["kind"] == "SNAPSHOT"


async def test_integrator_examples(gql, demo):
    schema = (await gql.execute(example("integrator/introspection.graphql")))["__schema"]
    assert schema["subscriptionType"]["name"] == "Subscription"
    first = (await gql.execute(example("integrator/integration_events.graphql"), {"after": None}))["integrationEvents"]
    assert first["totalCount"] > 50 and first["pageInfo"]["hasNextPage"]
    following = await gql.execute(
        example("integrator/integration_events.graphql"), {"after": first["pageInfo"]["endCursor"]}
    )
    assert int(following["integrationEvents"]["edges"][0]["node"]["id"]) > int(first["edges"][-1]["node"]["id"])


async def test_scheduler_examples(gql, demo):
    created = await gql.execute(
        example("scheduler/create_iop_group.graphql"),
        {"facilityId": gid("Facility", "facility", "desert-bloom"), "facilitatorId": gid("Staff", "staff", 0)},
    )
    group_id = created["createGroup"]["id"]
    month = (await gql.execute(example("scheduler/generate_month.graphql"), {"groupId": group_id}))[
        "generateOccurrences"
    ]
    assert len(month["created"]) == 14 and month["skipped"] == 0
    again = (await gql.execute(example("scheduler/generate_month.graphql"), {"groupId": group_id}))[
        "generateOccurrences"
    ]
    assert again == {"created": [], "skipped": 14}
    compliance = (
        await gql.execute(example("scheduler/compliance.graphql"), {"groupId": group_id, "weekOf": "2026-12-09"})
    )["group"]["compliance"]
    assert compliance["status"] == "COMPLIANT" and compliance["hoursPerWeek"] == 9.0


async def test_billing_examples(gql, demo):
    sessions = (await gql.execute(example("tablet/todays_sessions.graphql")))["groupSessions"]["edges"]
    locked = next(s["node"] for s in sessions if s["node"]["status"] == "LOCKED")
    claims = (await gql.execute(example("billing/claims.graphql"), {"sessionId": locked["id"]}))["groupSession"][
        "claims"
    ]
    assert {c["status"] for c in claims} == {"SUBMITTED", "DRAFT"}
    draft = next(c for c in claims if c["status"] == "DRAFT")
    submitted = (await gql.execute(example("billing/submit_claim.graphql"), {"claimId": draft["id"]}))["submitClaim"]
    assert submitted["status"] == "SUBMITTED" and submitted["edi837"].startswith("ISA*")
    # The demo's patients carry realistic diagnoses: the claim points at the patient's own, not a default.
    assert pyx12_errors(submitted["edi837"]) == [] and edi_problems(submitted["edi837"]) == []
    [hi] = [s for s in parse_segments(submitted["edi837"]) if s[0] == "HI"]
    assert hi[1] in {"ABK:F4321", "ABK:F1020", "ABK:F1120", "ABK:F1220"}, hi


async def test_fix_patient_address_example_lets_a_held_claim_go(gql, demo):
    """A DRAFT claim whose patient has no address is held (MISSING_SUBSCRIBER_ADDRESS); the example adds it and
    the claim goes, its subscriber's N3/N4 carrying the address."""
    sessions = (await gql.execute(example("tablet/todays_sessions.graphql")))["groupSessions"]["edges"]
    locked = next(s["node"] for s in sessions if s["node"]["status"] == "LOCKED")
    claims = (await gql.execute(example("billing/claims.graphql"), {"sessionId": locked["id"]}))["groupSession"][
        "claims"
    ]
    draft = next(c for c in claims if c["status"] == "DRAFT")
    patient = (await gql.execute("query($id: ID!) { claim(id: $id) { patient { id } } }", {"id": draft["id"]}))[
        "claim"
    ]["patient"]["id"]
    cleared = "mutation($id: ID!) { updatePatient(id: $id, input: {addressLine1: null}) { id } }"
    await gql.execute(cleared, {"id": patient})
    _, code, body = await gql.error(example("billing/submit_claim.graphql"), {"claimId": draft["id"]})
    assert "MISSING_SUBSCRIBER_ADDRESS" in body["errors"][0]["message"], body
    fixed = await gql.execute(example("billing/fix_patient_address.graphql"), {"patientId": patient})
    assert fixed["updatePatient"]["id"] == patient
    submitted = (await gql.execute(example("billing/submit_claim.graphql"), {"claimId": draft["id"]}))["submitClaim"]
    assert submitted["status"] == "SUBMITTED"
    assert pyx12_errors(submitted["edi837"]) == [] and edi_problems(submitted["edi837"]) == []
    segments = parse_segments(submitted["edi837"])
    subscriber = next(i for i, s in enumerate(segments) if s[:2] == ["NM1", "IL"])
    assert segments[subscriber + 1] == ["N3", "1420 N 3RD ST"]
    assert segments[subscriber + 2] == ["N4", "PHOENIX", "AZ", "85004"]


async def test_watch_session_script_prints_updates(database_url, services, demo_now):
    token = make_token()
    async with start_server(database_url) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            gql = GraphQLClient(http, token)
            session = await live_session(gql)
            script = await asyncio.create_subprocess_exec(
                sys.executable,
                str(EXAMPLES / "watch_session.py"),
                "--url",
                base_url.replace("http", "ws") + "/graphql",
                "--token",
                token,
                "--session",
                session["id"],
                "--count",
                "2",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            first = await asyncio.wait_for(script.stdout.readline(), 20)
            assert b"SNAPSHOT" in first
            detail = await gql.execute(example("tablet/session_roster.graphql"), {"sessionId": session["id"]})
            entry = next(r for r in detail["groupSession"]["roster"] if r["status"] == "SCHEDULED")
            await gql.execute(
                example("tablet/mark_attendance.graphql"), {"participantId": entry["id"], "status": "ABSENT"}
            )
            second = await asyncio.wait_for(script.stdout.readline(), 20)
            assert b"ATTENDANCE_CHANGED" in second
            assert await asyncio.wait_for(script.wait(), 20) == 0


async def test_clinician_examples_show_the_demos_patient_at_risk_and_their_history(gql, demo):
    facility = gid("Facility", "facility", "desert-bloom")
    at_risk = (await gql.execute(example("clinician/patients_at_risk.graphql"), {"facilityId": facility}))[
        "patientsAtRisk"
    ]
    (alert,) = [e["node"] for e in at_risk["edges"]]
    assert alert["patient"]["id"] == gid("Patient", "patient", 8) and alert["group"]["groupType"] == "IOP"
    assert (alert["threshold"], alert["consecutiveAbsences"], len(alert["sessions"])) == (2, 2, 2)
    history = (
        await gql.execute(example("clinician/attendance_history.graphql"), {"patientId": alert["patient"]["id"]})
    )["patientAttendance"]
    evenings_rows = [e["node"]["status"] for e in history["edges"] if e["node"]["groupId"] == alert["group"]["id"]]
    assert evenings_rows.count("ABSENT") == 2
    (evenings,) = [t for t in history["tallies"] if t["title"] == "IOP Evenings (short of hours)"]
    assert (evenings["absent"], evenings["attendanceRate"]) == (2, 0.0)


async def test_calendar_examples_make_a_feed_a_calendar_client_can_read(gql, http, demo):
    groups = (await gql.execute("{ groups(first: 10) { edges { node { id name } } } }"))["groups"]["edges"]
    group = next(g["node"]["id"] for g in groups if g["node"]["name"] == "IOP Mornings (compliant)")
    created = (
        await gql.execute(example("calendar/create_feed.graphql"), {"groupId": group, "label": "Lobby display"})
    )["createCalendarFeed"]
    listed = (await gql.execute(example("calendar/feeds.graphql"), {"groupId": group}))["calendarFeeds"]
    assert [e["node"]["id"] for e in listed["edges"]] == [created["feed"]["id"]]
    response = await http.get(created["url"].removeprefix("http://test"))
    assert response.status_code == 200 and response.text.count("BEGIN:VEVENT") >= 14
    assert "TZID=America/Phoenix" in response.text and "SUMMARY:IOP Mornings (compliant)" in response.text


async def test_clinician_notes_examples_document_and_bill_this_mornings_cbt(gql, demo, caplog):
    """From session to signed notes to claim: the clinician's walkthrough, run against the demo."""
    caplog.set_level(logging.CRITICAL, logger="pyx12")
    sessions = (await gql.execute(example("tablet/todays_sessions.graphql")))["groupSessions"]["edges"]
    by_status = {s["node"]["status"]: s["node"] for s in sessions}
    locked, ended = by_status["LOCKED"], by_status["AWAITING_FINALIZATION"]
    marcus = gql.as_(subject=gid("Staff", "staff", 1), facilities=[gid("Facility", "facility", "desert-bloom")])
    priya = gql.as_(subject=gid("Staff", "staff", 2), facilities=[gid("Facility", "facility", "desert-bloom")])

    grief = (await gql.execute(example("clinician/session_notes.graphql"), {"sessionId": locked["id"]}))["groupSession"]
    assert grief["groupNote"]["status"] == "SIGNED"
    assert sorted(n["status"] for n in grief["groupNote"]["memberNotes"]) == ["CO_SIGNED", "SIGNED", "SIGNED", "SIGNED"]
    assert [r["modality"] for r in grief["roster"]][0] == "TELEHEALTH_VIDEO"

    await mark_the_unmarked(gql, ended["id"])  # the facilitator's last mark: now only the notes hold it
    cbt = (await gql.execute(example("clinician/session_notes.graphql"), {"sessionId": ended["id"]}))["groupSession"]
    assert sorted(r["minutesPresent"] for r in cbt["roster"] if r["status"] == "ATTENDED")[0] == 30
    before = (await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": ended["id"]}))["groupSession"][
        "billingPreview"
    ]
    assert {i["code"] for i in before["issues"]} >= {"BELOW_MINIMUM_MINUTES", "NOTE_UNSIGNED"}
    drafts = [n for n in cbt["groupNote"]["memberNotes"] if n["status"] == "DRAFT"]
    for note in drafts:
        written = (await marcus.execute(example("clinician/write_member_note.graphql"), {"id": note["id"]}))[
            "updateMemberNote"
        ]
        assert written["participation"] == "ACTIVE"
        assert (await marcus.execute(example("clinician/sign_note.graphql"), {"id": note["id"]}))["signNote"][
            "status"
        ] == "SIGNED"
    signed = [n for n in cbt["groupNote"]["memberNotes"]]
    cosigned = []
    for note in signed:
        body = (await priya.post(example("clinician/cosign_note.graphql"), {"id": note["id"]})).json()
        if body.get("errors"):  # a Suncrest member's note: no co-signature is required
            assert body["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION"
        else:
            cosigned.append(body["data"]["cosignNote"])
    assert cosigned and all(c["status"] == "CO_SIGNED" for c in cosigned)
    addendum = (
        await marcus.execute(
            example("clinician/add_addendum.graphql"),
            {"noteId": signed[0]["id"], "text": "Called after group: the lapse was a single drink; plan reviewed."},
        )
    )["addNoteAddendum"]
    assert addendum["author"]["name"] == "Marcus Oyelaran, LPC"
    after = (await gql.execute(example("tablet/billing_preview.graphql"), {"sessionId": ended["id"]}))["groupSession"][
        "billingPreview"
    ]
    assert [i["code"] for i in after["issues"]] == [
        "BELOW_MINIMUM_MINUTES"
    ]  # every note signed, co-signed where required
    # The signature that cleared the last BLOCKING note billed the session in its own transaction.
    claims = (await gql.execute(example("billing/claims.graphql"), {"sessionId": ended["id"]}))["groupSession"]
    assert claims["status"] == "LOCKED"
    assert claims["claims"] and all(c["status"] == "DRAFT" for c in claims["claims"])
    assert all(v["severity"] != "BLOCKING" for c in claims["claims"] for v in c["validation"]), claims["claims"]
    grief_claims = (await gql.execute(example("billing/claims.graphql"), {"sessionId": locked["id"]}))["groupSession"]
    video = next(c for c in grief_claims["charges"] if "95" in c["modifiers"])
    assert (video["modifiers"], video["placeOfService"]) == (["HQ", "95"], "10")
    submitted = next(c for c in grief_claims["claims"] if c["status"] == "SUBMITTED")
    edi = (await gql.execute("query($id: ID!) { claim(id: $id) { edi837 } }", {"id": submitted["id"]}))["claim"][
        "edi837"
    ]
    segments = {s[0]: s for s in parse_segments(edi) if s[0] in ("CLM", "SV1")}
    assert (segments["CLM"][5], segments["SV1"][1]) == ("10:B:1", "HC:90853:HQ:95")  # video from home
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    payer = await gql.execute(
        example("billing/documentation_rule.graphql"), {"payerId": gid("Payer", "payer", "AHCCCS")}
    )
    assert payer["setPayerDocumentationRule"]["documentationRule"]["cosignStates"] == ["AZ"]
