"""The payer's answers through the endpoint: our submitted claims answered by the simulated payer, and its 999,
277CA and 835 imported back. The guides cited: 005010X231A1 (999 IK5/AK9), 005010X214 (277CA STC01 and REF*1K),
005010X221A1 (835 CLP02, CLP07, CAS groups and CARC, LQ*HE RARC, PLB)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth import ALL_SCOPES
from app.db import models
from app.operations.remittance import import_inbox
from app.payer_sim import Outcome, Policy, answer_claims
from app.rules.edi.edi999 import ImplementationAcknowledgment, SegmentError, TransactionSetResponse, render_999
from app.rules.edi.x12 import Envelope
from app.rules.edi837 import parse_segments
from tests.rules.edi_support import FIXTURES
from tests.support.builders_sessions import SET_ATTENDANCE, at, set_now
from tests.support.x12 import pyx12_errors
from tests.test_billing import ACCEPT, BILLED, FEES, RUN, SUBMIT, room  # noqa: F401 - the fixture

IMPORT = """mutation($text: String!, $name: String) { importEdi(text: $text, name: $name) {
  duplicate file { kind name controlNumber production summary providerAdjustments { reason reference amount } }
  changes { before after reason claim { claimNumber } } } }"""

CLAIMS = """query($id: ID!) { groupSession(id: $id) { claims { id claimNumber status frequency payerClaimNumber
  payerReason denialCarc answeredAt patient { id balance }
  charges { amount postings { paid contractual patientResponsibility otherAdjustments expected underpaid
    underpaidBy reversal claimStatusCode adjustments { code text } denialReasons { code text } remarks { code text } } }
  } } }"""

EVENTS = "{ integrationEvents(first: 100) { edges { node { type payload } } } }"
IMPORT_STATUSES = """mutation($text: String!) { importEdi(text: $text) { duplicate
  changes { before after claim { claimNumber status } } } }"""


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


async def accept_ratio(gql, session_id) -> None:
    """The room has one supervisor for a ratio of 2: the billing office accepts the warning with its note, as
    a claim with a warning nobody accepted is not submitted (the ratio has tests of its own in test_billing.py)."""
    await gql.execute(
        ACCEPT, {"id": session_id, "code": "SUPERVISION_RATIO_BREACH", "note": "Second clinician in the room"}
    )


async def submitted(gql, session_id, members, test_clock) -> list[dict]:
    """Every member attended; billed at the end, the ratio's warning accepted; every claim submitted. Claims
    with their 837P."""
    for member in members:
        await gql.execute(SET_ATTENDANCE, {"participantId": member, "status": "ATTENDED"})
    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    claims = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"]
    out = []
    for claim in sorted(claims, key=lambda c: c["claimNumber"]):
        edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
        out.append({**claim, "edi837": edi})
    return out


def answers_for(claims: list[dict], outcomes: list[Outcome]):
    """The payer's answers to each claim's 837P, the outcome of each chosen."""
    policy = Policy(outcomes={c["claimNumber"]: o for c, o in zip(claims, outcomes, strict=True)})
    return [answer_claims(c["edi837"], policy) for c in claims]


async def import_all(gql, texts: list[str | None]) -> list[dict]:
    return [(await gql.execute(IMPORT, {"text": t}))["importEdi"] for t in texts if t]


async def claims_by_number(gql, session_id) -> dict[str, dict]:
    rows = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]["claims"]
    return {c["claimNumber"]: c for c in rows}


MIX = [
    Outcome.PAID,
    Outcome.REJECTED,
    Outcome.DENIED_NO_AUTHORIZATION,
    Outcome.DENIED_MISSING_INFORMATION,
    Outcome.PAID_THEN_REVERSED,
]


async def test_the_cycle_from_submitted_to_paid_denied_rejected_and_reversed(gql, room, test_clock):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    answers = answers_for(claims, MIX)
    numbers = [c["claimNumber"] for c in claims]

    # 999 (005010X231A1): every file accepted (IK5 A); the claims stay SUBMITTED until the 277CA.
    for result in await import_all(gql, [a.acknowledgment for a in answers]):
        assert result["file"]["kind"] == "ACKNOWLEDGMENT" and result["changes"] == []
    assert {c["status"] for c in (await claims_by_number(gql, session_id)).values()} == {"SUBMITTED"}

    # 277CA (005010X214): STC01 A2 accepts with REF*1K, A7:164 rejects.
    await import_all(gql, [a.claim_acknowledgment for a in answers])
    after_277 = await claims_by_number(gql, session_id)
    assert after_277[numbers[1]]["status"] == "REJECTED"
    assert after_277[numbers[1]]["payerReason"].startswith("A7: ")
    assert "MEMBER ID NOT FOUND" in after_277[numbers[1]]["payerReason"]
    for index in (0, 2, 3, 4):
        claim = after_277[numbers[index]]
        assert claim["status"] == "ACCEPTED"
        assert claim["payerClaimNumber"] == answers[index].payer_claim_numbers[numbers[index]]

    # 835 (005010X221A1): CLP02 1 paid with CO-45 and PR-3, CLP02 4 denied with CO-197 / CO-16 + N290.
    await import_all(gql, [a.remittance for a in answers])
    after_835 = await claims_by_number(gql, session_id)
    paid = after_835[numbers[0]]
    assert paid["status"] == "PAID" and paid["payerReason"] is None
    (posting,) = paid["charges"][0]["postings"]
    charge = Decimal(paid["charges"][0]["amount"])  # 30.00, the 5-8 band's rate
    allowed = (charge * Decimal("0.80")).quantize(Decimal("0.01"))
    assert Decimal(posting["paid"]) == allowed - 5
    assert Decimal(posting["contractual"]) == charge - allowed
    assert Decimal(posting["patientResponsibility"]) == Decimal(5)
    # The test clinic has no fee schedule: the charge is billed at the payer's band rate, the contracted amount
    # (`expected`), so a payer allowing 80% of it underpays (a contract of its own: the test below).
    assert Decimal(posting["expected"]) == charge and posting["underpaid"] is True
    assert Decimal(posting["underpaidBy"]) == charge - allowed
    assert [a["code"] for a in posting["adjustments"]] == ["CO-45", "PR-3"]
    assert posting["adjustments"][0]["text"].startswith("Contractual Obligations: Charge exceeds fee schedule")
    assert posting["denialReasons"] == [] and posting["claimStatusCode"] == "1"
    assert Decimal(paid["patient"]["balance"]) == Decimal(5)

    no_auth = after_835[numbers[2]]
    assert (no_auth["status"], no_auth["denialCarc"]) == ("DENIED", "197")
    assert no_auth["payerReason"].startswith("CO-197: Contractual Obligations: Precertification/authorization")
    missing = after_835[numbers[3]]
    assert (missing["status"], missing["denialCarc"]) == ("DENIED", "16")
    (denied_line,) = missing["charges"][0]["postings"]
    assert [r["code"] for r in denied_line["remarks"]] == ["N290"]
    assert "N290" in missing["payerReason"] and Decimal(missing["patient"]["balance"]) == 0
    assert after_835[numbers[4]]["status"] == "PAID"

    # The later 835 reverses (CLP02 22): the posting undone, the patient's share taken back; PLB FB kept.
    (reversal,) = await import_all(gql, [a.reversal for a in answers])
    assert [(c["claim"]["claimNumber"], c["before"], c["after"]) for c in reversal["changes"]] == [
        (numbers[4], "PAID", "REVERSED")
    ]
    (plb,) = reversal["file"]["providerAdjustments"]
    assert plb["reason"] == "FB" and plb["reference"] == answers[4].payer_claim_numbers[numbers[4]]
    reversed_claim = (await claims_by_number(gql, session_id))[numbers[4]]
    assert reversed_claim["status"] == "REVERSED"
    first, second = reversed_claim["charges"][0]["postings"]
    assert Decimal(first["paid"]) + Decimal(second["paid"]) == 0 and second["reversal"] is True
    assert Decimal(reversed_claim["patient"]["balance"]) == 0

    # Every change on the feed, with the claim's global id.
    events = [e["node"] for e in (await gql.execute(EVENTS))["integrationEvents"]["edges"]]
    kinds = [e["type"] for e in events if e["type"].startswith("claim_")]
    assert sorted(kinds) == sorted(
        ["claim_accepted"] * 4 + ["claim_rejected"] + ["claim_paid"] * 2 + ["claim_denied"] * 2 + ["claim_reversed"]
    )
    denial = next(e["payload"] for e in events if e["type"] == "claim_denied" and e["payload"]["carc"] == "197")
    assert denial["claimNumber"] == numbers[2] and denial["globalIds"]["claimId"] == no_auth["id"]


async def test_the_same_file_twice_changes_nothing(gql, room, test_clock, services):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    answers = answers_for(claims, [Outcome.PAID] * len(claims))
    first = (await gql.execute(IMPORT, {"text": answers[0].remittance, "name": "remit-1.835"}))["importEdi"]
    assert first["duplicate"] is False and len(first["changes"]) == 1
    # the same bytes with Windows line ends are the same file
    again = answers[0].remittance.replace("\n", "\r\n")
    second = (await gql.execute(IMPORT, {"text": again}))["importEdi"]
    assert second["duplicate"] is True and second["changes"] == []
    assert second["file"]["name"] == "remit-1.835"
    async with services.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(models.EdiFile)) == 1
        assert await db.scalar(select(func.count()).select_from(models.RemittanceLine)) == 1
        paid_events = await db.scalar(
            select(func.count())
            .select_from(models.IntegrationEvent)
            .where(models.IntegrationEvent.type == "claim_paid")
        )
    assert paid_events == 1


@pytest.mark.parametrize(
    ("change", "where"),
    [
        # CLP02 is an ID of 1 to 2 characters from the guide's list: pyx12's map refuses "99".
        (lambda line: line.replace("CLP*", "CLP*", 1).replace("*1*", "*99*", 1), "CLP (segment 14, line 14)"),
        # SE01 counts the segments from ST to SE: our reader refuses a wrong count.
        (lambda line: "SE*5*0001~" if line.startswith("SE*") else line, "SE (segment"),
    ],
)
async def test_a_malformed_file_is_refused_with_its_segment_and_line_and_nothing_is_posted(
    gql,
    room,
    test_clock,
    services,
    change,
    where,
):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.PAID])
    lines = answers.remittance.splitlines()
    target = next(i for i, line in enumerate(lines) if line.startswith("CLP*" if "CLP" in where else "SE*"))
    lines[target] = change(lines[target])
    status, code, body = await gql.error(IMPORT, {"text": "\n".join(lines) + "\n"})
    assert code == "BAD_USER_INPUT" and body["data"] is None
    assert where in body["errors"][0]["message"]
    async with services.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(models.EdiFile)) == 0
        assert await db.scalar(select(func.count()).select_from(models.RemittanceLine)) == 0
    assert (await claims_by_number(gql, session_id))[claims[0]["claimNumber"]]["status"] == "SUBMITTED"


async def test_an_835_for_a_claim_that_is_not_ours_is_refused_whole(gql, room, test_clock, services):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.PAID])
    text = answers.remittance.replace(f"CLP*{claims[0]['claimNumber']}*", "CLP*NOTOURS01*")
    _, code, body = await gql.error(IMPORT, {"text": text})
    assert code == "BAD_USER_INPUT"
    assert "claim NOTOURS01 is not one of ours" in body["errors"][0]["message"]
    assert "CLP (segment 14, line 14)" in body["errors"][0]["message"]


async def test_a_999_rejecting_the_transaction_set_rejects_its_claims(gql, room, test_clock):
    """005010X231A1: IK5 R rejects the set; IK3 and IK4 name the segment and element at fault."""
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    isa13 = next(s for s in parse_segments(claims[0]["edi837"]) if s[0] == "ISA")[13]
    response = TransactionSetResponse(
        "837", "0001", "005010X222A1", "R", ("5",), (SegmentError("NM1", 8, "2010", "8", claims[0]["claimNumber"]),)
    )
    acknowledgment = ImplementationAcknowledgment("HC", str(int(isa13)), "005010X222A1", "R", 1, 1, 0, (), (response,))
    envelope = Envelope("SIMPAYER1", "SENDER", 777, at(11), "", "")
    text = render_999(envelope, [acknowledgment])
    assert pyx12_errors(text) == []
    (result,) = await import_all(gql, [text])
    assert [(c["claim"]["claimNumber"], c["after"]) for c in result["changes"]] == [
        (claims[0]["claimNumber"], "REJECTED")
    ]
    rejected = (await gql.execute("{ rejectedClaims { totalCount edges { node { claimNumber payerReason } } } }"))[
        "rejectedClaims"
    ]
    assert rejected["totalCount"] == 1
    assert rejected["edges"][0]["node"]["payerReason"].startswith("999 R: Rejected; NM1 at position 8 (loop 2010)")


async def test_a_correction_carries_the_payers_claim_number_in_ref_f8(gql, clinic, room, test_clock):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.PAID])
    await import_all(gql, [answers.claim_acknowledgment])
    icn = answers.payer_claim_numbers[claims[0]["claimNumber"]]
    patient = next(c for c in claims if c["claimNumber"] == claims[0]["claimNumber"])["patient"]["id"]
    entry = members[clinic.patients.index(patient)]
    await gql.execute(
        SET_ATTENDANCE, {"participantId": entry, "status": "ABSENT", "force": True, "reason": "Was not there"}
    )
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"]
    void = next(
        c for c in billed if c["frequency"] == "VOID" and c["originalClaim"]["claimNumber"] == claims[0]["claimNumber"]
    )
    edi = (await gql.execute(SUBMIT, {"id": void["id"]}))["submitClaim"]["edi837"]
    assert ["REF", "F8", icn] in parse_segments(edi)
    assert pyx12_errors(edi) == []


async def test_without_billing_read_nothing_of_the_answers_is_seen(gql, room, test_clock):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.DENIED_NO_AUTHORIZATION])
    await import_all(gql, [answers.claim_acknowledgment, answers.remittance])
    outsider = gql.as_(scopes=[s for s in ALL_SCOPES if not s.startswith("billing.")])
    for query in (
        "{ deniedClaims { totalCount } }",
        "{ rejectedClaims { totalCount } }",
        "{ claimsNearingFilingLimit { totalCount } }",
        "{ sessionsAwaitingFinalization { totalCount } }",
        "{ sessionsClosedUnmarked { totalCount } }",
        "{ ediFiles { totalCount } }",
    ):
        _, code, body = await outsider.error(query)
        assert code == "FORBIDDEN" and body["data"] is None and "Precertification" not in str(body)
    _, code, body = await outsider.error(IMPORT, {"text": answers.remittance})
    assert code == "FORBIDDEN" and "Precertification" not in str(body)
    _, code, body = await outsider.error(
        "query($id: ID!) { node(id: $id) { ... on Patient { balance } } }", {"id": claims[0]["patient"]["id"]}
    )
    assert code == "FORBIDDEN"
    feed = (await outsider.execute(EVENTS))["integrationEvents"]["edges"]
    assert feed and not [e for e in feed if e["node"]["type"].startswith("claim_")]
    assert "Precertification" not in str(feed)
    # the session's audit log shows the claim's answer to a session reader, without its reason or amounts
    session_reader = gql.as_(scopes=["clinical.group-session.read"])
    log = await session_reader.execute(
        "query($id: ID!) { groupSession(id: $id) { auditLog { action after } } }", {"id": session_id}
    )
    answered = [e["after"] for e in log["groupSession"]["auditLog"] if e["action"] == "claim.answer"]
    assert answered and all("reason" not in a and "paid" not in a for a in answered)
    # billing.write alone imports, and sees what moved, but not the amounts nor the payer's reasons: each field
    # asked for alone, on an import of its own (a 277CA, then the 835, of claims 1 to 3)
    writer = gql.as_(scopes=[s for s in ALL_SCOPES if s != "billing.read"])
    answers = answers_for(claims[1:5], [Outcome.DENIED_NO_AUTHORIZATION] * 4)
    files = [text for a in answers[:3] for text in (a.claim_acknowledgment, a.remittance)]
    changes = ["reason", "claim { payerReason }", "claim { denialCarc }", "claim { totalAmount }",
               "claim { postings { paid } }", "claim { charges { amount } }"]  # fmt: skip
    asked = [(text, "changes { " + field + " }") for text, field in zip(files, changes, strict=True)]
    asked += [(files[-1], f"file {{ {field} }}") for field in ("summary", "text", "providerAdjustments { amount }")]
    for text, field in asked:
        _, code, body = await writer.error(
            "mutation($text: String!) { importEdi(text: $text) { " + field + " } }", {"text": text}
        )
        assert code == "FORBIDDEN", (field, body)
        assert body["errors"][0]["message"] == "Missing scope billing.read", field
        assert "Precertification" not in str(body) and "197" not in str(body)
    await writer.execute(IMPORT_STATUSES, {"text": answers[3].claim_acknowledgment})
    moved = (await writer.execute(IMPORT_STATUSES, {"text": answers[3].remittance}))["importEdi"]
    assert moved == {"duplicate": False, "changes": [{"before": "ACCEPTED", "after": "DENIED", "claim": {"claimNumber": claims[4]["claimNumber"], "status": "DENIED"}}]}  # fmt: skip
    # nor the 837P sent, which carries the amounts (CLM02, SV102)
    _, code, body = await writer.error(
        "query($id: ID!) { node(id: $id) { ... on Claim { claimNumber edi837 } } }", {"id": claims[4]["id"]}
    )
    assert (code, body["errors"][0]["message"]) == ("FORBIDDEN", "Missing scope billing.read")
    assert "CLM*" not in str(body)
    # billing.read alone sees the queue and the reason
    reader = gql.as_(scopes=["billing.read"])
    denied = await reader.execute('{ deniedClaims(carc: "197") { edges { node { payerReason } } } }')
    assert denied["deniedClaims"]["edges"][0]["node"]["payerReason"].startswith("CO-197")


# ------------------------------------------------------------------ the command line and the inbox folder


async def test_import_edi_command_imports_each_file_and_refuses_a_broken_one(
    gql,
    room,
    test_clock,
    database_url,
    tmp_path,
):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.PAID])
    (tmp_path / "a.277").write_text(answers.claim_acknowledgment)
    (tmp_path / "b.835").write_text(answers.remittance)
    (tmp_path / "c.835").write_text(answers.remittance.replace("CLP*", "CLQ*", 1))
    env = {**os.environ, "DATABASE_URL": database_url, "GS_DATA_DIR": str(tmp_path), "GS_JWT_SECRET": "x" * 40}
    command = [sys.executable, "-m", "app.cli_entry", "import-edi"]
    paths = [str(tmp_path / n) for n in ("a.277", "b.835", "c.835")]
    run = subprocess.run([*command, *paths], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 1
    number = claims[0]["claimNumber"]
    assert f"claim {number}: SUBMITTED -> ACCEPTED" in run.stdout
    assert f"claim {number}: ACCEPTED -> PAID" in run.stdout
    assert "refused" in run.stderr and "c.835" in run.stderr and "CLQ (segment 14, line 14)" in run.stderr
    again = subprocess.run([*command, paths[1]], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0 and "imported before" in again.stdout and "nothing changed" in again.stdout
    assert (await claims_by_number(gql, session_id))[number]["status"] == "PAID"


async def test_the_inbox_imports_each_file_and_moves_it_aside(gql, room, test_clock, services, tmp_path):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.DENIED_NOT_MEDICALLY_NECESSARY])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "01.999").write_text(answers.acknowledgment)
    (inbox / "02.277").write_text(answers.claim_acknowledgment)
    (inbox / "03.835").write_text(answers.remittance)
    (inbox / "04.835").write_text(answers.remittance.rsplit("GE*", 1)[0])  # cut short: no GE, no IEA
    (inbox / "05.835.part").write_text(answers.remittance)  # still arriving
    old = time.time() - 60
    for path in inbox.iterdir():
        os.utime(path, (old, old))
    outcomes = await import_inbox(services, inbox)
    assert [(o.path.name, o.refusal is None) for o in outcomes] == [
        ("01.999", True), ("02.277", True), ("03.835", True), ("04.835", False),
    ]  # fmt: skip
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["01.999", "02.277", "03.835"]
    assert sorted(p.name for p in (inbox / "refused").iterdir()) == ["04.835", "04.835.error.txt"]
    assert (inbox / "refused" / "04.835.error.txt").read_text().startswith("GS (segment 2, line 2): ")
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["05.835.part"]
    denied = (await claims_by_number(gql, session_id))[claims[0]["claimNumber"]]
    assert (denied["status"], denied["denialCarc"]) == ("DENIED", "50")
    # the clearinghouse delivers the same 835 again, under another name: nothing changes
    (inbox / "06.835").write_text(answers.remittance)
    os.utime(inbox / "06.835", (old, old))
    (again,) = await import_inbox(services, inbox)
    assert again.result is not None and again.result.duplicate


# ------------------------------------------------------------------ the queues, live

QUEUE_WATCH = """subscription($f: ID!, $q: [BillingQueue!]) { billingQueueUpdates(facilityId: $f, queues: $q) {
  kind queues claimId sessionId } }"""


async def queue_update(socket) -> dict:
    message = await asyncio.wait_for(socket.receive_json(), 5)
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]["billingQueueUpdates"]


async def test_the_queues_answer_and_update_live(gql, ws, clinic, room, test_clock):
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    answers = answers_for(claims[:2], [Outcome.REJECTED, Outcome.DENIED_NO_AUTHORIZATION])
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        variables = {"f": clinic.facility_id, "q": ["REJECTED", "DENIED"]}
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": QUEUE_WATCH, "variables": variables}}
        )
        assert (await queue_update(socket))["kind"] == "SNAPSHOT"
        await import_all(gql, [answers[0].claim_acknowledgment])
        update = await queue_update(socket)
        assert (update["kind"], update["queues"], update["claimId"]) == ("CHANGED", ["REJECTED"], claims[0]["id"])
        await import_all(gql, [answers[1].claim_acknowledgment])  # an acceptance: neither queue changes
        await import_all(gql, [answers[1].remittance])
        update = await queue_update(socket)
        assert (update["queues"], update["claimId"]) == (["DENIED"], claims[1]["id"])
    rejected = await gql.execute("{ rejectedClaims { totalCount edges { node { claimNumber payerReason } } } }")
    assert rejected["rejectedClaims"]["totalCount"] == 1
    by_carc = await gql.execute(
        '{ deniedClaims(carc: "197") { totalCount edges { node { claimNumber denialCarc } } } }'
    )
    assert by_carc["deniedClaims"]["edges"][0]["node"] == {"claimNumber": claims[1]["claimNumber"], "denialCarc": "197"}
    assert (await gql.execute('{ deniedClaims(carc: "50") { totalCount } }'))["deniedClaims"]["totalCount"] == 0
    # the rejected claim is not held by the payer: it counts against the timely-filing limit (365 days)
    near = await gql.execute(
        "{ claimsNearingFilingLimit(withinDays: 365) { edges { node { claim { claimNumber } serviceDate limitDays daysLeft } } } }"
    )
    (item,) = [e["node"] for e in near["claimsNearingFilingLimit"]["edges"]]
    assert item["claim"]["claimNumber"] == claims[0]["claimNumber"] and item["limitDays"] == 365
    assert item["daysLeft"] == 365 and item["serviceDate"] == "2026-03-10"
    none_yet = await gql.execute("{ claimsNearingFilingLimit(withinDays: 30) { totalCount } }")
    assert none_yet["claimsNearingFilingLimit"]["totalCount"] == 0


async def test_sessions_awaiting_finalization_and_closed_with_no_one_marked(gql, room, test_clock, services):
    """Nobody marked: the session awaits finalization, shows in that queue N hours after its end, and the deadline
    closes it into the queue of sessions closed unmarked (not the same as everyone marked absent)."""
    from app.operations.billing_pipeline import bill_due_sessions

    session_id, _ = room
    awaiting = "query($h: Float!) { sessionsAwaitingFinalization(hoursAfterEnd: $h) { totalCount edges { node { session { id } hoursSinceEnd } } } }"
    closed = "{ sessionsClosedUnmarked { totalCount edges { node { session { id status } } } } }"
    set_now(test_clock, at(10, 31))
    assert await bill_due_sessions(services) == 0
    now = (await gql.execute(awaiting, {"h": 0}))["sessionsAwaitingFinalization"]
    assert now["edges"][0]["node"]["session"]["id"] == session_id
    assert (await gql.execute(awaiting, {"h": 4}))["sessionsAwaitingFinalization"]["totalCount"] == 0
    set_now(test_clock, at(15, 0))
    (item,) = (await gql.execute(awaiting, {"h": 4}))["sessionsAwaitingFinalization"]["edges"]
    assert item["node"]["hoursSinceEnd"] == 4.5
    assert (await gql.execute(closed))["sessionsClosedUnmarked"]["totalCount"] == 0
    set_now(test_clock, at(10, 30, day=11))
    assert await bill_due_sessions(services) == 1
    assert (await gql.execute(awaiting, {"h": 0}))["sessionsAwaitingFinalization"]["totalCount"] == 0
    (closed_item,) = (await gql.execute(closed))["sessionsClosedUnmarked"]["edges"]
    assert closed_item["node"]["session"]["id"] == session_id
    _, code, _ = await gql.error(awaiting, {"h": -1})
    assert code == "BAD_USER_INPUT"


# ------------------------------------------------------------------ batches out

SUBMIT_BATCHES = """mutation { submitClaimBatches { held { reason claim { claimNumber } }
  batches { id controlNumber production claimCount fileName text payer { payerCode } claims { claimNumber status } } } }"""


async def test_the_daily_submission_sends_one_interchange_per_payer_to_the_outbox(
    gql, clinic, room, test_clock, services, tmp_path
):
    session_id, members = room
    for member in members:
        await gql.execute(SET_ATTENDANCE, {"participantId": member, "status": "ATTENDED"})
    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    outbox = tmp_path / "outbox"
    settings = services.settings
    object.__setattr__(services, "settings", replace(settings, edi_outbox=outbox, edi_production=False))
    try:
        submission = (await gql.execute(SUBMIT_BATCHES))["submitClaimBatches"]
    finally:
        object.__setattr__(services, "settings", settings)
    assert submission["held"] == []
    (batch,) = submission["batches"]
    assert batch["claimCount"] == 5 and {c["status"] for c in batch["claims"]} == {"SUBMITTED"}
    assert batch["production"] is False
    text = batch["text"]
    assert pyx12_errors(text) == []
    segments = parse_segments(text)
    assert segments[0][15] == "T"  # ISA15: a test file
    assert [s[2] for s in segments if s[0] == "ST"] == ["0001", "0002", "0003", "0004", "0005"]
    assert next(s for s in segments if s[0] == "GE")[1] == "5"
    assert (outbox / batch["fileName"]).read_text() == text
    assert [p.name for p in outbox.iterdir()] == [batch["fileName"]]
    # nothing left to send: a second run makes no batch
    assert (await gql.execute(SUBMIT_BATCHES))["submitClaimBatches"] == {"held": [], "batches": []}
    listed = await gql.execute("{ claimBatches { totalCount edges { node { controlNumber claimCount } } } }")
    assert listed["claimBatches"]["edges"][0]["node"] == {"controlNumber": batch["controlNumber"], "claimCount": 5}

    # The payer answers the batch as a whole: one 999 for the group, a 277CA and an 835 for its claims; a 999
    # rejecting one transaction set (AK202) rejects that claim alone.
    outcomes = {c["claimNumber"]: Outcome.PAID for c in batch["claims"]}
    answers = answer_claims(text, Policy(outcomes={**outcomes, batch["claims"][1]["claimNumber"]: Outcome.REJECTED}))
    await import_all(gql, [answers.acknowledgment, answers.claim_acknowledgment, answers.remittance])
    statuses = {n: c["status"] for n, c in (await claims_by_number(gql, session_id)).items()}
    assert sorted(statuses.values()) == ["PAID"] * 4 + ["REJECTED"]
    response = TransactionSetResponse("837", "0003", "005010X222A1", "R", ("5",), ())
    rejection = ImplementationAcknowledgment(
        "HC", str(batch["controlNumber"]), "005010X222A1", "P", 5, 5, 4, (), (response,)
    )
    text_999 = render_999(Envelope("SIMPAYER1", "SENDER", 778, at(12), "", ""), [rejection])
    (result,) = await import_all(gql, [text_999])
    # the third claim was PAID already: a late 999 moves nothing
    assert result["changes"] == [] and batch["claims"][2]["claimNumber"] in result["file"]["summary"]["unchanged"]


async def test_every_file_the_demo_reads_or_writes_is_pyx12_clean(gql, services, test_clock):
    """The demo's 837Ps (each claim's and the batch), and the 999, 277CA and 835s it imported."""
    from app.demo import load_demo

    assert "Loaded" in await load_demo(services)
    async with services.sessionmaker() as db:
        claims = [t for t in (await db.scalars(select(models.Claim.edi837))).all() if t]
        batches = (await db.scalars(select(models.ClaimBatch.text))).all()
        files = (await db.execute(select(models.EdiFile.kind, models.EdiFile.text))).all()
    assert len(batches) == 1 and len(claims) >= 7
    assert sorted(kind for kind, _ in files) == ["277CA", "835", "835", "999"]
    for text in [*claims, *batches, *(t for _, t in files)]:
        assert pyx12_errors(text) == []
    statuses = await gql.execute("{ deniedClaims { totalCount } rejectedClaims { totalCount } }")
    assert statuses == {"deniedClaims": {"totalCount": 2}, "rejectedClaims": {"totalCount": 1}}
    # one claim paid below AHCCCS's contracted rate (38.50 for a group of one to four): an underpayment
    async with services.sessionmaker() as db:
        underpaid = (
            await db.execute(
                select(
                    models.RemittanceLine.allowed, models.RemittanceLine.expected, models.RemittanceLine.underpaid_by
                ).where(models.RemittanceLine.underpaid_by > 0)
            )
        ).all()
    assert [tuple(map(str, row)) for row in underpaid] == [("34.65", "38.50", "3.85")]


async def test_the_submit_claims_command_writes_the_days_batch_to_the_outbox(
    gql, room, test_clock, database_url, tmp_path
):
    session_id, members = room
    for member in members:
        await gql.execute(SET_ATTENDANCE, {"participantId": member, "status": "ATTENDED"})
    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    outbox = tmp_path / "outbox"
    env = {
        **os.environ, "DATABASE_URL": database_url, "GS_DATA_DIR": str(tmp_path), "GS_JWT_SECRET": "x" * 40,
        "GS_EDI_OUTBOX": str(outbox), "GS_EDI_PRODUCTION": "0",
    }  # fmt: skip
    command = [sys.executable, "-m", "app.cli_entry", "submit-claims"]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=True)
    (written,) = list(outbox.iterdir())
    assert f"{written.name}: 5 claim(s)" in run.stdout
    text = written.read_text()
    assert parse_segments(text)[0][15] == "T" and pyx12_errors(text) == []
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=True)
    assert again.stdout.strip() == "No claim to send."


async def test_an_835_naming_the_original_claim_posts_to_its_replacement(gql, clinic, room, test_clock):
    """005010X221A1 CLP01 is the patient control number the payer adjudicated under; a payer may answer a
    replacement (CLM05-3 7) under the original's number: the lineage of voids and replacements finds it."""
    session_id, members = room
    for member, status in zip(members, ["ATTENDED"] * 4 + ["ABSENT"], strict=True):
        await gql.execute(SET_ATTENDANCE, {"participantId": member, "status": status})
    await accept_ratio(gql, session_id)
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    claims = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"]
    original = next(c for c in claims if c["patient"]["id"] == clinic.patients[0])
    sent = (await gql.execute(SUBMIT, {"id": original["id"]}))["submitClaim"]["edi837"]
    # its 277CA brings the payer's claim number, which the replacement's REF*F8 needs (a correction is held
    # until then)
    accepted = answer_claims(sent, Policy(outcomes={original["claimNumber"]: Outcome.PAID}))
    await import_all(gql, [accepted.claim_acknowledgment])
    # a fifth member after all: everyone moves to the 5-8 band, the submitted claim is replaced
    await gql.execute(
        SET_ATTENDANCE, {"participantId": members[4], "status": "LATE", "force": True, "reason": "Signed in late"}
    )
    claims = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"]
    replacement = next(
        c for c in claims if c["frequency"] == "REPLACEMENT" and c["originalClaim"]["id"] == original["id"]
    )
    edi = (await gql.execute(SUBMIT, {"id": replacement["id"]}))["submitClaim"]["edi837"]
    answers = answer_claims(edi, Policy(outcomes={replacement["claimNumber"]: Outcome.PAID}))
    echoed = answers.remittance.replace(f"CLP*{replacement['claimNumber']}*", f"CLP*{original['claimNumber']}*")
    (result,) = await import_all(gql, [echoed])
    assert [(c["claim"]["claimNumber"], c["after"]) for c in result["changes"]] == [
        (replacement["claimNumber"], "PAID")
    ]
    after = await claims_by_number(gql, session_id)
    assert after[original["claimNumber"]]["status"] == "REPLACED"
    assert (
        after[replacement["claimNumber"]]["payerClaimNumber"] == answers.payer_claim_numbers[replacement["claimNumber"]]
    )


# ------------------------------------------------------------------ a rejected claim corrected and sent again

CORRECT = """mutation($id: ID!, $reason: String!, $input: ClaimCorrectionInput) {
  correctClaim(claimId: $id, reason: $reason, input: $input) { status } }"""
REJECTED_QUEUE = "{ rejectedClaims { totalCount edges { node { claimNumber } } } }"


@pytest.mark.parametrize("rejected_by", ["277CA", "999"])
async def test_a_rejected_claim_is_corrected_and_sent_again_as_a_new_original(
    gql, clinic, room, test_clock, rejected_by
):
    """A claim the payer rejected at the front end (005010X214 277CA STC01 A7; 005010X231A1 999 IK5 R) was never
    adjudicated: the payer holds no claim to replace. Its correction is a new ORIGINAL (005010X222A1 CLM05-3 1,
    no REF*F8: a replacement names a claim the payer adjudicated), sent as any claim, and the rejection leaves
    the rejected queue."""
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    first = claims[0]
    if rejected_by == "277CA":
        (answers,) = answers_for([first], [Outcome.REJECTED])
        await import_all(gql, [answers.claim_acknowledgment])
    else:
        isa13 = next(s for s in parse_segments(first["edi837"]) if s[0] == "ISA")[13]
        response = TransactionSetResponse("837", "0001", "005010X222A1", "R", ("5",), ())
        ack = ImplementationAcknowledgment("HC", str(int(isa13)), "005010X222A1", "R", 1, 1, 0, (), (response,))
        await import_all(gql, [render_999(Envelope("SIMPAYER1", "SENDER", 777, at(11), "", ""), [ack])])
    assert (await gql.execute(REJECTED_QUEUE))["rejectedClaims"]["totalCount"] == 1

    await gql.execute(
        CORRECT,
        {
            "id": first["id"],
            "reason": "Member id as the payer's eligibility answer gives it",
            "input": {"memberId": "A900001"},
        },
    )
    history = [c for c in (await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"]
               if c["patient"]["id"] == first["patient"]["id"]]  # fmt: skip
    assert [(c["frequency"], c["status"]) for c in history] == [("ORIGINAL", "REPLACED"), ("ORIGINAL", "DRAFT")]
    again = history[1]
    assert again["originalClaim"]["id"] == first["id"]
    assert [v["code"] for v in again["validation"]] in ([], ["SUPERVISION_RATIO_BREACH"])
    assert (await gql.execute(REJECTED_QUEUE))["rejectedClaims"]["totalCount"] == 0

    sent = (await gql.execute(SUBMIT, {"id": again["id"]}))["submitClaim"]
    assert (sent["status"], sent["frequency"]) == ("SUBMITTED", "ORIGINAL")
    segments = parse_segments(sent["edi837"])
    assert next(s for s in segments if s[0] == "CLM")[5].endswith(":1")
    assert not [s for s in segments if s[0] == "REF" and s[1] == "F8"]
    assert ["NM1", "IL", "1"] == next(s for s in segments if s[:2] == ["NM1", "IL"])[:3]
    assert "A900001" in next(s for s in segments if s[:2] == ["NM1", "IL"])
    assert pyx12_errors(sent["edi837"]) == []
    # the payer accepts and pays the new original: it answers under its own number
    answers = answer_claims(sent["edi837"], Policy(outcomes={again["claimNumber"]: Outcome.PAID}))
    await import_all(gql, [answers.claim_acknowledgment, answers.remittance])
    assert (await claims_by_number(gql, session_id))[again["claimNumber"]]["status"] == "PAID"


# ------------------------------------------------------------------ a reversal and the corrected payment


def fixture_835(claim_number: str) -> tuple[str, str]:
    """tests/fixtures/x12/835_reversal_and_correction.x12 for one of our claims (its CLP01), and the earlier 835
    that paid what it reverses: the fixture's reversing CLP with its signs turned and CLP02 1 (ICN 25072000401005),
    in an envelope of its own."""
    text = (FIXTURES / "835_reversal_and_correction.x12").read_text().replace("GS000405", claim_number)
    lines = [line.rstrip("~") for line in text.splitlines()]
    start = lines.index("LX*1") + 1
    flip = f"CLP*{claim_number}*22*", f"CLP*{claim_number}*1*"
    block = [line.replace(*flip).replace("*-", "*") for line in lines[start : start + 6]]
    head = [
        line.replace("000000836", "000000835").replace("*836*", "*835*").replace("BPR*I*5*", "BPR*I*8*")
        .replace("TRN*1*20250501077*", "TRN*1*20250401066*")
        for line in lines[:start]
    ]  # fmt: skip
    body = head[2:] + block
    paid = "~\n".join([*head[:2], *body, f"SE*{len(body) + 1}*0001", "GE*1*835", "IEA*1*000000835"]) + "~\n"
    return paid, text


async def test_a_reversal_and_the_corrected_payment_leave_the_claim_paid(gql, room, test_clock):
    """005010X221A1 section 1.10.2.8 (Reversals and Corrections): the payer takes its payment back with a CLP02 22
    (every amount negated, the original CLP07) and pays again with a new CLP carrying the corrected payment (a new
    CLP07). The claim ends PAID at the corrected amounts, not REVERSED; the patient owes the corrected share."""
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    number = claims[0]["claimNumber"]
    paid, reversal_and_correction = fixture_835(number)
    assert pyx12_errors(paid) == [] and pyx12_errors(reversal_and_correction) == []
    (first,) = await import_all(gql, [paid])
    assert [(c["before"], c["after"]) for c in first["changes"]] == [("SUBMITTED", "PAID")]
    assert Decimal((await claims_by_number(gql, session_id))[number]["patient"]["balance"]) == 20

    (second,) = await import_all(gql, [reversal_and_correction])
    assert [(c["before"], c["after"]) for c in second["changes"]] == [("PAID", "REVERSED"), ("REVERSED", "PAID")]
    claim = (await claims_by_number(gql, session_id))[number]
    assert claim["status"] == "PAID" and claim["payerClaimNumber"] == "25121000401005"
    postings = claim["charges"][0]["postings"]
    assert sorted((p["paid"], p["patientResponsibility"], p["reversal"]) for p in postings) == [
        ("-8.00", "-20.00", True), ("18.00", "10.00", False), ("8.00", "20.00", False),
    ]  # fmt: skip
    assert Decimal(claim["patient"]["balance"]) == 10
    events = [e["node"]["type"] for e in (await gql.execute(EVENTS))["integrationEvents"]["edges"]]
    assert [e for e in events if e in ("claim_paid", "claim_reversed")] == [
        "claim_paid",
        "claim_reversed",
        "claim_paid",
    ]


# ------------------------------------------------------------------ the same 835 in a new envelope


def new_envelope(text: str, control: int) -> str:
    """The same 835 as a clearinghouse sends it again: another interchange (ISA09-10 and ISA13) and group (GS04-06,
    GE02, IEA02); the transaction set, its BPR, TRN and CLPs unchanged."""
    segments = [line.rstrip("~").split("*") for line in text.splitlines() if line.strip()]
    for segment in segments:
        if segment[0] == "ISA":
            segment[9], segment[10], segment[13] = "260601", "0930", f"{control:09d}"
        elif segment[0] == "GS":
            segment[4], segment[5], segment[6] = "20260601", "0930", str(control)
        elif segment[0] == "GE":
            segment[2] = str(control)
        elif segment[0] == "IEA":
            segment[2] = f"{control:09d}"
    return "".join("*".join(s) + "~\n" for s in segments)


async def test_the_same_835_in_a_new_envelope_posts_nothing_again(gql, room, test_clock, services):
    """A clearinghouse may deliver an 835 again in a new ISA/GS envelope: another file (its hash differs), the same
    payments. 005010X221A1 TRN02 (the check or EFT trace) with the payer's identifier (TRN03, N1*PR), CLP01,
    CLP02, CLP07 and the amounts name a claim payment: one posted before is not posted again, nor its PLB; the
    summary says so."""
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.PAID_THEN_REVERSED])
    number = claims[0]["claimNumber"]
    await import_all(gql, [answers.claim_acknowledgment, answers.remittance, answers.reversal])
    before = await claims_by_number(gql, session_id)
    resent = new_envelope(answers.remittance, 424242)
    assert resent != answers.remittance and pyx12_errors(resent) == []
    (again,) = await import_all(gql, [resent])
    assert again["duplicate"] is False and again["changes"] == []
    summary = again["file"]["summary"]
    assert summary["alreadyPosted"] == [number] and summary["unchanged"][number].startswith("already posted")
    assert summary["claims"] == {} and summary["paid"] == "0"
    reversal_again = (await import_all(gql, [new_envelope(answers.reversal, 424243)]))[0]
    assert reversal_again["changes"] == [] and reversal_again["file"]["providerAdjustments"] == []
    assert reversal_again["file"]["summary"]["adjustmentsAlreadyKept"] == 1
    assert await claims_by_number(gql, session_id) == before
    assert before[number]["status"] == "REVERSED" and len(before[number]["charges"][0]["postings"]) == 2
    async with services.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(models.EdiFile)) == 5
        assert await db.scalar(select(func.count()).select_from(models.RemittanceLine)) == 2
        assert await db.scalar(select(func.count()).select_from(models.ProviderAdjustment)) == 1


# ------------------------------------------------------------------ underpayment against the contracted amount


async def test_underpayment_is_against_the_payers_contracted_rate_not_the_facilitys_fee(gql, clinic, room, test_clock):
    """The facility bills its fee (40.00); the payer's contracted rate for the 5-8 band (30.00) is the charge's
    expectedAmount. A payer allowing the contract (005010X221A1 AMT*B6 30.00: CO-45 10.00, PR-3 5.00, paid 25.00)
    has not underpaid, though it paid well under the fee; one allowing 90% of it (27.00) has, by 3.00."""
    session_id, members = room
    await gql.execute(FEES, {"id": clinic.facility_id, "fees": [{"procedureCode": "90853", "amount": "40.00"}]})
    claims = await submitted(gql, session_id, members, test_clock)
    policy = Policy(
        outcomes={claims[0]["claimNumber"]: Outcome.PAID, claims[1]["claimNumber"]: Outcome.PAID_BELOW_CONTRACT},
        contract={"90853:HQ": Decimal("30.00")},
    )
    for claim in claims[:2]:
        answers = answer_claims(claim["edi837"], policy)
        assert pyx12_errors(answers.remittance) == []
        await import_all(gql, [answers.claim_acknowledgment, answers.remittance])
    query = """query($id: ID!) { groupSession(id: $id) { claims { claimNumber status charges { amount expectedAmount
      postings { paid contractual patientResponsibility allowed expected underpaid underpaidBy allowedDifference } } } } }"""
    found = {c["claimNumber"]: c for c in (await gql.execute(query, {"id": session_id}))["groupSession"]["claims"]}
    paid, below = found[claims[0]["claimNumber"]], found[claims[1]["claimNumber"]]
    assert (paid["charges"][0]["amount"], paid["charges"][0]["expectedAmount"]) == ("40.00", "30.00")
    assert paid["charges"][0]["postings"] == [
        {"paid": "25.00", "contractual": "10.00", "patientResponsibility": "5.00", "allowed": "30.00",
         "expected": "30.00", "underpaid": False, "underpaidBy": "0.00", "allowedDifference": "0.00"}
    ]  # fmt: skip
    assert below["status"] == "PAID"
    assert below["charges"][0]["postings"] == [
        {"paid": "22.00", "contractual": "13.00", "patientResponsibility": "5.00", "allowed": "27.00",
         "expected": "30.00", "underpaid": True, "underpaidBy": "3.00", "allowedDifference": "-3.00"}
    ]  # fmt: skip


# ------------------------------------------------------------------ a payer's timely-filing limit

PAYER_SETTINGS = """mutation($id: ID!, $input: PayerClaimSettingsInput!) {
  updatePayerClaimSettings(payerId: $id, input: $input) { timelyFilingDays } }"""


async def test_a_payers_timely_filing_limit_is_set_through_the_api_and_counts_the_days_left(
    gql, ws, clinic, room, test_clock, services
):
    """Payer.timelyFilingDays (365 unless set) is given at createPayer and changed with updatePayerClaimSettings,
    1 to 3650 days, by an administrator of reference data, audited and published to the TIMELY_FILING queue's
    watchers; claimsNearingFilingLimit counts with it."""
    created = await gql.execute(
        "mutation($input: PayerInput!) { createPayer(input: $input) { id timelyFilingDays } }",
        {"input": {"name": "Desert Health Plan", "payerCode": "DESERTHP", "timelyFilingDays": 90}},
    )
    assert created["createPayer"]["timelyFilingDays"] == 90
    default = await gql.execute(
        "mutation($input: PayerInput!) { createPayer(input: $input) { timelyFilingDays } }",
        {"input": {"name": "Plain Plan", "payerCode": "PLAIN01"}},
    )
    assert default["createPayer"]["timelyFilingDays"] == 365
    for days in (0, 3651, -1):
        _, code, body = await gql.error(PAYER_SETTINGS, {"id": clinic.payer_id, "input": {"timelyFilingDays": days}})
        assert code == "BAD_USER_INPUT" and "timelyFilingDays must be 1 to 3650" in body["errors"][0]["message"]
    _, code, _ = await gql.error(
        "mutation($input: PayerInput!) { createPayer(input: $input) { id } }",
        {"input": {"name": "Bad Plan", "payerCode": "BAD01", "timelyFilingDays": 0}},
    )
    assert code == "BAD_USER_INPUT"
    biller = gql.as_(scopes=[s for s in ALL_SCOPES if s != "admin.reference.write"])
    _, code, _ = await biller.error(PAYER_SETTINGS, {"id": clinic.payer_id, "input": {"timelyFilingDays": 30}})
    assert code == "FORBIDDEN"
    async with ws() as socket:  # a new limit changes every claim's days left: the queue's watchers hear of it
        assert (await socket.receive_json())["type"] == "connection_ack"
        variables = {"f": clinic.facility_id, "q": ["TIMELY_FILING"]}
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": QUEUE_WATCH, "variables": variables}}
        )
        assert (await queue_update(socket))["kind"] == "SNAPSHOT"
        changed = await gql.execute(PAYER_SETTINGS, {"id": clinic.payer_id, "input": {"timelyFilingDays": 30}})
        assert changed["updatePayerClaimSettings"] == {"timelyFilingDays": 30}
        update = await queue_update(socket)
        assert (update["kind"], update["queues"]) == ("CHANGED", ["TIMELY_FILING"])
        await gql.execute(PAYER_SETTINGS, {"id": clinic.payer_id, "input": {"timelyFilingDays": 30}})  # the same
        await no_update(socket)
    async with services.sessionmaker() as db:
        entry = (
            await db.scalars(
                select(models.AuditEntry)
                .where(models.AuditEntry.action == "payer.update")
                .order_by(models.AuditEntry.id)
            )
        ).all()[-2]  # the last sets the same limit again
    assert (entry.before["timelyFilingDays"], entry.after["timelyFilingDays"]) == (365, 30)

    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    (answers,) = answers_for(claims[:1], [Outcome.REJECTED])
    await import_all(gql, [answers.claim_acknowledgment])
    near = await gql.execute(
        "{ claimsNearingFilingLimit(withinDays: 30) { edges { node { limitDays daysLeft claim { claimNumber } } } } }"
    )
    (item,) = [e["node"] for e in near["claimsNearingFilingLimit"]["edges"]]
    assert (item["claim"]["claimNumber"], item["limitDays"], item["daysLeft"]) == (claims[0]["claimNumber"], 30, 30)
    read = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Payer { timelyFilingDays } } }", {"id": clinic.payer_id}
    )
    assert read["node"] == {"timelyFilingDays": 30}


# ------------------------------------------------------------------ the queues time alone changes, live


async def no_update(socket, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(socket.receive_json(), seconds)


async def test_the_time_based_queues_publish_as_the_sweep_passes(gql, ws, clinic, room, test_clock, services):
    """Nobody marked the session. The sweep marks it awaiting finalization (AWAITING_FINALIZATION), publishes it
    again each whole hour after its end (sessionsAwaitingFinalization(hoursAfterEnd: N) changes with time alone),
    closes it unmarked at its deadline (AWAITING_FINALIZATION, CLOSED_UNMARKED, TIMELY_FILING), and publishes
    TIMELY_FILING when the facility's day turns (every claim's days left to file went down)."""
    from app.operations.billing_pipeline import bill_due_sessions, publish_time_queues

    session_id, _ = room
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        variables = {"f": clinic.facility_id, "q": ["AWAITING_FINALIZATION", "CLOSED_UNMARKED", "TIMELY_FILING"]}
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": QUEUE_WATCH, "variables": variables}}
        )
        assert (await queue_update(socket))["kind"] == "SNAPSHOT"
        set_now(test_clock, at(10, 31))
        assert await bill_due_sessions(services) == 0
        update = await queue_update(socket)
        assert (update["queues"], update["sessionId"]) == (["AWAITING_FINALIZATION"], session_id)

        # the session ended at 10:30: the sweeps of 11:29 and 11:31 straddle its first hour
        assert await publish_time_queues(services, at(10, 31), at(11, 29)) == 0
        await no_update(socket)
        assert await publish_time_queues(services, at(11, 29), at(11, 31)) == 1
        update = await queue_update(socket)
        assert (update["queues"], update["sessionId"]) == (["AWAITING_FINALIZATION"], session_id)
        hour = "query($h: Float!) { sessionsAwaitingFinalization(hoursAfterEnd: $h) { totalCount } }"
        set_now(test_clock, at(11, 31))
        assert (await gql.execute(hour, {"h": 1}))["sessionsAwaitingFinalization"]["totalCount"] == 1

        # the facility's midnight (Phoenix): the days left to file went down
        assert await publish_time_queues(services, at(23, 59), at(0, 1, day=11)) >= 1
        update = await queue_update(socket)
        assert (update["queues"], update["sessionId"], update["claimId"]) == (["TIMELY_FILING"], None, None)

        # the deadline closes it with no one marked
        set_now(test_clock, at(10, 30, day=11))
        assert await bill_due_sessions(services) == 1
        update = await queue_update(socket)
        assert update["sessionId"] == session_id
        assert update["queues"] == ["AWAITING_FINALIZATION", "CLOSED_UNMARKED", "TIMELY_FILING"]
        assert await publish_time_queues(services, at(10, 29, day=11), at(11, 31, day=11)) == 0
        await no_update(socket)
    closed = await gql.execute("{ sessionsClosedUnmarked { edges { node { session { id } } } } }")
    assert [e["node"]["session"]["id"] for e in closed["sessionsClosedUnmarked"]["edges"]] == [session_id]


async def test_a_submission_publishes_the_timely_filing_queue(gql, ws, clinic, room, test_clock):
    """A claim submitted leaves claimsNearingFilingLimit (the payer holds it now): TIMELY_FILING, naming it."""
    session_id, members = room
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        variables = {"f": clinic.facility_id, "q": ["TIMELY_FILING"]}
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": QUEUE_WATCH, "variables": variables}}
        )
        assert (await queue_update(socket))["kind"] == "SNAPSHOT"
        claims = await submitted(gql, session_id, members, test_clock)
        billed = await queue_update(socket)  # the billing run: its DRAFT claims enter the queue
        assert (billed["queues"], billed["sessionId"]) == (["TIMELY_FILING"], session_id)
        sent = [await queue_update(socket) for _ in claims]
        assert [u["claimId"] for u in sent] == [c["id"] for c in claims]
        assert {tuple(u["queues"]) for u in sent} == {("TIMELY_FILING",)}


# ------------------------------------------------------------------ what a 277CA and a 999 said, as data


async def test_a_claim_keeps_its_277ca_status_codes_and_a_999_its_results_per_transaction_set(gql, room, test_clock):
    """005010X214 STC01 (category and status code, the entity) is kept on the claim, billing.read; a 999's
    AK2..IK5 per transaction set is read on the file (005010X231A1: IK5 E accepts a set with errors; its claims
    stay SUBMITTED, for the 277CA)."""
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    rejected, accepted = answers_for(claims[:2], [Outcome.REJECTED, Outcome.PAID])
    await import_all(gql, [rejected.claim_acknowledgment, accepted.claim_acknowledgment])
    query = "query($id: ID!) { node(id: $id) { ... on Claim { status statusCategory statusCodes { category code entity text } } } }"
    first = (await gql.execute(query, {"id": claims[0]["id"]}))["node"]
    assert (first["status"], first["statusCategory"]) == ("REJECTED", "A7")
    (code,) = first["statusCodes"]
    assert (code["category"], code["code"], code["entity"]) == ("A7", "164", "IL")
    assert code["text"].startswith("A7: Acknowledgement/Rejected for Invalid Information")
    second = (await gql.execute(query, {"id": claims[1]["id"]}))["node"]
    assert (second["status"], second["statusCategory"], [c["code"] for c in second["statusCodes"]]) == (
        "ACCEPTED", "A2", ["20"],
    )  # fmt: skip
    _, code, _ = await gql.as_(scopes=[s for s in ALL_SCOPES if s != "billing.read"]).error(
        "query($id: ID!) { node(id: $id) { ... on Claim { statusCategory } } }", {"id": claims[0]["id"]}
    )
    assert code == "FORBIDDEN"

    isa13 = next(s for s in parse_segments(claims[2]["edi837"]) if s[0] == "ISA")[13]
    with_errors = TransactionSetResponse(
        "837", "0001", "005010X222A1", "E", (), (SegmentError("REF", 12, "2300", "", claims[2]["claimNumber"]),)
    )
    ack = ImplementationAcknowledgment("HC", str(int(isa13)), "005010X222A1", "E", 1, 1, 1, (), (with_errors,))
    text = render_999(Envelope("SIMPAYER1", "SENDER", 779, at(11), "", ""), [ack])
    assert pyx12_errors(text) == []
    result = (
        await gql.execute(
            """mutation($text: String!) { importEdi(text: $text) { changes { after }
              file { transactionSetResults { groupControlNumber transactionSet controlNumber code text accepted errors } } } }""",
            {"text": text},
        )
    )["importEdi"]
    assert result["changes"] == []
    assert result["file"]["transactionSetResults"] == [
        {"groupControlNumber": str(int(isa13)), "transactionSet": "837", "controlNumber": "0001", "code": "E",
         "text": result["file"]["transactionSetResults"][0]["text"], "accepted": True,
         "errors": ["REF at position 12 (loop 2300): Data element errors"]},
    ]  # fmt: skip
    assert "error" in result["file"]["transactionSetResults"][0]["text"].lower()
    assert (await claims_by_number(gql, session_id))[claims[2]["claimNumber"]]["status"] == "SUBMITTED"
    remittance = (await import_all(gql, [accepted.remittance]))[0]
    files = await gql.execute("{ ediFiles(kind: REMITTANCE) { edges { node { transactionSetResults { code } } } } }")
    assert remittance["changes"] and files["ediFiles"]["edges"][0]["node"]["transactionSetResults"] is None


async def test_a_replacement_made_before_the_payer_rejected_its_original_gives_way_to_an_original(
    gql, clinic, room, test_clock
):
    """The claim was corrected before any answer came: a REPLACEMENT waits for the payer's claim number (REF*F8).
    Then the 277CA rejects the original (005010X214 STC01 A7): the payer holds nothing, the number never comes.
    The rejection is kept with the original; the next correction drops the waiting replacement and sends a new
    ORIGINAL (005010X222A1 CLM05-3 1, no REF*F8)."""
    session_id, members = room
    claims = await submitted(gql, session_id, members, test_clock)
    first = claims[0]
    reason = "Member id as the payer's eligibility answer gives it"
    await gql.execute(CORRECT, {"id": first["id"], "reason": reason, "input": {"memberId": "A900001"}})

    def mine(rows):
        return [c for c in rows if c["patient"]["id"] == first["patient"]["id"]]

    (_, waiting) = mine((await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"])
    assert (waiting["frequency"], waiting["status"]) == ("REPLACEMENT", "DRAFT")
    (answers,) = answers_for([first], [Outcome.REJECTED])
    (result,) = await import_all(gql, [answers.claim_acknowledgment])
    assert result["changes"] == [] and first["claimNumber"] in result["file"]["summary"]["unchanged"]
    kept = (await claims_by_number(gql, session_id))[first["claimNumber"]]
    assert kept["status"] == "REPLACED" and kept["payerReason"].startswith("A7: ")
    _, code, body = await gql.error(SUBMIT, {"id": waiting["id"]})
    assert code == "ILLEGAL_TRANSITION" and "PAYER_CLAIM_NUMBER_UNKNOWN" in body["errors"][0]["message"]

    await gql.execute(CORRECT, {"id": waiting["id"], "reason": reason})
    history = mine((await gql.execute(BILLED, {"id": session_id}))["groupSession"]["claims"])
    assert [(c["frequency"], c["status"]) for c in history] == [
        ("ORIGINAL", "REPLACED"), ("REPLACEMENT", "VOIDED"), ("ORIGINAL", "DRAFT"),
    ]  # fmt: skip
    sent = (await gql.execute(SUBMIT, {"id": history[2]["id"]}))["submitClaim"]
    segments = parse_segments(sent["edi837"])
    assert next(s for s in segments if s[0] == "CLM")[5].endswith(":1")
    assert not [s for s in segments if s[:2] == ["REF", "F8"]] and pyx12_errors(sent["edi837"]) == []
