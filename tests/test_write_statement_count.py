"""One setAttendance with a room display watching runs a fixed, small number of SQL statements:
the mark's own and the live build of the change (bench/README.md, issue 17 item 2). A change that
adds a statement to either fails here. The live build of a watched change runs in the mark's
transaction, after the mark's statements and before its commit, so that it reads the state after
exactly this change (issue 25, row 13); the hub then uses it instead of reading it again."""

from __future__ import annotations

import asyncio
import re

from app.ids import encode_id
from tests.support.builders_sessions import at, set_now
from tests.test_billing import BILLED, RUN, mark, room  # noqa: F401 - room is a fixture
from tests.test_live import make_session, next_payload, subscribe
from tests.test_query_counts import count_statements

# What the bench's room display asks (bench/watchers.py).
WATCH = """
subscription($id: ID!) {
  sessionUpdates(sessionId: $id) {
    kind sequence at changedParticipantIds
    session { id status attendance { scheduled attended late absent total terminal } roster { id status } }
    billingPreview { billableCount readyToBill band { procedureCode } }
  }
}"""

SET_ATTENDANCE = """
mutation($id: ID!, $status: AttendanceStatus!) { setAttendance(participantId: $id, status: $status) { id status } }"""

# The mark: the session found, locked (Lock.WRITE) and its update sequence taken in one UPDATE;
# the entry locked with the session's group note looked up (member notes) in one SELECT; the entry
# written with its audit entry in one statement (the UPDATE a CTE of the INSERT). Was 5.
MARK = 3
# The live build, in the mark's transaction: the session with its facility and accepted warnings;
# the roster with notes and patients (primes the watchers' roster); coverages with their payers' documentation rules and the
# members' diagnoses (one UNION ALL); supervisors; size bands with supervision ratios; the members'
# coverage facts (eligibility answers, prior authorizations, payers' coverage rules, in one statement).
BUILD = 6

# Background loops that may run beside the test (the outbox relay, the event feed, idempotency).
BACKGROUND = re.compile(r"outbox|integration_events|idempotency|feed_cursor|SKIP LOCKED", re.I)


async def test_one_set_attendance_with_a_watcher_runs_a_fixed_number_of_statements(gql, ws, services, clinic):
    session_id, participants = await make_session(services, clinic, patients=15)
    async with ws() as socket:
        await subscribe(socket, WATCH, {"id": encode_id("GroupSession", session_id)})
        await next_payload(socket)
        for i, status in enumerate(("ATTENDED", "LATE", "ABSENT")):
            with count_statements(services) as recorded:
                data = await gql.execute(
                    SET_ATTENDANCE, {"id": encode_id("RosterEntry", participants[i]), "status": status}
                )
                update = (await next_payload(socket))["sessionUpdates"]
            assert data["setAttendance"]["status"] == status
            assert update["kind"] == "ATTENDANCE_CHANGED" and update["sequence"] == i + 1
            assert update["changedParticipantIds"] == [encode_id("RosterEntry", participants[i])]
            assert sorted(r["status"] for r in update["session"]["roster"]).count(status) == 1
            assert len(update["session"]["roster"]) == 15
            ours = [" ".join(s.split()) for s in recorded if not BACKGROUND.search(s)]
            assert ours[0].startswith("UPDATE group_sessions SET update_sequence"), ours[0]
            assert not any(s.startswith("SELECT roster_entries.session_id") for s in ours), ours
            assert "group_notes" in ours[1] and "FOR UPDATE OF roster_entries" in ours[1], ours[1]
            assert ours[2].startswith("WITH updated AS (UPDATE roster_entries"), ours[2]
            assert "INSERT INTO audit_entries" in ours[2], ours[2]
            assert len(ours) == MARK + BUILD, "\n".join(ours)


async def test_billing_writes_every_members_charge_claim_and_link_in_one_statement_each(
    gql, room, test_clock, services
):
    """Three billable members: one INSERT of charges, one of claims, one of their links (not one per member)."""
    session_id, members = room
    for m, status in zip(members, ["ATTENDED", "ATTENDED", "LATE", "ABSENT", "ABSENT"], strict=False):
        await mark(gql, m, status)
    set_now(test_clock, at(10, 31))
    with count_statements(services) as recorded:
        assert (await gql.execute(RUN, {"id": session_id}))["runBilling"] == {"status": "LOCKED", "locked": True}
    inserts = [" ".join(s.split()).split(" (")[0] for s in recorded if s.lstrip().startswith("INSERT")]
    assert inserts.count("INSERT INTO charges") == 1, inserts
    assert inserts.count("INSERT INTO claims") == 1, inserts
    assert inserts.count("INSERT INTO claim_charges") == 1, inserts
    billed = (await gql.execute(BILLED, {"id": session_id}))["groupSession"]
    assert len(billed["charges"]) == 3 and len(billed["claims"]) == 3
    assert all(len(claim["charges"]) == 1 for claim in billed["claims"])
    assert {c["charges"][0]["id"] for c in billed["claims"]} == {c["id"] for c in billed["charges"]}


async def test_concurrent_marks_of_one_session_take_gapless_sequences_in_commit_order(gql, ws, services, clinic):
    """The sequence is taken with the session lock in the mark's first statement: eight tablets
    marking eight members of one room at once, five rounds, give sequences 1..8 with no gap or
    repeat, and the watcher receives them in order, each with exactly the marks up to it."""
    for _ in range(5):
        session_id, participants = await make_session(services, clinic, patients=8)
        async with ws() as socket:
            await subscribe(socket, WATCH, {"id": encode_id("GroupSession", session_id)})
            await next_payload(socket)
            results = await asyncio.gather(
                *(
                    gql.execute(SET_ATTENDANCE, {"id": encode_id("RosterEntry", p), "status": "ATTENDED"})
                    for p in participants
                )
            )
            assert all(r["setAttendance"]["status"] == "ATTENDED" for r in results)
            updates = [(await next_payload(socket))["sessionUpdates"] for _ in participants]
        assert [u["sequence"] for u in updates] == list(range(1, 9))
        assert sorted(u["changedParticipantIds"][0] for u in updates) == sorted(
            encode_id("RosterEntry", p) for p in participants
        )
        assert updates[-1]["session"]["attendance"]["attended"] == 8
        assert [u["session"]["attendance"]["attended"] for u in updates] == list(range(1, 9))


GROUP_WATCH = """
subscription($id: ID!) {
  groupUpdates(groupId: $id) {
    kind sequence enrollment { id status }
    group { capacity { enrolled waitlisted } waitlist { id } }
  }
}"""

# A watched group change read in its writing transaction: the group, its counts, its waitlist and the
# changed enrollment (queries.enrollments.group_line). The watchers' loaders are primed with it, so
# they read neither the counts nor the waitlist again. Before, the group and enrollment were read after
# the commit and each watcher read the counts and waitlist itself: 6 more with two watchers (24 vs 18).
GROUP_BUILD = 4


async def test_one_enrollment_with_two_group_watchers_reads_the_line_once(gql, ws, services, clinic):
    """The same enrollPatient on a group nobody watches, and on one two watchers watch: the watched
    one costs GROUP_BUILD statements more, whatever the number of watchers."""
    from tests.support.builders_enrollment import enroll, make_group

    async def enrollment_statements(group_id: str) -> list[str]:
        patient = await clinic.add_patient()
        with count_statements(services) as recorded:
            assert (await enroll(gql, group_id, patient))["outcome"] == "ENROLLED"
            await asyncio.sleep(0.3)  # the watchers' updates are built and executed meanwhile
        return [" ".join(s.split()) for s in recorded if not BACKGROUND.search(s)]

    unwatched = await enrollment_statements(await make_group(gql, clinic))
    group_id = await make_group(gql, clinic)
    async with ws() as first, ws() as second:
        for socket in (first, second):
            await subscribe(socket, GROUP_WATCH, {"id": group_id})
            assert (await next_payload(socket))["groupUpdates"]["kind"] == "SNAPSHOT"
        watched = await enrollment_statements(group_id)
        for socket in (first, second):
            update = (await next_payload(socket))["groupUpdates"]
            assert update["kind"] == "ENROLLED" and update["group"]["capacity"] == {"enrolled": 1, "waitlisted": 0}
    assert len(watched) == len(unwatched) + GROUP_BUILD, "\n".join(watched)
