"""A patient's attendance history through the endpoint: every session they were on the roster of,
newest first and paged, with status, minutes, group and facility; tallies per group over the whole
range; the same scope and facility rules as patients and sessions; a fixed statement count."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import make_token
from tests.support.builders_history import add_sessions, mark, program
from tests.support.builders_sessions import create_session, set_now
from tests.test_query_counts import count_statements

RECORD = """id status minutesAttended title startsAt endsAt sessionDate startTime endTime sessionStatus groupId
            group { id name } facility { id timezone } session { id }"""
TALLY = "groupId title attended late absent unmarked cancelled sessions minutesAttended attendanceRate group { id }"
HISTORY = f"""
query($id: ID!, $from: Date, $to: Date, $groupId: ID, $first: Int, $after: String) {{
  node(id: $id) {{ ... on Patient {{
    attendance(from: $from, to: $to, groupId: $groupId, first: $first, after: $after) {{
      from to totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }}
      edges {{ cursor node {{ {RECORD} }} }}
      tallies {{ {TALLY} }}
    }}
  }} }}
}}"""
ROOT = f"""
query($patientId: ID!, $from: Date, $to: Date, $first: Int) {{
  patientAttendance(patientId: $patientId, from: $from, to: $to, first: $first) {{ totalCount edges {{ node {{ {RECORD} }} }} tallies {{ {TALLY} }} }}
}}"""
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


async def history(gql, patient: str, **variables) -> dict:
    return (await gql.execute(HISTORY, {"id": patient, **MARCH, **variables}))["node"]["attendance"]


@pytest.fixture
async def ana_in_two_groups(gql, clinic):
    """Ana in an IOP program (three sessions: attended, late, absent; one cancelled; one upcoming)
    and a skills group (one absence), plus an ad-hoc session she attended."""
    ana, ben = await clinic.add_patient("Ana Flores"), await clinic.add_patient("Ben Ortiz")
    iop = await program(gql, clinic, [ana, ben])
    await add_sessions(gql, iop, ["2026-03-02", "2026-03-04", "2026-03-06", "2026-03-09", "2026-03-30"])
    await mark(gql, iop.entry(0, ana), "ATTENDED")
    await mark(gql, iop.entry(1, ana), "LATE")
    await mark(gql, iop.entry(2, ana), "ABSENT")
    await mark(gql, iop.entry(3, ana), "ATTENDED")
    await gql.execute(
        'mutation($id: ID!) { cancelOccurrence(id: $id, reason: "Holiday") { id } }', {"id": iop.occurrences[3]}
    )
    skills = await program(gql, clinic, [ana], group_type="SKILLS_TRAINING", name="DBT Skills", location="Room 5")
    await add_sessions(gql, skills, ["2026-03-03"], "13:00:00", "14:00:00")
    await mark(gql, skills.entry(0, ana), "ABSENT")
    adhoc = await create_session(
        gql,
        clinic,
        patients=[ana],
        starts_at=datetime(2026, 3, 5, 15, 0, tzinfo=ZoneInfo("America/Phoenix")),
        minutes=45,
        title="Drop-in",
    )
    await mark(gql, adhoc["roster"][0]["id"], "ATTENDED")
    return {"ana": ana, "ben": ben, "iop": iop, "skills": skills, "adhoc": adhoc["id"]}


async def test_history_lists_every_session_newest_first_with_status_minutes_group_and_facility(
    gql, clinic, ana_in_two_groups
):
    iop, skills = ana_in_two_groups["iop"], ana_in_two_groups["skills"]
    found = await history(gql, ana_in_two_groups["ana"])
    assert (found["from"], found["to"], found["totalCount"]) == ("2026-03-01", "2026-03-31", 7)
    rows = [e["node"] for e in found["edges"]]
    assert [(r["sessionDate"], r["title"], r["status"], r["minutesAttended"]) for r in rows] == [
        ("2026-03-30", "IOP Mornings", "SCHEDULED", 0),
        ("2026-03-09", "IOP Mornings", "ATTENDED", 0),  # cancelled after it was marked: not held, no minutes
        ("2026-03-06", "IOP Mornings", "ABSENT", 0),
        ("2026-03-05", "Drop-in", "ATTENDED", 45),
        ("2026-03-04", "IOP Mornings", "LATE", 180),  # a late arrival counts the session's length
        ("2026-03-03", "DBT Skills", "ABSENT", 0),
        ("2026-03-02", "IOP Mornings", "ATTENDED", 180),
    ]
    assert rows[1]["sessionStatus"] == "CANCELLED"
    assert (rows[6]["startTime"], rows[6]["endTime"], rows[6]["session"]["id"]) == (
        "09:00:00",
        "12:00:00",
        iop.sessions[0],
    )
    assert rows[6]["group"]["id"] == rows[6]["groupId"] == iop.group_id and rows[5]["groupId"] == skills.group_id
    assert rows[3]["group"] is None and rows[3]["groupId"] is None
    assert {r["facility"]["id"] for r in rows} == {clinic.facility_id}


async def test_tallies_per_group_count_the_whole_range_with_a_rate_over_marked_sessions(gql, ana_in_two_groups):
    found = await history(gql, ana_in_two_groups["ana"], first=1)
    tallies = {t["title"]: t for t in found["tallies"]}
    assert list(tallies) == ["DBT Skills", "IOP Mornings", "Drop-in"]  # by name, ad-hoc sessions last
    iop = tallies["IOP Mornings"]
    assert {
        k: iop[k] for k in ("attended", "late", "absent", "unmarked", "cancelled", "sessions", "minutesAttended")
    } == {
        "attended": 1,
        "late": 1,
        "absent": 1,
        "unmarked": 1,
        "cancelled": 1,
        "sessions": 5,
        "minutesAttended": 360,
    }
    assert iop["attendanceRate"] == pytest.approx(2 / 3)
    assert iop["groupId"] == iop["group"]["id"] == ana_in_two_groups["iop"].group_id
    assert (tallies["DBT Skills"]["absent"], tallies["DBT Skills"]["attendanceRate"]) == (1, 0.0)
    assert (
        tallies["Drop-in"]["groupId"],
        tallies["Drop-in"]["attendanceRate"],
        tallies["Drop-in"]["minutesAttended"],
    ) == (None, 1.0, 45)


async def test_pages_follow_the_cursor_and_the_group_filter(gql, ana_in_two_groups):
    ana = ana_in_two_groups["ana"]
    first = await history(gql, ana, first=3)
    assert len(first["edges"]) == 3 and first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    rest = await history(gql, ana, first=10, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["sessionDate"] for e in rest["edges"]] == ["2026-03-05", "2026-03-04", "2026-03-03", "2026-03-02"]
    assert rest["pageInfo"]["hasPreviousPage"] and not rest["pageInfo"]["hasNextPage"]
    only_skills = await history(gql, ana, groupId=ana_in_two_groups["skills"].group_id)
    assert only_skills["totalCount"] == 1 and [t["title"] for t in only_skills["tallies"]] == ["DBT Skills"]


async def test_the_range_is_facility_local_dates_and_defaults_to_the_year_up_to_today(
    gql, ana_in_two_groups, test_clock
):
    ana = ana_in_two_groups["ana"]
    one_day = await history(gql, ana, **{"from": "2026-03-04", "to": "2026-03-05"})
    assert [e["node"]["title"] for e in one_day["edges"]] == ["Drop-in", "IOP Mornings"]
    set_now(test_clock, datetime(2026, 3, 10, 23, 30, tzinfo=ZoneInfo("America/Phoenix")))  # already 11 March in UTC
    default = (await gql.execute(HISTORY, {"id": ana}))["node"]["attendance"]
    assert (default["from"], default["to"], default["totalCount"]) == ("2025-03-11", "2026-03-10", 6)


async def test_patient_attendance_serves_a_session_reader_and_hides_other_facilities(gql, clinic, ana_in_two_groups):
    ana = ana_in_two_groups["ana"]
    clinician = gql.__class__(gql.http, make_token(scopes=["clinical.group-session.read"]))
    body = await clinician.post(ROOT, {"patientId": ana, **MARCH})
    assert "errors" in body.json()  # group names need the group scope...
    lean = ROOT.replace("group { id name } ", "").replace(" group { id }", "")
    found = (await clinician.execute(lean, {"patientId": ana, **MARCH}))["patientAttendance"]
    assert found["totalCount"] == 7  # ...the history itself needs only the session scope

    other = await clinic.facility(name="Elsewhere Recovery")
    outsider = gql.__class__(gql.http, make_token(facilities=[other]))
    code = (await outsider.post(lean, {"patientId": ana})).json()["errors"][0]["extensions"]["code"]
    assert code == "NOT_FOUND"
    scheduler = gql.__class__(gql.http, make_token(scopes=["pm.group_enrollments.view"]))
    refused = (await scheduler.post(HISTORY, {"id": ana})).json()
    assert (
        refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused["errors"][0]["path"][-1] == "attendance"
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"from": "2026-03-31", "to": "2026-03-01"}, "to must not be before from"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "the date range may span at most 1099 days"),
        ({"first": 101}, "first must be at most 100"),
    ],
)
async def test_bad_ranges_and_pages_are_bad_user_input(gql, clinic, variables, message):
    patient = await clinic.add_patient()
    status, code, body = await gql.error(HISTORY, {"id": patient, **variables})
    assert code == "BAD_USER_INPUT" and body["errors"][0]["message"] == message


async def test_a_patient_with_no_sessions_has_an_empty_history(gql, clinic):
    found = await history(gql, await clinic.add_patient())
    assert (found["totalCount"], found["edges"], found["tallies"]) == (0, [], [])


async def test_history_statement_count_is_fixed_whatever_the_range_or_page(gql, clinic, services):
    ana = await clinic.add_patient()
    groups = [await program(gql, clinic, [ana], name=f"Group {g}") for g in range(3)]
    for g, made in enumerate(groups):
        await add_sessions(gql, made, [f"2026-03-{day:02d}" for day in range(2 + g, 28, 4)])
        for index in range(len(made.sessions)):
            await mark(gql, made.entry(index, ana), ("ATTENDED", "LATE", "ABSENT")[index % 3])
    counts = {}
    for label, variables in {
        "a week, first 5": {"from": "2026-03-01", "to": "2026-03-07", "first": 5},
        "a month, first 5": {**MARCH, "first": 5},
        "a month, first 50": {**MARCH, "first": 50},
        "a year, first 100": {"from": "2025-04-01", "to": "2026-03-31", "first": 100},
    }.items():
        with count_statements(services) as statements:
            found = await history(gql, ana, **variables)
        assert found["totalCount"] > 0 and len(found["tallies"]) == 3
        counts[label] = len(statements)
    assert len(set(counts.values())) == 1, counts
    # node (1: the patient), facility zone, tallies, page, then one batch each for the facility and the groups.
    assert counts["a month, first 50"] <= 6, counts
