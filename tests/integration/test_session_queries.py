"""app.db.queries.sessions against PostgreSQL; where its SQL restates a rule, both see the same cases."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import models
from app.db.queries import sessions as queries
from app.db.queries.common import Page
from app.rules.attendance import SessionStatus, status_of
from tests.integration.conftest import NOW, add_session

HOUR = timedelta(hours=1)


async def test_the_status_sql_agrees_with_the_status_rule(db, facility):
    cases = [
        await add_session(db, facility, NOW + HOUR),  # later today
        await add_session(db, facility, NOW - HOUR),  # in progress (90 minutes)
        await add_session(db, facility, NOW, 60),  # starts exactly now
        await add_session(db, facility, NOW - 2 * HOUR, 60),  # ended an hour ago
        await add_session(db, facility, NOW - HOUR, 60),  # ends exactly now
        await add_session(db, facility, NOW - 3 * HOUR, locked_at=NOW - HOUR, billed_at=NOW - HOUR),
        await add_session(db, facility, NOW + HOUR, cancelled_at=NOW - HOUR),
        await add_session(db, facility, NOW - 3 * HOUR, cancelled_at=NOW, locked_at=NOW - HOUR),
        await add_session(db, facility, NOW - 3 * HOUR, billed_at=NOW - HOUR),  # billed, nobody billable
        await add_session(db, facility, NOW - 3 * HOUR, awaiting_finalization_at=NOW - HOUR),
        await add_session(db, facility, NOW + HOUR, awaiting_finalization_at=NOW - HOUR),  # moved later: not ended
    ]
    by_rule = {row.id: status_of(row, NOW) for row in cases}
    assert set(by_rule.values()) == set(SessionStatus)
    for status in SessionStatus:
        by_sql = set(await db.scalars(select(models.GroupSession.id).where(queries.status_condition(status, NOW))))
        assert by_sql == {pk for pk, rule in by_rule.items() if rule == status}, status


async def test_the_list_page_is_today_in_the_facilitys_own_time_zone(db, facility):
    honolulu = models.Facility(name="Aloha", state="HI", timezone="Pacific/Honolulu")
    db.add(honolulu)
    await db.flush()
    # 23:30 on 9 March in Honolulu is 09:30 UTC on the 10th; 10 March 00:30 in Phoenix is 07:30 UTC.
    late_evening = await add_session(db, honolulu, NOW.replace(hour=9, minute=30))
    phoenix_morning = await add_session(db, facility, NOW.replace(hour=7, minute=30))
    rows, total = await queries.sessions_page(
        db,
        dates=queries.today_condition(NOW),
        facility_ids=None,
        group_type=None,
        status=None,
        now=NOW,
        window=Page(0, 10),
    )
    assert [r.id for r in rows] == [phoenix_morning.id] and total == 1
    rows, _ = await queries.sessions_page(
        db,
        dates=queries.dates_condition(NOW.date() - timedelta(days=1), NOW.date() - timedelta(days=1)),
        facility_ids=[honolulu.id],
        group_type=None,
        status=None,
        now=NOW,
        window=Page(0, 10),
    )
    assert [r.id for r in rows] == [late_evening.id]


async def test_no_facility_is_an_empty_list_not_every_facility(db, facility):
    await add_session(db, facility, NOW)
    rows, total = await queries.sessions_page(
        db,
        dates=queries.today_condition(NOW),
        facility_ids=[],
        group_type=None,
        status=None,
        now=NOW,
        window=Page(0, 10),
    )
    assert rows == [] and total == 0


async def test_supervisors_are_every_supervising_staff_member_once_by_name(db, facility):
    session = await add_session(db, facility, NOW)
    zoe, adam, other = (models.Staff(name=n, facility_id=facility.id) for n in ("Zoe", "Adam", "Rendering only"))
    patients = [
        models.Patient(mrn=f"M{i}", name=f"P{i}", date_of_birth=NOW.date(), facility_id=facility.id) for i in range(3)
    ]
    db.add_all([zoe, adam, other, *patients])
    await db.flush()
    db.add_all([models.RosterEntry(session_id=session.id, patient_id=p.id) for p in patients])
    db.add_all(
        [
            models.StaffAssignment(staff_id=zoe.id, patient_id=patients[0].id, role="SUPERVISING"),
            models.StaffAssignment(staff_id=zoe.id, patient_id=patients[1].id, role="SUPERVISING"),
            models.StaffAssignment(staff_id=adam.id, patient_id=patients[2].id, role="SUPERVISING"),
            models.StaffAssignment(staff_id=other.id, patient_id=patients[2].id, role="RENDERING"),
            models.SupervisorAttendance(session_id=session.id, staff_id=zoe.id, status="ATTENDED"),
        ]
    )
    await db.flush()
    empty = uuid.uuid4()
    found = await queries.supervisors_by_session(db, [session.id, empty])
    assert found == {session.id: [(adam.id, "SCHEDULED"), (zoe.id, "ATTENDED")], empty: []}


@pytest.mark.parametrize("lock", list(queries.Lock) + [None])
async def test_a_session_reads_the_same_whatever_the_lock(db, facility, lock):
    session = await add_session(db, facility, NOW)
    assert (await queries.session(db, session.id, lock=lock)).id == session.id
    assert await queries.session(db, uuid.uuid4(), lock=lock) is None
