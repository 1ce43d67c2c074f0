"""Billing through the endpoint: the attendance guide's whole story, from preview to void/replace."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth import ALL_SCOPES
from app.db import models
from app.operations.billing_pipeline import bill_due_sessions
from app.rules.edi837 import edi_problems, parse_segments
from tests.support.builders_notes import no_note_rule
from tests.support.builders_sessions import (
    SET_ATTENDANCE,
    SET_SUPERVISOR,
    at,
    create_session,
    payer_claim_number_arrives,
    set_now,
)
from tests.support.x12 import pyx12_errors
from tests.test_attendance import next_update, watch

PREVIEW = """query($id: ID!) { groupSession(id: $id) { status locked billingPreview {
  billableCount state presentSupervisors maxParticipantsPerSupervisor readyToBill
  payer { payerCode } band { minSize maxSize procedureCode modifiers rate }
  issues { code severity message accepted participantIds } } } }"""

BILLED = """query($id: ID!) { groupSession(id: $id) { status locked
  charges { id status amount procedureCode modifiers units serviceDate patient { id } }
  claims { id claimNumber status frequency totalAmount originalClaim { id claimNumber } patient { id }
           validation { code severity } charges { id } } } }"""

ACCEPT = """mutation($id: ID!, $code: BillingIssueCode!, $note: String!) {
  acceptBillingIssue(sessionId: $id, code: $code, note: $note) { readyToBill issues { code accepted } } }"""

RUN = "mutation($id: ID!) { runBilling(sessionId: $id) { status locked } }"
SUBMIT = "mutation($id: ID!) { submitClaim(claimId: $id) { status frequency edi837 submittedAt } }"


@pytest.fixture
async def room(gql, clinic, test_clock):
    """Five covered members and one supervisor, in a session at 09:00-10:30 Phoenix time."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 4, "90853", "40.00"), (5, 8, "90853", "30.00"), (10, 12, "90853", "20.00")])
    await clinic.supervision_rule(2)
    await no_note_rule(gql, clinic)  # documentation has tests of its own (test_documentation_billing.py)
    for i in range(5):
        patient = await clinic.add_patient(f"Member {i}")
        await clinic.cover(patient)
        await clinic.supervise(clinic.staff[1], patient)
    session = await create_session(gql, clinic, starts_at=at(9))
    entries = {e["patient"]["id"]: e["id"] for e in session["roster"]}
    return session["id"], [entries[p] for p in clinic.patients]


async def preview(gql, session_id):
    return (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]["billingPreview"]


async def mark(gql, participant, status, **extra):
    return await gql.execute(SET_ATTENDANCE, {"participantId": participant, "status": status, **extra})


def issue(preview_data, code):
    return next(i for i in preview_data["issues"] if i["code"] == code)


async def test_unmarked_members_block_billing_and_are_named(gql, room):
    session_id, members = room
    data = await preview(gql, session_id)
    assert data["billableCount"] == 0 and data["band"] is None
    unattended = issue(data, "GROUP_UNATTENDED_BILLED")
    assert unattended["severity"] == "BLOCKING" and sorted(unattended["participantIds"]) == sorted(members)
    assert [i["code"] for i in data["issues"]] == ["GROUP_UNATTENDED_BILLED"]  # zero billable: no band issue
    assert data["readyToBill"] is False


async def test_preview_recomputes_as_attendance_is_marked(gql, clinic, room):
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "LATE", "ABSENT", "ABSENT"], strict=False):
        await mark(gql, m, status)
    data = await preview(gql, session_id)
    assert data["billableCount"] == 3 and data["state"] == "AZ"
    assert data["band"] == {"minSize": 1, "maxSize": 4, "procedureCode": "90853", "modifiers": ["HQ"], "rate": "40.00"}
    ratio = issue(data, "SUPERVISION_RATIO_BREACH")  # 3 billable, nobody supervising yet
    assert ratio["severity"] == "WARNING" and not ratio["accepted"]
    await gql.execute(SET_SUPERVISOR, {"sessionId": session_id, "staffId": clinic.staff[1], "status": "ATTENDED"})
    data = await preview(gql, session_id)
    assert data["presentSupervisors"] == 1 and data["maxParticipantsPerSupervisor"] == 2
    assert issue(data, "SUPERVISION_RATIO_BREACH")  # 3 > 2 x 1
    await mark(gql, members[2], "ABSENT")
    data = await preview(gql, session_id)
    assert data["issues"] == [] and data["readyToBill"] is True  # 2 = 2 x 1: exactly met


async def test_between_bands_codes_down_with_a_warning(gql, clinic, room):
    session_id, members = room
    for _ in range(4):
        patient = await clinic.add_patient()
        await clinic.cover(patient)
        await gql.execute(
            "mutation($s: ID!, $p: ID!) { addSessionParticipant(sessionId: $s, patientId: $p) { id } }",
            {"s": session_id, "p": patient},
        )
    roster = await gql.execute("query($id: ID!) { groupSession(id: $id) { roster { id } } }", {"id": session_id})
    for entry in roster["groupSession"]["roster"]:
        await mark(gql, entry["id"], "ATTENDED")
    data = await preview(gql, session_id)
    assert data["billableCount"] == 9
    assert data["band"]["minSize"] == 5
    mismatch = issue(data, "GROUP_SIZE_BAND_MISMATCH")
    assert mismatch["severity"] == "WARNING"


async def test_no_payer_skips_band_and_supervision_checks(gql, clinic, test_clock):
    set_now(test_clock, at(9, 20))
    patient = await clinic.add_patient("Uncovered")
    session = await create_session(gql, clinic, patients=[patient], starts_at=at(9))
    entry = session["roster"][0]["id"]
    await mark(gql, entry, "ATTENDED")
    data = await preview(gql, session["id"])
    assert data["payer"] is None and data["band"] is None
    # Only the member's own findings: no coverage (self-pay), and the default note check.
    assert sorted((i["code"], i["severity"], i["participantIds"]) for i in data["issues"]) == [
        ("NOTE_UNSIGNED", "WARNING", [entry]),
        ("NO_COVERAGE", "WARNING", [entry]),
    ]
    assert data["billableCount"] == 1


async def accept_ratio(gql, session_id):
    """The room has one supervisor for a ratio of 2: the warning, accepted before billing (a claim is
    submitted only with every warning accepted)."""
    await gql.execute(
        ACCEPT, {"id": session_id, "code": "SUPERVISION_RATIO_BREACH", "note": "Second supervisor covered per AZ rule"}
    )


async def test_blocking_issue_cannot_be_accepted_and_warning_needs_a_note(gql, room):
    session_id, members = room
    _, code, _ = await gql.error(ACCEPT, {"id": session_id, "code": "GROUP_UNATTENDED_BILLED", "note": "fine"})
    assert code == "BAD_USER_INPUT"
    for m in members:
        await mark(gql, m, "ATTENDED")
    _, code, _ = await gql.error(ACCEPT, {"id": session_id, "code": "SUPERVISION_RATIO_BREACH", "note": " "})
    assert code == "BAD_USER_INPUT"
    data = await gql.execute(
        ACCEPT, {"id": session_id, "code": "SUPERVISION_RATIO_BREACH", "note": "Second supervisor covered per AZ rule"}
    )
    assert data["acceptBillingIssue"]["readyToBill"] is True  # 5 billable sits in 5-8; the ratio warning is accepted
    log = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action reason } } }", {"id": session_id}
    )
    assert {"action": "billing_issue.accept", "reason": "Second supervisor covered per AZ rule"} in log["groupSession"][
        "auditLog"
    ]


async def test_billing_waits_for_the_end_and_then_builds_charges_and_claims(gql, clinic, room, test_clock, services):
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "LATE", "ABSENT", "ABSENT"], strict=False):
        await mark(gql, m, status)
    status, code, _ = await gql.error(RUN, {"id": session_id})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")
    set_now(test_clock, at(10, 31))
    assert (await gql.execute(RUN, {"id": session_id}))["runBilling"] == {"status": "LOCKED", "locked": True}
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert len(billed["charges"]) == 3 and {c["status"] for c in billed["charges"]} == {"ACTIVE"}
    assert {c["amount"] for c in billed["charges"]} == {"40.00"}
    assert billed["charges"][0]["serviceDate"] == "2026-03-10" and billed["charges"][0]["units"] == 1
    assert len(billed["claims"]) == 3
    assert {(c["status"], c["frequency"]) for c in billed["claims"]} == {("DRAFT", "ORIGINAL")}
    assert billed["claims"][0]["validation"] == [{"code": "SUPERVISION_RATIO_BREACH", "severity": "WARNING"}]
    member_charges = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Patient { charges { amount status } } } }", {"id": clinic.patients[0]}
    )
    assert member_charges["node"]["charges"] == [{"amount": "40.00", "status": "ACTIVE"}]
    events = await gql.execute("{ integrationEvents(first: 100) { edges { node { type payload } } } }")
    documented = [
        e["node"] for e in events["integrationEvents"]["edges"] if e["node"]["type"] == "group_session_documented"
    ]
    assert len(documented) == 1 and len(documented[0]["payload"]["claimIds"]) == 3
    # running it again changes nothing
    await gql.execute(RUN, {"id": session_id})
    assert len((await gql.execute(BILLED, {"id": session_id}))["groupSession"]["charges"]) == 3


async def test_locked_session_edit_answers_409_locked(gql, room, test_clock):
    session_id, members = room
    for m in members:
        await mark(gql, m, "ATTENDED")
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    status, code, body = await gql.error(SET_ATTENDANCE, {"participantId": members[0], "status": "ABSENT"})
    assert (status, code, body["data"]) == (409, "LOCKED", None)
    no_force = gql.as_(scopes=[s for s in ALL_SCOPES if s != "clinical.attendance.write.force"])
    _, code, _ = await no_force.error(
        SET_ATTENDANCE, {"participantId": members[0], "status": "ABSENT", "force": True, "reason": "x"}
    )
    assert code == "FORBIDDEN"
    _, code, _ = await gql.error(SET_ATTENDANCE, {"participantId": members[0], "status": "ABSENT", "force": True})
    assert code == "BAD_USER_INPUT"


async def test_force_update_voids_and_replaces_submitted_claims(gql, clinic, room, test_clock, services):
    """005010X222A1 2300 CLM05-3 7/8 with REF*F8: the payer's claim control number of the claim corrected."""
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ATTENDED", "ATTENDED", "ABSENT"], strict=False):
        await mark(gql, m, status)
    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    claims = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"]
    by_patient = {c["patient"]["id"]: c for c in claims}
    first, second = by_patient[clinic.patients[0]], by_patient[clinic.patients[1]]
    for claim in (first, second):
        submitted = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]
        assert submitted["status"] == "SUBMITTED" and submitted["frequency"] == "ORIGINAL"
        assert pyx12_errors(submitted["edi837"]) == [] and edi_problems(submitted["edi837"]) == []
        clm = next(s for s in parse_segments(submitted["edi837"]) if s[0] == "CLM")
        assert clm[5].split(":")[2] == "1"
    status, code, _ = await gql.error(SUBMIT, {"id": first["id"]})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")
    await payer_claim_number_arrives(services, first["id"], "26069000001001")
    await payer_claim_number_arrives(services, second["id"], "26069000001002")

    # Member 0 was not there after all: 3 billable, same band; their submitted claim is voided.
    await mark(gql, members[0], "ABSENT", force=True, reason="Left before the group started")
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    void = next(c for c in billed["claims"] if c["frequency"] == "VOID")
    assert void["originalClaim"]["claimNumber"] == first["claimNumber"]
    assert next(c for c in billed["claims"] if c["id"] == first["id"])["status"] == "VOIDED"
    assert next(c for c in billed["claims"] if c["id"] == second["id"])["status"] == "SUBMITTED"  # unchanged
    edi = (await gql.execute(SUBMIT, {"id": void["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    segments = parse_segments(edi)
    assert next(s for s in segments if s[0] == "CLM")[5].split(":")[2] == "8"
    assert ["REF", "F8", "26069000001001"] in segments

    # Two more arrive late: 5 billable moves everyone to the 5-8 band; member 1's claim is replaced.
    await mark(gql, members[0], "LATE", force=True, reason="Came back")
    await mark(gql, members[4], "LATE", force=True, reason="Arrived late, signed in")
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    active = [c for c in billed["charges"] if c["status"] == "ACTIVE"]
    assert len(active) == 5 and {c["amount"] for c in active} == {"30.00"}
    replacement = next(c for c in billed["claims"] if c["frequency"] == "REPLACEMENT")
    assert replacement["originalClaim"]["claimNumber"] == second["claimNumber"]
    assert next(c for c in billed["claims"] if c["id"] == second["id"])["status"] == "REPLACED"
    edi = (await gql.execute(SUBMIT, {"id": replacement["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    segments = parse_segments(edi)
    assert next(s for s in segments if s[0] == "CLM")[5].split(":")[2] == "7"
    assert ["REF", "F8", "26069000001002"] in segments
    assert next(s for s in segments if s[0] == "CLM")[2] == "30"
    log = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action reason actor } } }", {"id": session_id}
    )
    forced = [e for e in log["groupSession"]["auditLog"] if e["action"] == "attendance.force_update"]
    assert [e["reason"] for e in forced] == ["Left before the group started", "Came back", "Arrived late, signed in"]


async def test_billing_runs_exactly_once_under_concurrent_sweeps(gql, room, test_clock, services):
    session_id, members = room
    for m in members:
        await mark(gql, m, "ATTENDED")
    set_now(test_clock, at(10, 31))
    results = await asyncio.gather(
        *(bill_due_sessions(services) for _ in range(4)),
        *(gql.post(RUN, {"id": session_id}) for _ in range(4)),
    )
    assert sum(results[:4]) <= 1
    assert all(r.status_code == 200 for r in results[4:])
    async with services.sessionmaker() as db:
        charges = await db.scalar(select(func.count()).select_from(models.Charge))
        claims = await db.scalar(select(func.count()).select_from(models.Claim))
        events = await db.scalar(
            select(func.count())
            .select_from(models.IntegrationEvent)
            .where(models.IntegrationEvent.type == "group_session_documented")
        )
    assert (charges, claims, events) == (5, 5, 1)


async def test_sweep_bills_only_ended_sessions(gql, clinic, room, test_clock, services):
    session_id, members = room
    for m in members:
        await mark(gql, m, "ATTENDED")
    assert await bill_due_sessions(services) == 0
    test_clock.advance(timedelta(hours=2))
    assert await bill_due_sessions(services) == 1
    assert await bill_due_sessions(services) == 0
    data = (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]
    assert data["status"] == "LOCKED"


async def test_billing_needs_its_scopes(gql, room, test_clock):
    session_id, _ = room
    reader = gql.as_(scopes=[s for s in ALL_SCOPES if s != "billing.write"])
    _, code, _ = await reader.error(RUN, {"id": session_id})
    assert code == "FORBIDDEN"
    no_read = gql.as_(scopes=[s for s in ALL_SCOPES if s != "billing.read"])
    _, code, _ = await no_read.error(
        'query { claim(id: "Q2xhaW06MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { id } }'
    )
    assert code == "FORBIDDEN"


async def claims_of(gql, session_id, patient_id):
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    return [c for c in billed["claims"] if c["patient"]["id"] == patient_id]


async def test_a_second_correction_before_the_first_is_sent_still_answers_the_payers_claim(
    gql, clinic, room, test_clock, services
):
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ATTENDED", "ATTENDED", "ABSENT"], strict=False):
        await mark(gql, m, status)
    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    [sent] = await claims_of(gql, session_id, clinic.patients[0])
    await gql.execute(SUBMIT, {"id": sent["id"]})

    # 4 -> 5 billable: every member moves band; member 0's submitted claim gets a replacement draft.
    await mark(gql, members[4], "LATE", force=True, reason="Signed in late")
    # Before that replacement is sent, 5 -> 4 again: the draft is voided and the payer's claim is
    # replaced anew; no second ORIGINAL is ever built for a claim the payer holds.
    await mark(gql, members[4], "ABSENT", force=True, reason="Left at once")
    history = await claims_of(gql, session_id, clinic.patients[0])
    assert [(c["frequency"], c["status"]) for c in history] == [
        ("ORIGINAL", "REPLACED"),
        ("REPLACEMENT", "VOIDED"),
        ("REPLACEMENT", "DRAFT"),
    ]
    assert history[2]["originalClaim"]["claimNumber"] == sent["claimNumber"]

    # And when member 0 turns out absent, the claim voided is the one the payer holds.
    await mark(gql, members[0], "ABSENT", force=True, reason="Was not there")
    history = await claims_of(gql, session_id, clinic.patients[0])
    assert [(c["frequency"], c["status"]) for c in history][-2:] == [("REPLACEMENT", "VOIDED"), ("VOID", "DRAFT")]
    assert history[-1]["originalClaim"]["claimNumber"] == sent["claimNumber"]
    # 2300 REF*F8 is the payer's number: until it arrives the void is held (BLOCKING), never sent.
    status, code, body = await gql.error(SUBMIT, {"id": history[-1]["id"]})
    assert (status, code) == (409, "ILLEGAL_TRANSITION") and "PAYER_CLAIM_NUMBER_UNKNOWN" in str(body)
    held = (await claims_of(gql, session_id, clinic.patients[0]))[-1]
    assert [(i["code"], i["severity"]) for i in held["validation"]] == [("PAYER_CLAIM_NUMBER_UNKNOWN", "BLOCKING")]
    await payer_claim_number_arrives(services, sent["id"], "26069000002001")
    edi = (await gql.execute(SUBMIT, {"id": history[-1]["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and ["REF", "F8", "26069000002001"] in parse_segments(edi)


async def test_marks_after_a_run_that_found_nobody_billable_are_billed(gql, room, test_clock):
    session_id, members = room
    for m in members:
        await mark(gql, m, "ABSENT")
    set_now(test_clock, at(10, 31))
    assert (await gql.execute(RUN, {"id": session_id}))["runBilling"] == {"status": "CLOSED", "locked": False}
    assert (await gql.execute(BILLED, {"id": session_id}))["groupSession"]["charges"] == []
    await mark(gql, members[0], "ATTENDED")  # not locked: no force needed; this mark bills and locks
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert billed["locked"] is True and len(billed["charges"]) == 1
    _, code, _ = await gql.error(SET_ATTENDANCE, {"participantId": members[1], "status": "LATE"})
    assert code == "LOCKED"
    await mark(gql, members[1], "LATE", force=True, reason="Marked after the claim was built")
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert len([c for c in billed["charges"] if c["status"] == "ACTIVE"]) == 2
    assert {(c["status"], c["frequency"]) for c in billed["claims"]} == {("DRAFT", "ORIGINAL")}


async def test_a_charge_leads_to_its_session_only_with_the_session_scope(gql, clinic, room, test_clock):
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    clerk = gql.as_(scopes=["billing.read", "pm.group_enrollments.view"])
    document = "query($id: ID!) { node(id: $id) { ... on Patient { charges { amount session { roster { id } } } } } }"
    _, code, body = await clerk.error(document, {"id": clinic.patients[0]})
    assert code == "FORBIDDEN" and body["errors"][0]["path"][-1] == "session"
    reader = gql.as_(scopes=["billing.read", "pm.group_enrollments.view", "clinical.group-session.read"])
    data = await reader.execute(document, {"id": clinic.patients[0]})
    assert data["node"]["charges"][0]["session"]["roster"]


# ------------------------------------------------------------------ finalization (rules.md §9)

DOCUMENTED = "{ integrationEvents(first: 100) { edges { node { type payload } } } }"
LIST_BY_STATUS = """query($status: SessionStatus!) {
  groupSessions(filter: {from: "2026-03-10", status: $status}, first: 10) { totalCount edges { node { id } } } }"""


async def documented_events(gql) -> list[dict]:
    edges = (await gql.execute(DOCUMENTED))["integrationEvents"]["edges"]
    return [e["node"]["payload"] for e in edges if e["node"]["type"] == "group_session_documented"]


async def listed(gql, status: str) -> list[str]:
    return [e["node"]["id"] for e in (await gql.execute(LIST_BY_STATUS, {"status": status}))["groupSessions"]["edges"]]


async def test_a_session_with_unmarked_members_awaits_finalization_instead_of_billing(gql, room, test_clock, services):
    session_id, members = room
    await mark(gql, members[0], "ATTENDED")
    set_now(test_clock, at(10, 31))
    assert (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]["status"] == "ENDED"
    assert await bill_due_sessions(services) == 0
    data = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert (data["status"], data["locked"], data["charges"]) == ("AWAITING_FINALIZATION", False, [])
    assert await listed(gql, "AWAITING_FINALIZATION") == [session_id] and await listed(gql, "ENDED") == []
    status, code, body = await gql.error(RUN, {"id": session_id})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")
    assert "awaiting finalization (4 participants are still SCHEDULED)" in body["errors"][0]["message"]
    # The facilitator can still mark without force: the session is not locked.
    await mark(gql, members[1], "ABSENT")
    assert (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]["status"] == "AWAITING_FINALIZATION"
    assert await documented_events(gql) == []
    log = await gql.execute("query($id: ID!) { groupSession(id: $id) { auditLog { action } } }", {"id": session_id})
    assert [e["action"] for e in log["groupSession"]["auditLog"]].count("session.await_finalization") == 1


async def test_the_mark_that_clears_the_last_blocking_issue_bills_in_its_transaction(gql, room, test_clock, services):
    session_id, members = room
    for m in members[:4]:
        await mark(gql, m, "ATTENDED")
    set_now(test_clock, at(11, 15))
    await bill_due_sessions(services)
    assert (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]["status"] == "AWAITING_FINALIZATION"
    await mark(gql, members[4], "ABSENT")
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert (billed["status"], billed["locked"], len(billed["charges"])) == ("LOCKED", True, 4)
    assert all(
        c["validation"] == [{"code": "SUPERVISION_RATIO_BREACH", "severity": "WARNING"}] for c in billed["claims"]
    )
    assert len(await documented_events(gql)) == 1
    assert await bill_due_sessions(services) == 0


async def test_the_sweep_bills_once_a_blocking_issue_clears_another_way(gql, clinic, room, test_clock, services):
    """A blocking issue that is not an attendance mark (the band table added later) clears at the next sweep."""
    session_id, members = room
    await clinic.bands([(6, 8, "90853", "30.00")])  # five billable fall below the lowest band: BLOCKING
    for m in members:
        await mark(gql, m, "ATTENDED")
    set_now(test_clock, at(10, 31))
    assert await bill_due_sessions(services) == 0
    assert (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]["status"] == "AWAITING_FINALIZATION"
    await clinic.bands([(1, 8, "90853", "30.00")])
    assert await bill_due_sessions(services) == 1
    assert (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]["status"] == "LOCKED"


async def test_at_the_deadline_a_blocked_session_is_billed_with_its_issues_on_the_claims(
    gql, room, test_clock, services
):
    session_id, members = room
    await mark(gql, members[0], "ATTENDED")
    await mark(gql, members[1], "LATE")
    set_now(test_clock, at(10, 31))
    assert await bill_due_sessions(services) == 0
    set_now(test_clock, at(10, 29, day=11))  # 24 hours of Phoenix wall clock after 10:30 less a minute
    assert await bill_due_sessions(services) == 0
    set_now(test_clock, at(10, 30, day=11))
    assert await bill_due_sessions(services) == 1
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert billed["status"] == "LOCKED" and len(billed["claims"]) == 2
    for claim in billed["claims"]:
        assert {"code": "GROUP_UNATTENDED_BILLED", "severity": "BLOCKING"} in claim["validation"]
    _, code, _ = await gql.error(SUBMIT, {"id": billed["claims"][0]["id"]})
    assert code == "ILLEGAL_TRANSITION"  # a claim with a BLOCKING issue is not submitted
    log = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action after } } }", {"id": session_id}
    )
    bill = next(e for e in log["groupSession"]["auditLog"] if e["action"] == "session.bill")
    assert bill["after"]["finalizationDeadlineReached"] is True


async def test_billed_with_nobody_billable_is_closed_and_documents_nothing(gql, room, test_clock, services):
    session_id, members = room
    for m in members:
        await mark(gql, m, "ABSENT")
    set_now(test_clock, at(10, 31))
    assert await bill_due_sessions(services) == 1
    data = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert (data["status"], data["locked"], data["claims"]) == ("CLOSED", False, [])
    assert await listed(gql, "CLOSED") == [session_id] and await listed(gql, "ENDED") == []
    assert await documented_events(gql) == []


async def test_watchers_see_a_session_start_awaiting_finalization(gql, ws, room, test_clock, services):
    session_id, members = room
    set_now(test_clock, at(10, 31))
    async with ws() as socket:
        assert (await watch(socket, session_id))["kind"] == "SNAPSHOT"
        await bill_due_sessions(services)
        assert (await next_update(socket))["kind"] == "AWAITING_FINALIZATION"
        for m in members:
            await mark(gql, m, "ATTENDED")
        kinds = [(await next_update(socket))["kind"] for _ in range(len(members) + 1)]
        assert kinds == ["ATTENDANCE_CHANGED"] * len(members) + ["LOCKED"]


async def test_the_last_marks_racing_sweeps_and_run_billing_bill_an_awaiting_session_exactly_once(
    gql, clinic, room, test_clock, services
):
    """Two tablets mark the last two unmarked members at once while sweeps and runBilling run:
    whichever order the row locks give, the session is billed once, by the request that cleared
    its last blocking issue or by a sweep after it."""
    _, members = room
    trials = 6
    sessions = []
    for trial in range(trials):
        session = await create_session(gql, clinic, starts_at=at(1 + trial, day=9), minutes=60)
        entries = {e["patient"]["id"]: e["id"] for e in session["roster"]}
        for patient in clinic.patients[:3]:
            await mark(gql, entries[patient], "ATTENDED")
        sessions.append((session["id"], [entries[p] for p in clinic.patients[3:]]))
    set_now(test_clock, at(8, 0, day=9))
    assert await bill_due_sessions(services) == 0  # every one awaits finalization, well before its deadline
    for session_id, last_two in sessions:
        results = await asyncio.gather(
            *(gql.post(SET_ATTENDANCE, {"participantId": entry, "status": "ABSENT"}) for entry in last_two),
            bill_due_sessions(services),
            gql.post(RUN, {"id": session_id}),
            bill_due_sessions(services),
        )
        assert all(r.status_code == 200 and "errors" not in r.json() for r in results[:2]), [
            r.json() for r in results[:2]
        ]
        # runBilling either found it still awaiting (ILLEGAL_TRANSITION) or billed, never a fault.
        run = results[3].json()
        assert "errors" not in run or run["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION", run
        await bill_due_sessions(services)
        billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
        assert billed["status"] == "LOCKED" and len(billed["charges"]) == 3 and len(billed["claims"]) == 3
    async with services.sessionmaker() as db:
        events = await db.scalar(
            select(func.count())
            .select_from(models.IntegrationEvent)
            .where(models.IntegrationEvent.type == "group_session_documented")
        )
        charges = await db.scalar(select(func.count()).select_from(models.Charge))
    assert (events, charges) == (trials, 3 * trials)


# ------------------------------------------------------------------ issue 24: warnings, coverage, group size

SELF_PAY = """query($id: ID!) { groupSession(id: $id) { status
  charges { amount procedureCode selfPay payer { payerCode } patient { id } }
  claims { id status patient { id } validation { code severity accepted } } } }"""


async def test_a_claim_with_a_warning_nobody_accepted_is_not_submitted_until_it_is(gql, clinic, room, test_clock):
    """The attendance guide: a session is ready to bill only when every warning is accepted. The
    sweep bills at the end whatever its warnings; the claims carry them, and `submitClaim` refuses
    one whose warnings were not all accepted. Accepting after billing marks the unsent claims."""
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ATTENDED", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    claims = (await gql.execute(SELF_PAY, {"id": session_id}))["groupSession"]["claims"]
    assert {(i["code"], i["accepted"]) for c in claims for i in c["validation"]} == {
        ("SUPERVISION_RATIO_BREACH", False)
    }
    status, code, body = await gql.error(SUBMIT, {"id": claims[0]["id"]})
    assert (status, code, body["data"]) == (409, "ILLEGAL_TRANSITION", None)
    assert "warnings not accepted" in body["errors"][0]["message"]
    assert "SUPERVISION_RATIO_BREACH" in body["errors"][0]["message"]

    accepted = await gql.execute(
        ACCEPT, {"id": session_id, "code": "SUPERVISION_RATIO_BREACH", "note": "Second clinician in the room"}
    )
    assert accepted["acceptBillingIssue"]["readyToBill"] is True
    claims = (await gql.execute(SELF_PAY, {"id": session_id}))["groupSession"]["claims"]
    assert all(i["accepted"] for c in claims for i in c["validation"])
    submitted = (await gql.execute(SUBMIT, {"id": claims[0]["id"]}))["submitClaim"]
    assert submitted["status"] == "SUBMITTED" and pyx12_errors(submitted["edi837"]) == []
    log = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action after } } }", {"id": session_id}
    )
    [entry] = [e for e in log["groupSession"]["auditLog"] if e["action"] == "billing_issue.accept"]
    assert len(entry["after"]["claims"]) == 3
    # A BLOCKING finding is still not for accepting, billed or not.
    _, code, _ = await gql.error(ACCEPT, {"id": session_id, "code": "GROUP_UNATTENDED_BILLED", "note": "x"})
    assert code == "BAD_USER_INPUT"


async def test_an_attended_member_with_no_coverage_is_charged_as_self_pay_without_a_claim(
    gql, clinic, room, test_clock
):
    """Issue 24: a member with no coverage was silently not charged. The preview says NO_COVERAGE
    (a WARNING naming them) and billing charges them as self-pay: the patient's own responsibility,
    no payer and no claim (an 837P goes to a payer), at the band the session is coded to."""
    session_id, members = room
    uncovered = await clinic.add_patient("Ulla Uncovered")
    added = await gql.execute(
        "mutation($s: ID!, $p: ID!) { addSessionParticipant(sessionId: $s, patientId: $p) { id } }",
        {"s": session_id, "p": uncovered},
    )
    entry = added["addSessionParticipant"]["id"]
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    await mark(gql, entry, "ATTENDED")
    data = await preview(gql, session_id)
    assert data["billableCount"] == 3 and data["payer"] is not None
    no_coverage = issue(data, "NO_COVERAGE")
    assert no_coverage["severity"] == "WARNING" and no_coverage["participantIds"] == [entry]
    assert "self-pay" in no_coverage["message"]

    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    billed = (await gql.execute(SELF_PAY, {"id": session_id}))["groupSession"]
    assert billed["status"] == "LOCKED"
    charge_of = {c["patient"]["id"]: c for c in billed["charges"]}
    assert charge_of[uncovered] == {
        "amount": "40.00",
        "procedureCode": "90853",
        "selfPay": True,
        "payer": None,
        "patient": {"id": uncovered},
    }
    assert charge_of[clinic.patients[0]]["selfPay"] is False and charge_of[clinic.patients[0]]["payer"]
    assert sorted(c["patient"]["id"] for c in billed["claims"]) == sorted(clinic.patients[:2])
    # The member's own finding stays off the other members' claims.
    assert all(i["code"] != "NO_COVERAGE" for c in billed["claims"] for i in c["validation"])


@pytest.mark.parametrize("group_code", ["90853", "90849"])
async def test_a_group_of_one_billed_under_a_group_code_is_blocking(
    gql, clinic, room, test_clock, services, group_code
):
    """CPT 90853 is group psychotherapy and 90849 multiple-family group psychotherapy: a group is two
    patients (or families) or more (the Medicare LCD L33632, "Psychiatry and Psychology Services", has the
    number of participants documented). One billable member is GROUP_OF_ONE, BLOCKING: the session awaits
    finalization instead of billing the group code."""
    session_id, members = room
    if group_code != "90853":
        await clinic.bands([(1, 4, group_code, "40.00"), (5, 8, group_code, "30.00")])
    for m, status in zip(members, ["ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=False):
        await mark(gql, m, status)
    data = await preview(gql, session_id)
    assert "GROUP_OF_ONE" not in [i["code"] for i in data["issues"]]  # one member unmarked: they may yet come
    await mark(gql, members[4], "ABSENT")
    data = await preview(gql, session_id)
    group_of_one = issue(data, "GROUP_OF_ONE")
    assert group_of_one["severity"] == "BLOCKING" and f"{group_code} is a group code" in group_of_one["message"]
    assert data["band"]["procedureCode"] == group_code and data["readyToBill"] is False
    set_now(test_clock, at(10, 31))
    assert await bill_due_sessions(services) == 0
    status, code, body = await gql.error(RUN, {"id": session_id})
    assert (status, code) == (409, "ILLEGAL_TRANSITION") and "group code" in body["errors"][0]["message"]
    # A second member's late sign-in makes it a group again: the mark bills it.
    await mark(gql, members[1], "ATTENDED")
    billed = (await gql.execute(SELF_PAY, {"id": session_id}))["groupSession"]
    assert billed["status"] == "LOCKED" and len(billed["claims"]) == 2


async def test_two_primary_coverages_on_the_date_are_a_blocking_conflict(gql, clinic, room, test_clock, services):
    """Which policy is primary is for the front desk to settle (coordination of benefits), not for
    billing to pick: COVERAGE_CONFLICT is BLOCKING and named on the member's claim only."""
    session_id, members = room
    second_payer = await clinic.payer("Mercy Care", code="MERCY")
    await clinic.bands([(1, 4, "90853", "45.00")], payer_id=second_payer)
    await no_note_rule(gql, clinic, second_payer)
    await clinic.cover(clinic.patients[0], payer_id=second_payer)
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    data = await preview(gql, session_id)
    conflict = issue(data, "COVERAGE_CONFLICT")
    assert conflict["severity"] == "BLOCKING" and conflict["participantIds"] == [members[0]]
    assert "MERCY" in conflict["message"] and data["readyToBill"] is False
    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    assert await bill_due_sessions(services) == 0  # held for finalization
    set_now(test_clock, at(10, 31, day=11))  # the deadline: billed with the conflict on its claim
    assert await bill_due_sessions(services) == 1
    claims = (await gql.execute(SELF_PAY, {"id": session_id}))["groupSession"]["claims"]
    claim_of = {c["patient"]["id"]: c for c in claims}
    assert sorted(i["code"] for i in claim_of[clinic.patients[0]]["validation"]) == [
        "COVERAGE_CONFLICT",
        "SUPERVISION_RATIO_BREACH",
    ]
    assert [i["code"] for i in claim_of[clinic.patients[1]]["validation"]] == ["SUPERVISION_RATIO_BREACH"]
    status, code, body = await gql.error(SUBMIT, {"id": claim_of[clinic.patients[0]]["id"]})
    assert (status, code) == (409, "ILLEGAL_TRANSITION") and "primary coverages" in body["errors"][0]["message"]
    assert (await gql.execute(SUBMIT, {"id": claim_of[clinic.patients[1]]["id"]}))["submitClaim"]["status"] == (
        "SUBMITTED"
    )


# ------------------------------------------------------------------ issue 24: one facility fee schedule

FEES = """mutation($id: ID!, $fees: [FacilityFeeInput!]!) { setFacilityFeeSchedule(facilityId: $id, fees: $fees) {
  feeSchedule { procedureCode modifiers amount } } }"""
CHARGES = """query($id: ID!) { groupSession(id: $id) { charges { amount expectedAmount patient { id } payer { payerCode } }
  claims { id totalAmount patient { id } } } }"""


async def test_every_charge_is_billed_at_the_facilitys_fee_with_the_payers_rate_expected(gql, clinic, room, test_clock):
    """Issue 24: one service was billed at $55 to one payer and $31.25 to another. A facility bills
    one price per code and modifiers (its fee schedule) to everyone; what each payer has contracted
    to pay is kept as the charge's expected amount."""
    session_id, members = room
    other = await clinic.payer("Mercy Care", code="MERCY")
    await clinic.bands([(1, 8, "90853", "55.00")], payer_id=other)
    await no_note_rule(gql, clinic, other)
    mercy_member = await clinic.add_patient("Marisol Mercy")
    await clinic.cover(mercy_member, payer_id=other)
    added = await gql.execute(
        "mutation($s: ID!, $p: ID!) { addSessionParticipant(sessionId: $s, patientId: $p) { id } }",
        {"s": session_id, "p": mercy_member},
    )
    schedule = await gql.execute(
        FEES,
        {
            "id": clinic.facility_id,
            "fees": [
                {"procedureCode": "90853", "modifiers": ["HQ"], "amount": "120.00"},
                {"procedureCode": "90853", "amount": "110.00"},
            ],
        },
    )
    assert schedule["setFacilityFeeSchedule"]["feeSchedule"] == [
        {"procedureCode": "90853", "modifiers": [], "amount": "110.00"},
        {"procedureCode": "90853", "modifiers": ["HQ"], "amount": "120.00"},
    ]
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    await mark(gql, added["addSessionParticipant"]["id"], "ATTENDED")
    set_now(test_clock, at(10, 31))
    await accept_ratio(gql, session_id)
    await gql.execute(RUN, {"id": session_id})
    billed = (await gql.execute(CHARGES, {"id": session_id}))["groupSession"]
    charge_of = {c["patient"]["id"]: c for c in billed["charges"]}
    # One price for the same service (90853 HQ) whoever pays; each payer's own rate is what is expected.
    assert (charge_of[clinic.patients[0]]["amount"], charge_of[clinic.patients[0]]["expectedAmount"]) == (
        "120.00",
        "40.00",
    )
    assert (charge_of[mercy_member]["amount"], charge_of[mercy_member]["expectedAmount"]) == ("120.00", "55.00")
    claim_of = {c["patient"]["id"]: c for c in billed["claims"]}
    assert claim_of[mercy_member]["totalAmount"] == "120.00"
    edi = (await gql.execute(SUBMIT, {"id": claim_of[mercy_member]["id"]}))["submitClaim"]["edi837"]
    assert next(s for s in parse_segments(edi) if s[0] == "CLM")[2] == "120"
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []


async def test_a_code_the_facilitys_fee_schedule_has_no_price_for_holds_the_session(
    gql, clinic, room, test_clock, services
):
    """A facility that keeps a fee schedule bills every service at its own price: a code billed that the
    schedule has no price for would go out at the payer's rate unnoticed, so it is FEE_NOT_SCHEDULED (BLOCKING,
    naming the code and the members billed it) and the session awaits finalization; once the price is on the
    schedule the session bills at it. A facility with no schedule at all bills at the payer's rate."""
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    await accept_ratio(gql, session_id)
    assert "FEE_NOT_SCHEDULED" not in [i["code"] for i in (await preview(gql, session_id))["issues"]]
    await gql.execute(FEES, {"id": clinic.facility_id, "fees": [{"procedureCode": "90837", "amount": "150.00"}]})
    data = await preview(gql, session_id)
    unpriced = issue(data, "FEE_NOT_SCHEDULED")
    assert unpriced["severity"] == "BLOCKING" and "no price for 90853 with modifiers HQ" in unpriced["message"]
    assert sorted(unpriced["participantIds"]) == sorted(members[:2]) and data["readyToBill"] is False
    set_now(test_clock, at(10, 31))
    assert await bill_due_sessions(services) == 0
    status, code, body = await gql.error(RUN, {"id": session_id})
    assert (status, code) == (409, "ILLEGAL_TRANSITION") and "no price for 90853" in body["errors"][0]["message"]

    fees = [{"procedureCode": "90837", "amount": "150.00"}, {"procedureCode": "90853", "amount": "70.00"}]
    await gql.execute(FEES, {"id": clinic.facility_id, "fees": fees})
    assert "FEE_NOT_SCHEDULED" not in [i["code"] for i in (await preview(gql, session_id))["issues"]]
    await gql.execute(RUN, {"id": session_id})
    billed = (await gql.execute(CHARGES, {"id": session_id}))["groupSession"]
    assert sorted((c["amount"], c["expectedAmount"]) for c in billed["charges"]) == [("70.00", "40.00")] * 2


@pytest.mark.parametrize(
    "fees, problem",
    [
        ([{"procedureCode": "90853", "amount": "-1.00"}], "non-negative"),
        ([{"procedureCode": "90853", "amount": "1.005"}], "two decimal places"),
        ([{"procedureCode": "90 853", "amount": "1.00"}], "procedureCode"),
        ([{"procedureCode": "90853", "modifiers": ["HQX"], "amount": "1.00"}], "modifiers"),
        (
            [
                {"procedureCode": "90853", "modifiers": ["HQ", "U1"], "amount": "1.00"},
                {"procedureCode": "90853", "modifiers": ["U1", "HQ"], "amount": "2.00"},
            ],
            "listed twice",
        ),
    ],
)
async def test_a_bad_fee_schedule_is_refused_and_the_old_one_stands(gql, clinic, fees, problem):
    await gql.execute(FEES, {"id": clinic.facility_id, "fees": [{"procedureCode": "90853", "amount": "99.00"}]})
    _, code, body = await gql.error(FEES, {"id": clinic.facility_id, "fees": fees})
    assert code == "BAD_USER_INPUT" and problem in body["errors"][0]["message"]
    read = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Facility { feeSchedule { amount } } } }", {"id": clinic.facility_id}
    )
    assert read["node"]["feeSchedule"] == [{"amount": "99.00"}]


# ------------------------------------------------------------------ issue 24: claim-level correction after lock

CORRECT = """mutation($id: ID!, $reason: String!, $input: ClaimCorrectionInput) {
  correctClaim(claimId: $id, reason: $reason, input: $input) { status } }"""


async def test_a_locked_claim_is_corrected_by_a_forced_audited_replacement(gql, clinic, room, test_clock, services):
    """Issue 24: after lock only attendance could be corrected. A wrong modality, member id or
    diagnosis goes through the same void/replace engine (the payer's claim answered with a
    REPLACEMENT, CLM05-3 = 7, REF*F8 naming it), with a reason, under billing.write, audited."""
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    await accept_ratio(gql, session_id)
    _, code, _ = await gql.error(
        CORRECT, {"id": "Q2xhaW06MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw", "reason": "x"}
    )
    assert code == "NOT_FOUND"
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    [sent] = await claims_of(gql, session_id, clinic.patients[0])
    await gql.execute(SUBMIT, {"id": sent["id"]})
    await payer_claim_number_arrives(services, sent["id"], "26069000004001")  # the replacement's REF*F8

    _, code, _ = await gql.error(CORRECT, {"id": sent["id"], "reason": "  "})
    assert code == "BAD_USER_INPUT"
    clerk = gql.as_(scopes=[s for s in ALL_SCOPES if s != "billing.write"])
    _, code, _ = await clerk.error(CORRECT, {"id": sent["id"], "reason": "Joined by video"})
    assert code == "FORBIDDEN"
    _, code, _ = await gql.error(
        CORRECT, {"id": sent["id"], "reason": "Late", "input": {"arrivedAt": at(8, 0).isoformat()}}
    )
    assert code == "BAD_USER_INPUT"  # outside the session: nothing written
    assert [c["status"] for c in await claims_of(gql, session_id, clinic.patients[0])] == ["SUBMITTED"]

    await gql.execute(
        CORRECT,
        {
            "id": sent["id"],
            "reason": "Joined by video from home; the tablet recorded in person",
            "input": {"modality": "TELEHEALTH_VIDEO", "patientAtHome": True},
        },
    )
    history = await claims_of(gql, session_id, clinic.patients[0])
    assert [(c["frequency"], c["status"]) for c in history] == [("ORIGINAL", "REPLACED"), ("REPLACEMENT", "DRAFT")]
    edi = (await gql.execute(SUBMIT, {"id": history[1]["id"]}))["submitClaim"]["edi837"]
    segments = parse_segments(edi)
    assert next(s for s in segments if s[0] == "CLM")[5] == "10:B:7"
    assert ["REF", "F8", "26069000004001"] in segments  # the payer's claim number, not ours
    assert next(s for s in segments if s[0] == "SV1")[1] == "HC:90853:HQ:95"
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []

    # A diagnosis corrected on the record, then sent: the charge is unchanged, the claim is replaced.
    await clinic.diagnose(clinic.patients[0], "F41.1")
    await payer_claim_number_arrives(services, history[1]["id"], "26069000004002")
    await gql.execute(CORRECT, {"id": history[1]["id"], "reason": "Principal diagnosis was F41.1"})
    history = await claims_of(gql, session_id, clinic.patients[0])
    assert [(c["frequency"], c["status"]) for c in history][-2:] == [
        ("REPLACEMENT", "REPLACED"),
        ("REPLACEMENT", "DRAFT"),
    ]
    edi = (await gql.execute(SUBMIT, {"id": history[-1]["id"]}))["submitClaim"]["edi837"]
    assert next(s for s in parse_segments(edi) if s[0] == "HI")[1] == "ABK:F411"

    # The member id, corrected on the claim's coverage.
    await payer_claim_number_arrives(services, history[-1]["id"], "26069000004003")
    await gql.execute(
        CORRECT, {"id": history[-1]["id"], "reason": "Member id keyed wrong", "input": {"memberId": "AZ1234567"}}
    )
    history = await claims_of(gql, session_id, clinic.patients[0])
    edi = (await gql.execute(SUBMIT, {"id": history[-1]["id"]}))["submitClaim"]["edi837"]
    assert next(s for s in parse_segments(edi) if s[0] == "NM1" and s[1] == "IL")[9] == "AZ1234567"

    log = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action reason } } }", {"id": session_id}
    )
    corrections = [e for e in log["groupSession"]["auditLog"] if e["action"] == "claim.correct"]
    assert [e["reason"] for e in corrections] == [
        "Joined by video from home; the tablet recorded in person",
        "Principal diagnosis was F41.1",
        "Member id keyed wrong",
    ]


async def test_correcting_an_unsent_claim_changes_the_record_and_needs_no_replacement(gql, clinic, room, test_clock):
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "ABSENT", "ABSENT", "ABSENT"], strict=True):
        await mark(gql, m, status)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    [claim] = await claims_of(gql, session_id, clinic.patients[0])
    await gql.execute(
        CORRECT, {"id": claim["id"], "reason": "Left at 10:00", "input": {"departedAt": at(10, 0).isoformat()}}
    )
    roster = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { roster { id minutesPresent } } }", {"id": session_id}
    )
    assert {r["id"]: r["minutesPresent"] for r in roster["groupSession"]["roster"]}[members[0]] == 60
    # An unsent draft needs no replacement: the record changed and the draft renders it when sent.
    assert [(c["frequency"], c["status"]) for c in await claims_of(gql, session_id, clinic.patients[0])] == [
        ("ORIGINAL", "DRAFT")
    ]
