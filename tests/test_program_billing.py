"""Program billing per diem through the endpoint: an IOP patient's day billed once, after the day's last program
session is billed, when present for the payer's minimum hours across the day's sessions; BELOW_PROGRAM_MINIMUM
with the hours otherwise; the sessions' own lines only where the payer bills them too; a correction to a
session of the day voids or replaces the day's claim."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.payer_sim import Outcome, Policy, answer_claims
from app.rules.edi.edi999 import ImplementationAcknowledgment, TransactionSetResponse, render_999
from app.rules.edi.x12 import Envelope
from app.rules.edi837 import edi_problems, parse_segments
from tests.support.builders_coverage import RUN, SUBMIT, attended_session, authorizations, authorize, bill, issues_of
from tests.support.builders_notes import no_note_rule
from tests.support.builders_sessions import SET_ATTENDANCE, at, payer_claim_number_arrives, set_now
from tests.support.x12 import pyx12_errors

ACCEPT = """mutation($id: ID!, $code: BillingIssueCode!, $note: String!) {
  acceptBillingIssue(sessionId: $id, code: $code, note: $note) { readyToBill } }"""
SET_PROGRAM = """mutation($y: ID!, $i: PayerProgramInput!) { setPayerProgram(payerId: $y, input: $i) {
  program procedureCode modifiers rate minimumHours sessionsBillToo payer { id } } }"""
BILLED = """query($id: ID!) { groupSession(id: $id) {
  charges { id status procedureCode modifiers units amount expectedAmount perDiem serviceDate patient { id } }
  claims { id status frequency perDiem totalAmount patient { id } originalClaim { id }
    validation { code severity } } } }"""
FEES = """mutation($id: ID!, $fees: [FacilityFeeInput!]!) { setFacilityFeeSchedule(facilityId: $id, fees: $fees) {
  feeSchedule { procedureCode } } }"""
CORRECT = """mutation($id: ID!, $reason: String!, $input: ClaimCorrectionInput) {
  correctClaim(claimId: $id, reason: $reason, input: $input) { status } }"""
IMPORT = """mutation($text: String!) { importEdi(text: $text) { changes { after claim { claimNumber } } } }"""
SEND = "mutation($id: ID!) { submitClaim(claimId: $id) { claimNumber status frequency edi837 } }"
REJECTED_QUEUE = "{ rejectedClaims { totalCount edges { node { claimNumber } } } }"
VISIT = (
    """mutation($id: ID!, $i: ParticipantVisitInput!) { setParticipantVisit(participantId: $id, input: $i) { id } }"""
)


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


async def program(gql, clinic, **values) -> dict:
    given = {"program": "IOP", "procedureCode": "S9480", "modifiers": [], "rate": "180.00", "minimumHours": "3",
             "sessionsBillToo": False, **values}  # fmt: skip
    return (await gql.execute(SET_PROGRAM, {"y": clinic.payer_id, "i": given}))["setPayerProgram"]


@pytest.fixture
async def iop(gql, clinic, test_clock):
    """A payer billing IOP per diem (S9480, three hours) and asking for no signed note (documentation has tests
    of its own); one covered patient, the one followed; the clock at 08:00."""
    set_now(test_clock, at(8))
    await clinic.bands([(1, 8, "90853", "40.00")])
    await program(gql, clinic)
    await no_note_rule(gql, clinic)
    patient = await clinic.add_patient("Program Member")
    await clinic.cover(patient)
    return patient


@pytest.fixture
async def others(clinic, iop) -> list[str]:
    """Two more covered patients of the program's groups: 90853 is a group code, a session of the patient alone
    would be a group of one; two keep it a group when the patient is marked absent."""
    patients = []
    for name in ("Program Member A", "Program Member B"):
        patients.append(await clinic.add_patient(name))
        await clinic.cover(patients[-1])
    return patients


async def day_of_two_groups(gql, clinic, patient, others):
    members = [patient, *others]
    morning = await attended_session(gql, clinic, members, at(9), groupType="IOP", title="IOP Morning")
    midday = await attended_session(gql, clinic, members, at(11), groupType="IOP", title="IOP Skills")
    return morning, midday


def of(rows: list[dict], patient: str) -> list[dict]:
    """The patient's own charges or claims."""
    return [r for r in rows if r["patient"]["id"] == patient]


def entry_of(session: dict, patient: str) -> str:
    return next(e["id"] for e in session["roster"] if e["patient"]["id"] == patient)


async def billed(gql, session) -> dict:
    return (await gql.execute(BILLED, {"id": session["id"]}))["groupSession"]


async def test_a_payers_program_is_set(gql, clinic):
    saved = await program(gql, clinic, modifiers=["hq"], minimumHours="2.5", sessionsBillToo=True)
    assert saved["procedureCode"] == "S9480" and saved["modifiers"] == ["HQ"]
    assert (saved["minimumHours"], saved["sessionsBillToo"]) == ("2.5", True)
    _, code, body = await gql.error(
        SET_PROGRAM,
        {"y": clinic.payer_id, "i": {"program": "THERAPY", "procedureCode": "S9480", "rate": "1", "minimumHours": "3"}},
    )
    assert code == "BAD_USER_INPUT" and "program must be one of IOP, PHP" in body["errors"][0]["message"]


async def test_a_patients_day_is_billed_once_after_its_last_program_session(gql, clinic, iop, others, test_clock):
    await authorize(gql, clinic, iop, codes=(), program="IOP", kind="DAYS", authorized=2, ends="2026-03-31")
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await bill(gql, test_clock, morning, at(10, 31))
    assert (await billed(gql, morning))["charges"] == []  # per diem only, and the day is not over
    # the billing office accepts the authorization's warning (its renewal is asked for), as a claim is submitted
    # only with every warning accepted
    note = "Renewal requested from the payer"
    await gql.execute(ACCEPT, {"id": midday["id"], "code": "AUTH_EXPIRING", "note": note})
    await bill(gql, test_clock, midday, at(12, 31))
    assert (await billed(gql, morning))["charges"] == []
    day = await billed(gql, midday)
    (charge,) = of(day["charges"], iop)
    assert (charge["procedureCode"], charge["units"], charge["amount"], charge["perDiem"]) == (
        "S9480",
        1,
        "180.00",
        True,
    )
    assert charge["serviceDate"] == "2026-03-10"
    assert charge["expectedAmount"] == "180.00"  # the payer's per-diem rate (the facility keeps no fee schedule)
    (claim,) = of(day["claims"], iop)
    assert claim["perDiem"] and claim["frequency"] == "ORIGINAL"
    assert claim["validation"] == [{"code": "AUTH_EXPIRING", "severity": "WARNING"}]  # the member's findings
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    assert next(s for s in parse_segments(edi) if s[:2] == ["REF", "G1"]) == ["REF", "G1", "PA-1001"]
    service = next(s for s in parse_segments(edi) if s[0] == "SV1")
    assert service[1].split(":")[:2] == ["HC", "S9480"] and service[2] == "180"


async def test_a_warning_accepted_after_the_day_is_billed_lets_the_days_claim_go(gql, clinic, iop, others, test_clock):
    """The day's claim hangs on the day's last session: accepting a warning there once the day is billed
    accepts it on the day's unsent claim too, as on a session's own claims (it stayed held for good)."""
    await authorize(gql, clinic, iop, codes=(), program="IOP", kind="DAYS", authorized=2, ends="2026-03-31")
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await bill(gql, test_clock, morning, at(10, 31))
    await bill(gql, test_clock, midday, at(12, 31))
    (claim,) = of((await billed(gql, midday))["claims"], iop)
    assert claim["validation"] == [{"code": "AUTH_EXPIRING", "severity": "WARNING"}]
    _, code, _ = await gql.error(SUBMIT, {"id": claim["id"]})
    assert code == "ILLEGAL_TRANSITION"  # a warning not accepted holds the claim

    await gql.execute(ACCEPT, {"id": midday["id"], "code": "AUTH_EXPIRING", "note": "Renewal requested"})
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    assert next(s for s in parse_segments(edi) if s[0] == "SV1")[1].split(":")[:2] == ["HC", "S9480"]


async def test_a_days_charge_is_billed_at_the_facilitys_fee_with_the_payers_per_diem_rate_expected(
    gql, clinic, iop, others, test_clock
):
    """The day is billed as a session's lines are: at the facility's one price for the program's code (its fee
    schedule), with what the payer has contracted to pay per diem kept as the charge's expected amount."""
    fees = [{"procedureCode": "S9480", "amount": "210.00"}, {"procedureCode": "90853", "amount": "60.00"}]
    await gql.execute(FEES, {"id": clinic.facility_id, "fees": fees})
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await bill(gql, test_clock, morning, at(10, 31))
    await bill(gql, test_clock, midday, at(12, 31))
    day = await billed(gql, midday)
    (charge,) = of(day["charges"], iop)
    assert (charge["procedureCode"], charge["perDiem"], charge["amount"], charge["expectedAmount"]) == (
        "S9480",
        True,
        "210.00",
        "180.00",
    )
    (claim,) = of(day["claims"], iop)
    assert claim["totalAmount"] == "210.00" and claim["validation"] == []
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    assert next(s for s in parse_segments(edi) if s[0] == "SV1")[2] == "210"


async def test_a_program_code_the_facilitys_fee_schedule_has_no_price_for_is_blocking(
    gql, clinic, iop, others, test_clock
):
    """The facility keeps a fee schedule without the program's code: the day would be billed at the payer's
    rate unnoticed, so the day's sessions name S9480 for the patients billed per diem (FEE_NOT_SCHEDULED,
    BLOCKING), and the day's claim carries it when it is billed at the finalization deadline."""
    await gql.execute(FEES, {"id": clinic.facility_id, "fees": [{"procedureCode": "90853", "amount": "60.00"}]})
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    (unpriced,) = [i for i in await issues_of(gql, midday["id"]) if i["code"] == "FEE_NOT_SCHEDULED"]
    assert unpriced["severity"] == "BLOCKING" and "no price for S9480" in unpriced["message"]
    assert sorted(unpriced["participantIds"]) == sorted(entry_of(midday, p) for p in (iop, *others))
    await bill(gql, test_clock, morning, at(10, 31, day=11))  # at the deadline: billed as they stand
    await bill(gql, test_clock, midday, at(12, 31, day=11))
    (claim,) = of((await billed(gql, midday))["claims"], iop)
    assert claim["perDiem"] and {"code": "FEE_NOT_SCHEDULED", "severity": "BLOCKING"} in claim["validation"]
    _, code, _ = await gql.error(SUBMIT, {"id": claim["id"]})
    assert code == "ILLEGAL_TRANSITION"


async def test_a_day_short_of_the_minimum_is_not_billed_and_says_how_short(gql, clinic, iop, others, test_clock):
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await gql.execute(VISIT, {"id": entry_of(midday, iop), "i": {"departedAt": at(12).isoformat()}})
    (issue,) = [i for i in await issues_of(gql, midday["id"]) if i["code"] == "BELOW_PROGRAM_MINIMUM"]
    assert issue["severity"] == "WARNING" and "present 2.5 of the 3 IOP hours" in issue["message"]
    await bill(gql, test_clock, morning, at(10, 31))
    await bill(gql, test_clock, midday, at(12, 31))
    assert (
        of((await billed(gql, morning))["charges"], iop) == [] and of((await billed(gql, midday))["charges"], iop) == []
    )


async def test_sessions_bill_on_their_own_too_where_the_payer_says_so(gql, clinic, iop, others, test_clock):
    await program(gql, clinic, sessionsBillToo=True)
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await bill(gql, test_clock, morning, at(10, 31))
    await bill(gql, test_clock, midday, at(12, 31))
    assert [c["procedureCode"] for c in of((await billed(gql, morning))["charges"], iop)] == ["90853"]
    day = await billed(gql, midday)
    assert sorted((c["procedureCode"], c["perDiem"]) for c in of(day["charges"], iop)) == [
        ("90853", False),
        ("S9480", True),
    ]
    assert sorted(c["perDiem"] for c in of(day["claims"], iop)) == [False, True]


async def test_a_correction_to_a_session_of_the_day_voids_the_days_claim(
    gql, clinic, iop, others, test_clock, services
):
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await bill(gql, test_clock, morning, at(10, 31))
    await bill(gql, test_clock, midday, at(12, 31))
    (claim,) = of((await billed(gql, midday))["claims"], iop)
    await gql.execute(SUBMIT, {"id": claim["id"]})
    await payer_claim_number_arrives(services, claim["id"], "26069000003002")  # the void's REF*F8
    entry = entry_of(morning, iop)
    await gql.execute(SET_ATTENDANCE, {"participantId": entry, "status": "ABSENT", "force": True, "reason": "Not here"})
    day = await billed(gql, midday)
    assert [c["status"] for c in of(day["charges"], iop)] == ["VOIDED"]
    void = next(c for c in of(day["claims"], iop) if c["frequency"] == "VOID")
    assert void["perDiem"] and void["originalClaim"]["id"] == claim["id"]
    edi = (await gql.execute(SUBMIT, {"id": void["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    # Back after all: the day is billed again, as a replacement? No: the payer holds a void, so a new original.
    await gql.execute(
        SET_ATTENDANCE, {"participantId": entry, "status": "ATTENDED", "force": True, "reason": "Was here"}
    )
    day = await billed(gql, midday)
    assert sorted(c["status"] for c in of(day["charges"], iop)) == ["ACTIVE", "VOIDED"]
    assert sorted(c["frequency"] for c in of(day["claims"], iop) if c["status"] == "DRAFT") == ["ORIGINAL"]


async def test_a_day_whose_two_sessions_are_billed_at_once_is_billed_once(gql, clinic, test_clock, services):
    """Each session's billing holds the patient's day while it settles it: whichever commits second sees the
    first billed and bills the day; never both, never neither. Many trials."""
    set_now(test_clock, at(6, day=2))
    await clinic.bands([(1, 8, "90853", "40.00")])
    await program(gql, clinic)
    await no_note_rule(gql, clinic)
    for trial in range(10):
        day = 2 + trial
        set_now(test_clock, at(6, day=day))
        patient = await clinic.add_patient(f"Day {trial}")
        await clinic.cover(patient)
        companion = await clinic.add_patient(f"Day {trial} companion")  # 90853 is a group code: two patients
        await clinic.cover(companion)
        members = [patient, companion]
        sessions = [
            await attended_session(gql, clinic, members, at(7, day=day), groupType="IOP", title="IOP Early"),
            await attended_session(gql, clinic, members, at(9, day=day), groupType="IOP", title="IOP Late"),
        ]
        set_now(test_clock, at(11, day=day))
        responses = await asyncio.gather(*(gql.post(RUN, {"id": s["id"]}) for s in sessions))
        assert [r.json().get("errors") for r in responses] == [None, None]
        charges = [c for s in sessions for c in of((await billed(gql, s))["charges"], patient)]
        assert [(c["procedureCode"], c["status"]) for c in charges] == [("S9480", "ACTIVE")], (trial, charges)


async def test_a_forced_correction_voiding_the_day_gives_the_day_back_to_its_authorization(
    gql, clinic, iop, others, test_clock, services
):
    """A DAYS authorization drawn by the day's per-diem line gets the day back when a correction voids it."""
    await authorize(gql, clinic, iop, codes=(), program="IOP", kind="DAYS", authorized=10, ends="2026-03-31")
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await bill(gql, test_clock, morning, at(10, 31))
    await bill(gql, test_clock, midday, at(12, 31))
    assert [(a["used"], a["remaining"]) for a in await authorizations(gql, iop)] == [(1, 9)]
    (claim,) = of((await billed(gql, midday))["claims"], iop)
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    assert ["REF", "G1", "PA-1001"] in parse_segments(edi)
    await payer_claim_number_arrives(services, claim["id"], "26069000003003")  # the void's REF*F8
    entry = entry_of(morning, iop)
    await gql.execute(SET_ATTENDANCE, {"participantId": entry, "status": "ABSENT", "force": True, "reason": "Not here"})
    day = await billed(gql, midday)
    assert [c["status"] for c in of(day["charges"], iop)] == ["VOIDED"]
    assert [(a["used"], a["remaining"]) for a in await authorizations(gql, iop)] == [(0, 10)]
    void = next(c for c in of(day["claims"], iop) if c["frequency"] == "VOID")
    void_edi = (await gql.execute(SUBMIT, {"id": void["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(void_edi) == [] and ["REF", "G1", "PA-1001"] in parse_segments(void_edi)


async def test_a_day_of_two_groups_overlapping_counts_the_shared_time_once(gql, clinic, iop, others, test_clock):
    """09:00-10:30 in one group and 10:00-11:30 in another: 3 hours summed, but 2.5 present (the half hour
    both ran counted once, as compliance counts it), short of the payer's 3: the day is not billed."""
    members = [iop, *others]
    first = await attended_session(gql, clinic, members, at(9), groupType="IOP", title="IOP Morning")
    second = await attended_session(gql, clinic, members, at(10), groupType="IOP", title="IOP Skills")
    below = [i for i in await issues_of(gql, second["id"]) if i["code"] == "BELOW_PROGRAM_MINIMUM"]
    assert len(below) == 3  # every member was in both
    (issue,) = [i for i in below if i["participantIds"] == [entry_of(second, iop)]]
    assert "present 2.5 of the 3 IOP hours" in issue["message"]
    await bill(gql, test_clock, first, at(10, 31))
    await bill(gql, test_clock, second, at(11, 31))
    assert (
        of((await billed(gql, first))["charges"], iop) == [] and of((await billed(gql, second))["charges"], iop) == []
    )


def front_end_rejection(edi: str, claim_number: str, by: str) -> str:
    """The payer's answer rejecting the claim before adjudication: a 277CA (005010X214) with STC01 A7 (the
    payer simulator's A7:164, the member id), or a 999 (005010X231A1) rejecting its transaction set (IK5 R)."""
    if by == "277CA":
        return answer_claims(edi, Policy(outcomes={claim_number: Outcome.REJECTED})).claim_acknowledgment
    isa13 = next(s for s in parse_segments(edi) if s[0] == "ISA")[13]
    response = TransactionSetResponse("837", "0001", "005010X222A1", "R", ("5",), ())
    ack = ImplementationAcknowledgment("HC", str(int(isa13)), "005010X222A1", "R", 1, 1, 0, (), (response,))
    return render_999(Envelope("SIMPAYER1", "SENDER", 777, at(13), "", ""), [ack])


@pytest.mark.parametrize("rejected_by", ["277CA", "999"])
async def test_a_rejected_days_claim_is_corrected_as_a_new_original_that_submits_cleanly(
    gql, clinic, iop, others, test_clock, rejected_by
):
    """A per-diem day's claim the payer rejected at the front end (005010X214 277CA STC01 A7; 005010X231A1 999
    IK5 R) was never adjudicated: the payer holds no day to replace. correctClaim on it (the member id fixed)
    makes the day's new ORIGINAL (005010X222A1 CLM05-3 1, no REF*F8), one S9480 line with the authorization
    in REF*G1, that submits cleanly; the rejected claim is REPLACED and leaves the rejected queue."""
    await authorize(gql, clinic, iop, codes=(), program="IOP", kind="DAYS", authorized=10, ends="2026-03-31")
    morning, midday = await day_of_two_groups(gql, clinic, iop, others)
    await bill(gql, test_clock, morning, at(10, 31))
    await bill(gql, test_clock, midday, at(12, 31))
    (claim,) = of((await billed(gql, midday))["claims"], iop)
    assert claim["perDiem"] and claim["frequency"] == "ORIGINAL"
    sent = (await gql.execute(SEND, {"id": claim["id"]}))["submitClaim"]
    answer = front_end_rejection(sent["edi837"], sent["claimNumber"], rejected_by)
    assert pyx12_errors(answer) == []
    changes = (await gql.execute(IMPORT, {"text": answer}))["importEdi"]["changes"]
    assert [(c["claim"]["claimNumber"], c["after"]) for c in changes] == [(sent["claimNumber"], "REJECTED")]
    queue = (await gql.execute(REJECTED_QUEUE))["rejectedClaims"]
    assert [e["node"]["claimNumber"] for e in queue["edges"]] == [sent["claimNumber"]]

    reason = "Member id as the payer's eligibility answer gives it"
    await gql.execute(CORRECT, {"id": claim["id"], "reason": reason, "input": {"memberId": "A900001"}})
    day = await billed(gql, midday)
    history = of(day["claims"], iop)
    assert [(c["perDiem"], c["frequency"], c["status"]) for c in history] == [
        (True, "ORIGINAL", "REPLACED"),
        (True, "ORIGINAL", "DRAFT"),
    ]
    again = history[1]
    assert again["originalClaim"]["id"] == claim["id"] and again["validation"] == []
    assert (await gql.execute(REJECTED_QUEUE))["rejectedClaims"]["totalCount"] == 0
    assert [(a["used"], a["remaining"]) for a in await authorizations(gql, iop)] == [(1, 9)]  # the day drawn once

    resent = (await gql.execute(SEND, {"id": again["id"]}))["submitClaim"]
    assert (resent["status"], resent["frequency"]) == ("SUBMITTED", "ORIGINAL")
    edi = resent["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    segments = parse_segments(edi)
    assert next(s for s in segments if s[0] == "CLM")[5].endswith(":1")
    assert not [s for s in segments if s[:2] == ["REF", "F8"]]
    assert ["REF", "G1", "PA-1001"] in segments
    (service,) = [s for s in segments if s[0] == "SV1"]
    assert service[1].split(":")[:2] == ["HC", "S9480"] and service[4] == "1"
    assert "A900001" in next(s for s in segments if s[:2] == ["NM1", "IL"])
