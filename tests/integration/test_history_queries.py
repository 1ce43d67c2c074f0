"""History and absence queries against PostgreSQL: the SQL leaves the decisions to the rules
(tallies and minutes from app.rules.history, runs from app.rules.absences), and one patient's
year is read through indexes."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql

from app.db import models
from app.db.queries import absences as absence_queries
from app.db.queries import history as queries
from app.db.queries.common import Page
from app.rules.absences import SessionMark, absence_alert
from app.rules.history import minutes_attended, tally_attendance
from tests.integration.conftest import add_group

STATUSES = ("SCHEDULED", "ATTENDED", "LATE", "ABSENT")
YEAR_START = datetime(2025, 3, 1, 16, 0, tzinfo=timezone.utc)


async def patients(db, facility, count: int) -> list[uuid.UUID]:
    rows = [
        {
            "id": uuid.uuid4(),
            "mrn": f"M{uuid.uuid4().hex[:12]}",
            "name": f"P {i}",
            "date_of_birth": datetime(1980, 1, 1).date(),
            "facility_id": facility.id,
        }
        for i in range(count)
    ]
    await db.execute(insert(models.Patient), rows)
    return [r["id"] for r in rows]


async def busy_year(db, facility, groups: list, members: list[uuid.UUID], seed: int = 7) -> list[tuple]:
    """Five sessions a week per group for a year, every member on every roster with a random
    status; some sessions cancelled. Returns (session row values, roster rows) for the first member."""
    rng = random.Random(seed)
    sessions, entries = [], []
    for g, group in enumerate(groups):
        for week in range(52):
            for day in range(5):
                starts = YEAR_START + timedelta(weeks=week, days=day, hours=g)
                sessions.append(
                    {
                        "id": uuid.uuid4(),
                        "facility_id": facility.id,
                        "group_type": group.group_type,
                        "title": group.name,
                        "group_id": group.id,
                        "starts_at": starts,
                        "ends_at": starts + timedelta(minutes=60 + 30 * g),
                        "cancelled_at": starts if rng.random() < 0.05 else None,
                    }
                )
    await db.execute(insert(models.GroupSession), sessions)
    for session in sessions:
        for patient in members:
            entries.append(
                {"id": uuid.uuid4(), "session_id": session["id"], "patient_id": patient, "status": rng.choice(STATUSES)}
            )
    for chunk in range(0, len(entries), 5000):
        await db.execute(insert(models.RosterEntry), entries[chunk : chunk + 5000])
    return sessions, entries


async def test_tallies_and_minutes_match_the_rules_over_a_year_in_five_groups(db, facility):
    groups = [await add_group(db, facility, name=f"Group {g}") for g in range(5)]
    ana, *others = await patients(db, facility, 3)
    sessions, entries = await busy_year(db, facility, groups, [ana, *others])
    start, end = YEAR_START + timedelta(days=30), YEAR_START + timedelta(days=200)
    by_id = {s["id"]: s for s in sessions}
    mine = [
        (e, by_id[e["session_id"]])
        for e in entries
        if e["patient_id"] == ana and start <= by_id[e["session_id"]]["starts_at"] < end
    ]

    tallies = {
        t.group_id: t
        for t in tally_attendance(
            await queries.attendance_buckets(
                db, ana, facility_id=facility.id, starts_from=start, starts_before=end, group_id=None
            )
        )
    }

    for group in groups:
        rows = [(e, s) for e, s in mine if s["group_id"] == group.id]
        live = [(e, s) for e, s in rows if s["cancelled_at"] is None]
        tally = tallies[group.id]
        assert tally.sessions == len(rows) and tally.cancelled == len(rows) - len(live)
        assert tally.attended == sum(e["status"] == "ATTENDED" for e, _ in live)
        assert tally.absent == sum(e["status"] == "ABSENT" for e, _ in live)
        assert tally.minutes_attended == sum(
            minutes_attended(e["status"], s["starts_at"], s["ends_at"], s["cancelled_at"] is not None) for e, s in rows
        )
    page = await queries.attendance_page(
        db,
        ana,
        facility_id=facility.id,
        starts_from=start,
        starts_before=end,
        group_id=groups[2].id,
        window=Page(0, 100),
    )
    expected = sorted(
        (s for e, s in mine if s["group_id"] == groups[2].id), key=lambda s: (s["starts_at"], s["id"]), reverse=True
    )
    assert [session.id for _, session in page] == [s["id"] for s in expected[:100]]
    assert all(entry.patient_id == ana for entry, _ in page)


async def test_one_patients_year_is_read_through_indexes(db, facility):
    """EXPLAIN of the two statements of a history request in a busy clinic: the patient's 5 groups
    with 40 members each and 15 other groups with 8, a year of sessions (5,200 sessions, 83,200
    roster rows), beside five years of another facility's sessions (60,000). Both tables are read
    through indexes: the patient's roster rows, and the facility's sessions of the year (or each by its key)."""
    groups = [await add_group(db, facility, name=f"Group {g}") for g in range(20)]
    members = await patients(db, facility, 40)
    await busy_year(db, facility, groups[:5], members)
    await busy_year(db, facility, groups[5:], await patients(db, facility, 8), seed=8)
    elsewhere = models.Facility(name="Elsewhere", state="AZ", timezone="America/Phoenix")
    db.add(elsewhere)
    await db.flush()
    await db.execute(
        text(
            "INSERT INTO group_sessions (id, facility_id, group_type, title, starts_at, ends_at) "
            "SELECT gen_random_uuid(), :facility, 'THERAPY', 'Elsewhere', t, t + interval '1 hour' "
            "FROM generate_series(timestamptz '2022-01-01', timestamptz '2026-12-31', interval '43 minutes') AS t LIMIT 60000"
        ),
        {"facility": elsewhere.id},
    )
    await db.execute(text("ANALYZE group_sessions"))
    await db.execute(text("ANALYZE roster_entries"))
    span = {
        "facility_id": facility.id,
        "starts_from": YEAR_START,
        "starts_before": YEAR_START + timedelta(days=365),
        "group_id": None,
    }
    plans = {
        "page 1": await explain(db, queries.attendance_page_query(members[0], **span, window=Page(0, 50))),
        "page 20": await explain(db, queries.attendance_page_query(members[0], **span, window=Page(950, 50))),
        "tallies": await explain(db, queries.attendance_buckets_query(members[0], **span)),
    }
    for name, plan in plans.items():
        assert "Seq Scan" not in plan, f"{name}:\n{plan}"
        assert "ix_roster_entries_patient_id" in plan or "uq_roster_entries_patient" in plan, f"{name}:\n{plan}"


async def explain(db, statement) -> str:
    compiled = statement.compile(dialect=postgresql.asyncpg.dialect())
    params = [compiled.params[name] for name in compiled.positiontup]
    raw = await db.connection()
    driver = (await raw.get_raw_connection()).driver_connection
    return "\n".join(r[0] for r in await driver.fetch("EXPLAIN " + str(compiled), *params))


async def test_marks_since_the_last_attendance_decide_like_the_whole_history(db, facility):
    """The query leaves out what cannot be part of a run; the rule's answer is the same either way."""
    group = await add_group(db, facility)
    members = await patients(db, facility, 30)
    rng = random.Random(11)
    sessions = []
    for day in range(12):
        starts = YEAR_START + timedelta(days=day)
        sessions.append(
            {
                "id": uuid.uuid4(),
                "facility_id": facility.id,
                "group_type": "IOP",
                "title": "IOP",
                "group_id": group.id,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=3),
                "cancelled_at": starts if rng.random() < 0.15 else None,
            }
        )
    await db.execute(insert(models.GroupSession), sessions)
    history: dict[uuid.UUID, list[SessionMark]] = {p: [] for p in members}
    rows = []
    for session in sessions:
        for patient in members:
            status = rng.choice(("ABSENT", "ABSENT", "ATTENDED", "LATE", "SCHEDULED"))
            rows.append({"id": uuid.uuid4(), "session_id": session["id"], "patient_id": patient, "status": status})
            history[patient].append(
                SessionMark(session["id"], session["starts_at"], status, session["cancelled_at"] is not None)
            )
    await db.execute(insert(models.RosterEntry), rows)

    recent = await absence_queries.marks_since_last_attendance(db, group.id, members)

    for patient in members:
        for threshold in (1, 2, 3):
            assert absence_alert(recent.get(patient, []), threshold) == absence_alert(history[patient], threshold)
    assert any(absence_alert(history[p], 2) for p in members) and any(not absence_alert(history[p], 2) for p in members)
