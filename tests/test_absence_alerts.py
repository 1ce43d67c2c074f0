"""Absence alerts through the endpoint: a run of consecutive absences per group type's threshold
flags the enrollment and lists the patient at risk, in the same transaction as the mark; the next
attendance clears it; pm_group_attendance_alert tells integrators, with ids only."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.ids import decode_id
from tests.conftest import asyncpg_dsn, make_token
from tests.support.builders_history import add_sessions, at_risk, enrollment_alert, mark, program
from tests.support.builders_scheduling import CANCEL, outbox
from tests.support.builders_sessions import create_session

DAYS = ["2026-03-02", "2026-03-04", "2026-03-06", "2026-03-09", "2026-03-11"]
BATCH = """
mutation($sessionId: ID!, $entries: [AttendanceEntryInput!]!) { setAttendanceBatch(sessionId: $sessionId, entries: $entries) { id } }"""


def raw(global_id: str, type_name: str) -> str:
    return str(decode_id(global_id, type_name))


async def alert_events(services) -> list[dict]:
    return [e.payload for e in await outbox(services, "pm_group_attendance_alert")]


async def test_two_consecutive_absences_flag_an_iop_patient_with_the_sessions_that_tripped_it(gql, clinic, services):
    ana, ben = await clinic.add_patient("Ana Flores"), await clinic.add_patient("Ben Ortiz")
    iop = await program(gql, clinic, [ana, ben])
    await add_sessions(gql, iop, DAYS[:3])
    await mark(gql, iop.entry(0, ana), "ATTENDED")
    await mark(gql, iop.entry(1, ana), "ABSENT")
    assert await enrollment_alert(gql, iop.enrollments[ana]) is None and await at_risk(gql, clinic.facility_id) == []

    await mark(gql, iop.entry(2, ana), "ABSENT")

    alert = await enrollment_alert(gql, iop.enrollments[ana])
    assert (alert["threshold"], alert["consecutiveAbsences"]) == (2, 2)
    assert [s["id"] for s in alert["sessions"]] == iop.sessions[1:3]
    assert alert["since"] == alert["sessions"][0]["startsAt"]
    (listed,) = await at_risk(gql, clinic.facility_id)
    assert (listed["patient"]["id"], listed["enrollment"]["id"], listed["groupId"]) == (
        ana,
        iop.enrollments[ana],
        iop.group_id,
    )
    assert await enrollment_alert(gql, iop.enrollments[ben]) is None


async def test_the_next_attendance_clears_the_alert_and_both_changes_are_events_with_ids_only(gql, clinic, services):
    ana = await clinic.add_patient("Ana Flores")
    iop = await program(gql, clinic, [ana])
    await add_sessions(gql, iop, DAYS[:3])
    await mark(gql, iop.entry(0, ana), "ABSENT")
    await mark(gql, iop.entry(1, ana), "ABSENT")
    await mark(gql, iop.entry(2, ana), "LATE")  # a late arrival is an attendance

    assert await enrollment_alert(gql, iop.enrollments[ana]) is None
    assert await at_risk(gql, clinic.facility_id) == []
    raised, cleared = await alert_events(services)
    assert (raised["state"], cleared["state"]) == ("RAISED", "CLEARED")
    assert raised == {
        "state": "RAISED",
        "enrollmentId": raw(iop.enrollments[ana], "Enrollment"),
        "groupId": raw(iop.group_id, "GroupDefinition"),
        "patientId": raw(ana, "Patient"),
        "facilityId": raw(clinic.facility_id, "Facility"),
        "groupType": "IOP",
        "threshold": 2,
        "consecutiveAbsences": 2,
        "sessionIds": [raw(s, "GroupSession") for s in iop.sessions[:2]],
        "since": raised["since"],
        "cause": "attendance",
        "globalIds": {
            "enrollmentId": iop.enrollments[ana],
            "groupId": iop.group_id,
            "patientId": ana,
            "facilityId": clinic.facility_id,
            "sessionIds": iop.sessions[:2],
        },
    }
    assert cleared["globalIds"]["clearedBySessionId"] == iop.sessions[2]
    assert cleared["clearedBySessionId"] == raw(iop.sessions[2], "GroupSession")
    assert "Ana" not in str(raised) + str(cleared) and "MRN" not in str(raised)


async def test_an_alert_is_announced_once_while_the_run_grows(gql, clinic, services):
    ana = await clinic.add_patient()
    iop = await program(gql, clinic, [ana])
    await add_sessions(gql, iop, DAYS[:4])
    for index in range(4):
        await mark(gql, iop.entry(index, ana), "ABSENT")
    alert = await enrollment_alert(gql, iop.enrollments[ana])
    assert alert["consecutiveAbsences"] == 4 and [s["id"] for s in alert["sessions"]] == iop.sessions
    assert [e["state"] for e in await alert_events(services)] == ["RAISED"]


async def test_other_group_types_need_three_absences(gql, clinic):
    ana = await clinic.add_patient()
    cbt = await program(gql, clinic, [ana], group_type="THERAPY", name="Morning CBT")
    await add_sessions(gql, cbt, DAYS[:3])
    await mark(gql, cbt.entry(0, ana), "ABSENT")
    await mark(gql, cbt.entry(1, ana), "ABSENT")
    assert await enrollment_alert(gql, cbt.enrollments[ana]) is None
    await mark(gql, cbt.entry(2, ana), "ABSENT")
    assert (await enrollment_alert(gql, cbt.enrollments[ana]))["threshold"] == 3


async def test_the_threshold_is_data(gql, clinic, database_url):
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("UPDATE absence_thresholds SET consecutive_absences = 1 WHERE group_type = 'SUPPORT'")
        ana = await clinic.add_patient()
        support = await program(gql, clinic, [ana], group_type="SUPPORT", name="Grief Support")
        await add_sessions(gql, support, DAYS[:1])
        await mark(gql, support.entry(0, ana), "ABSENT")
        assert (await enrollment_alert(gql, support.enrollments[ana]))["threshold"] == 1
    finally:
        await conn.execute("UPDATE absence_thresholds SET consecutive_absences = 3 WHERE group_type = 'SUPPORT'")
        await conn.close()


async def test_unmarked_sessions_neither_count_nor_break_the_run(gql, clinic):
    ana = await clinic.add_patient()
    iop = await program(gql, clinic, [ana])
    await add_sessions(gql, iop, DAYS[:3])
    await mark(gql, iop.entry(0, ana), "ABSENT")  # session 1 is left SCHEDULED
    await mark(gql, iop.entry(2, ana), "ABSENT")
    alert = await enrollment_alert(gql, iop.enrollments[ana])
    assert [s["id"] for s in alert["sessions"]] == [iop.sessions[0], iop.sessions[2]]


async def test_marking_an_earlier_session_attended_does_not_clear_a_later_run(gql, clinic):
    ana = await clinic.add_patient()
    iop = await program(gql, clinic, [ana])
    await add_sessions(gql, iop, DAYS[:3])
    await mark(gql, iop.entry(1, ana), "ABSENT")
    await mark(gql, iop.entry(2, ana), "ABSENT")
    await mark(gql, iop.entry(0, ana), "ATTENDED")  # marked late, but it came before the absences
    assert (await enrollment_alert(gql, iop.enrollments[ana]))["consecutiveAbsences"] == 2


async def test_a_batch_flags_every_patient_it_tips_over(gql, clinic, services):
    ana, ben, cy = [await clinic.add_patient() for _ in range(3)]
    iop = await program(gql, clinic, [ana, ben, cy])
    await add_sessions(gql, iop, DAYS[:2])
    for patient in (ana, ben, cy):
        await mark(gql, iop.entry(0, patient), "ABSENT")
    await gql.execute(
        BATCH,
        {
            "sessionId": iop.sessions[1],
            "entries": [
                {"participantId": iop.entry(1, ana), "status": "ABSENT"},
                {"participantId": iop.entry(1, ben), "status": "ABSENT"},
                {"participantId": iop.entry(1, cy), "status": "ATTENDED"},
            ],
        },
    )
    assert {a["patient"]["id"] for a in await at_risk(gql, clinic.facility_id)} == {ana, ben}
    assert len(await alert_events(services)) == 2


async def test_a_refused_mark_leaves_no_alert(gql, clinic, services):
    ana = await clinic.add_patient()
    iop = await program(gql, clinic, [ana])
    await add_sessions(gql, iop, DAYS[:2])
    await mark(gql, iop.entry(0, ana), "ABSENT")
    # One request, two fields: the second fails, so the first (which trips the alert) is rolled back too.
    body = (
        await gql.post(
            """mutation($a: ID!, $b: ID!) {
             first: setAttendance(participantId: $a, status: ABSENT) { id }
             second: setAttendance(participantId: $b, status: ABSENT) { id }
           }""",
            {"a": iop.entry(1, ana), "b": iop.entry(0, ana)},  # ABSENT -> ABSENT is illegal
        )
    ).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "ILLEGAL_TRANSITION"
    assert await enrollment_alert(gql, iop.enrollments[ana]) is None and await alert_events(services) == []


async def test_a_forced_correction_on_a_billed_session_counts_like_any_attendance(gql, clinic, services, test_clock):
    ana, ben = await clinic.add_patient(), await clinic.add_patient()
    for patient in (ana, ben):
        await clinic.cover(patient)
    await clinic.bands([(1, 8, "90853", "40.00")])
    iop = await program(gql, clinic, [ana, ben])
    await add_sessions(gql, iop, ["2026-01-05", "2026-01-07"])  # long past: billable now
    for index in range(2):
        await mark(gql, iop.entry(index, ana), "ABSENT")
        await mark(gql, iop.entry(index, ben), "ATTENDED")
        billed = await gql.execute(
            "mutation($id: ID!) { runBilling(sessionId: $id) { locked } }", {"id": iop.sessions[index]}
        )
        assert billed["runBilling"]["locked"]
    assert await enrollment_alert(gql, iop.enrollments[ana]) is not None

    # The chart was wrong: Ana was there on the 7th. The correction clears the alert in its transaction.
    await mark(gql, iop.entry(1, ana), "ATTENDED", force=True, reason="Sign-in sheet found; she attended")
    assert await enrollment_alert(gql, iop.enrollments[ana]) is None
    cleared = (await alert_events(services))[-1]
    assert (cleared["state"], cleared["cause"]) == ("CLEARED", "forced_correction")
    # ...and a correction the other way raises it again.
    await mark(gql, iop.entry(1, ben), "ABSENT", force=True, reason="Left before the group started")
    await mark(gql, iop.entry(0, ben), "ABSENT", force=True, reason="Left before the group started")
    assert (await enrollment_alert(gql, iop.enrollments[ben]))["consecutiveAbsences"] == 2


async def test_cancelling_a_session_takes_its_absence_out_of_the_run(gql, clinic, services):
    ana = await clinic.add_patient()
    iop = await program(gql, clinic, [ana])
    await add_sessions(gql, iop, ["2030-03-04", "2030-03-06"])  # upcoming: they can still be cancelled
    await mark(gql, iop.entry(0, ana), "ABSENT")
    await mark(gql, iop.entry(1, ana), "ABSENT")
    assert await enrollment_alert(gql, iop.enrollments[ana]) is not None

    await gql.execute(CANCEL, {"id": iop.occurrences[1], "reason": "Facility closed for the storm"})

    assert await enrollment_alert(gql, iop.enrollments[ana]) is None
    assert (await alert_events(services))[-1]["cause"] == "session_cancelled"


async def test_ad_hoc_sessions_raise_no_alert(gql, clinic, services):
    ana = await clinic.add_patient()
    for _ in range(3):
        session = await create_session(gql, clinic, patients=[ana])
        await mark(gql, session["roster"][0]["id"], "ABSENT")
    assert await at_risk(gql, clinic.facility_id) == [] and await alert_events(services) == []


async def test_a_disenrolled_patient_is_no_longer_at_risk(gql, clinic):
    ana = await clinic.add_patient()
    iop = await program(gql, clinic, [ana])
    await add_sessions(gql, iop, DAYS[:2])
    for index in range(2):
        await mark(gql, iop.entry(index, ana), "ABSENT")
    await gql.execute(
        'mutation($id: ID!) { disenrollPatient(enrollmentId: $id, reason: "Moved") { enrollment { id } } }',
        {"id": iop.enrollments[ana]},
    )
    assert await at_risk(gql, clinic.facility_id) == []
    assert await enrollment_alert(gql, iop.enrollments[ana]) is None


async def test_patients_at_risk_of_another_facility_is_not_found_and_needs_the_session_scope(gql, clinic):
    other = await clinic.facility(name="Elsewhere Recovery")
    outsider = gql.__class__(gql.http, make_token(facilities=[other]))
    body = (
        await outsider.post(
            "query($f: ID!) { patientsAtRisk(facilityId: $f) { totalCount } }", {"f": clinic.facility_id}
        )
    ).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    scheduler = gql.__class__(gql.http, make_token(scopes=["pm.group_enrollments.view"]))
    body = (
        await scheduler.post(
            "query($f: ID!) { patientsAtRisk(facilityId: $f) { totalCount } }", {"f": clinic.facility_id}
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("status", ["ATTENDED", "LATE"])
async def test_either_kind_of_attendance_ends_a_therapy_run(gql, clinic, status):
    ana = await clinic.add_patient()
    cbt = await program(gql, clinic, [ana], group_type="THERAPY", name="CBT")
    await add_sessions(gql, cbt, DAYS[:5])
    for index in range(3):
        await mark(gql, cbt.entry(index, ana), "ABSENT")
    await mark(gql, cbt.entry(3, ana), status)
    await mark(gql, cbt.entry(4, ana), "ABSENT")
    assert await enrollment_alert(gql, cbt.enrollments[ana]) is None


async def test_two_tablets_marking_two_sessions_at_once_still_see_the_run(gql, clinic, services):
    """Each mark's transaction judges the run after the other's commit (the enrollment is locked),
    so two absences marked at the same moment on two sessions still flag the patient, once."""
    for attempt in range(3):
        patient = await clinic.add_patient()
        iop = await program(gql, clinic, [patient], name=f"IOP {attempt}")
        await add_sessions(gql, iop, DAYS[:2])
        await asyncio.gather(mark(gql, iop.entry(0, patient), "ABSENT"), mark(gql, iop.entry(1, patient), "ABSENT"))
        assert (await enrollment_alert(gql, iop.enrollments[patient]))["consecutiveAbsences"] == 2
    assert [e["state"] for e in await alert_events(services)] == ["RAISED"] * 3
