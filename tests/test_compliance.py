"""IOP/PHP compliance through the endpoint: GroupDefinition.compliance(weekOf)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from app.db import models
from tests.support.builders_scheduling import CANCEL, add_occurrence, create_group, generate

COMPLIANCE = """
query($id: ID!, $weekOf: Date) {
  group(id: $id) {
    compliance(weekOf: $weekOf) {
      program status weekStart hoursPerWeek daysPerWeek minHoursPerSessionDay
      gaps { requirement required actual shortBy date message }
    }
  }
}"""


async def compliance(gql, group: str, week_of: str | None = None) -> dict | None:
    return (await gql.execute(COMPLIANCE, {"id": group, "weekOf": week_of}))["group"]["compliance"]


async def test_readme_example_iop_three_mornings_a_week_is_compliant(gql, clinic):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        durationMinutes=180,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        recurrenceStart="2026-01-05T09:00:00-07:00",
    )
    created = await generate(gql, group, "2026-01-01", "2026-01-31")
    assert len(created["created"]) == 12
    assert await compliance(gql, group, "2026-01-14") == {
        "program": "IOP",
        "status": "COMPLIANT",
        "weekStart": "2026-01-12",
        "hoursPerWeek": 9.0,
        "daysPerWeek": 3,
        "minHoursPerSessionDay": 3.0,
        "gaps": [],
    }


async def test_iop_two_short_days_is_non_compliant_with_each_gap(gql, clinic):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        durationMinutes=120,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE",
        recurrenceStart="2026-01-05T09:00:00-07:00",
    )
    await generate(gql, group, "2026-01-01", "2026-01-31")
    result = await compliance(gql, group, "2026-01-11")
    assert result["status"] == "NON_COMPLIANT"
    assert (result["weekStart"], result["hoursPerWeek"], result["daysPerWeek"]) == ("2026-01-05", 4.0, 2)
    assert result["gaps"] == [
        {
            "requirement": "HOURS_PER_WEEK",
            "required": 9.0,
            "actual": 4.0,
            "shortBy": 5.0,
            "date": None,
            "message": "Need 5 more hours/week",
        },
        {
            "requirement": "DAYS_PER_WEEK",
            "required": 3.0,
            "actual": 2.0,
            "shortBy": 1.0,
            "date": None,
            "message": "Need 1 more day/week",
        },
        {
            "requirement": "HOURS_PER_DAY",
            "required": 3.0,
            "actual": 2.0,
            "shortBy": 1.0,
            "date": "2026-01-05",
            "message": "Need 1 more hour on 2026-01-05",
        },
        {
            "requirement": "HOURS_PER_DAY",
            "required": 3.0,
            "actual": 2.0,
            "shortBy": 1.0,
            "date": "2026-01-07",
            "message": "Need 1 more hour on 2026-01-07",
        },
    ]


async def test_without_occurrences_the_rule_is_projected_onto_the_week(gql, clinic):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        durationMinutes=180,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        recurrenceStart="2026-01-05T09:00:00-07:00",
    )
    result = await compliance(gql, group, "2026-02-04")
    assert (result["status"], result["weekStart"], result["hoursPerWeek"]) == ("COMPLIANT", "2026-02-02", 9.0)
    # Before the rule starts there is nothing to project.
    before = await compliance(gql, group, "2025-12-31")
    assert before["hoursPerWeek"] == 0 and before["status"] == "NON_COMPLIANT"


async def test_materialized_occurrences_win_over_the_rule_and_cancelled_ones_do_not_count(gql, clinic):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        durationMinutes=180,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        recurrenceStart="2026-01-05T09:00:00-07:00",
    )
    created = await generate(gql, group, "2026-01-05", "2026-01-11")
    await gql.execute(CANCEL, {"id": created["created"][2]["id"], "reason": "Holiday"})
    result = await compliance(gql, group, "2026-01-05")
    assert [g["message"] for g in result["gaps"]] == ["Need 3 more hours/week", "Need 1 more day/week"]
    # Every session of a week cancelled: the week has no programming, the rule is not projected back.
    for occurrence in created["created"][:2]:
        await gql.execute(CANCEL, {"id": occurrence["id"], "reason": "Closure"})
    assert (await compliance(gql, group, "2026-01-05"))["hoursPerWeek"] == 0


async def test_an_added_session_counts_toward_the_week(gql, clinic):
    group = await create_group(gql, clinic, groupType="IOP", durationMinutes=180)
    await add_occurrence(gql, group, "2026-01-05", "09:00:00", "12:00:00")
    await add_occurrence(gql, group, "2026-01-06", "09:00:00", "11:00:00")
    await add_occurrence(gql, group, "2026-01-06", "13:00:00", "14:00:00")
    await add_occurrence(gql, group, "2026-01-08", "09:00:00", "12:00:00")
    result = await compliance(gql, group, "2026-01-08")
    assert (result["status"], result["hoursPerWeek"], result["daysPerWeek"], result["minHoursPerSessionDay"]) == (
        "COMPLIANT",
        9.0,
        3,
        3.0,
    )


async def test_php_needs_twenty_hours_over_five_days(gql, clinic):
    daily = await create_group(
        gql,
        clinic,
        name="PHP Days",
        groupType="PHP",
        durationMinutes=240,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        recurrenceStart="2026-01-05T08:00:00-07:00",
    )
    result = await compliance(gql, daily, "2026-01-07")
    assert (result["program"], result["status"], result["hoursPerWeek"], result["daysPerWeek"]) == (
        "PHP",
        "COMPLIANT",
        20.0,
        5,
    )
    four_days = await create_group(
        gql,
        clinic,
        name="PHP Four",
        groupType="PHP",
        durationMinutes=240,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH",
        recurrenceStart="2026-01-05T08:00:00-07:00",
    )
    result = await compliance(gql, four_days, "2026-01-07")
    assert [(g["requirement"], g["shortBy"], g["message"]) for g in result["gaps"]] == [
        ("HOURS_PER_WEEK", 4.0, "Need 4 more hours/week"),
        ("DAYS_PER_WEEK", 1.0, "Need 1 more day/week"),
    ]


async def test_the_default_week_is_this_week_in_facility_time(gql, clinic, services):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        recurrenceStart="2026-01-05T09:00:00-07:00",
    )
    today = services.clock.now().astimezone(ZoneInfo("America/Phoenix")).date()
    result = await compliance(gql, group)
    assert result["weekStart"] == (today - timedelta(days=today.weekday())).isoformat()
    assert result["status"] == "COMPLIANT"


async def test_other_group_types_have_no_compliance(gql, clinic):
    group = await create_group(gql, clinic, groupType="THERAPY")
    assert await compliance(gql, group, "2026-01-05") is None


async def test_thresholds_come_from_the_data(gql, clinic, services):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        durationMinutes=180,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        recurrenceStart="2026-01-05T09:00:00-07:00",
    )
    table = models.ComplianceThreshold
    async with services.sessionmaker() as session, session.begin():
        await session.execute(update(table).where(table.program == "IOP").values(min_hours_per_week=12))
    try:
        result = await compliance(gql, group, "2026-01-05")
        assert [g["message"] for g in result["gaps"]] == ["Need 3 more hours/week"]
    finally:
        async with services.sessionmaker() as session, session.begin():
            await session.execute(update(table).where(table.program == "IOP").values(min_hours_per_week=9))


async def test_compliance_of_every_group_in_a_list(gql, clinic):
    for name, kind in [("IOP A", "IOP"), ("IOP B", "IOP"), ("PHP", "PHP"), ("Talk", "SUPPORT")]:
        await create_group(
            gql,
            clinic,
            name=name,
            groupType=kind,
            durationMinutes=180,
            recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
            recurrenceStart="2026-01-05T09:00:00-07:00",
        )
    data = await gql.execute(
        '{ groups { edges { node { name compliance(weekOf: "2026-01-07") { status hoursPerWeek } } } } }'
    )
    assert {e["node"]["name"]: e["node"]["compliance"] for e in data["groups"]["edges"]} == {
        "IOP A": {"status": "COMPLIANT", "hoursPerWeek": 9.0},
        "IOP B": {"status": "COMPLIANT", "hoursPerWeek": 9.0},
        "PHP": {"status": "NON_COMPLIANT", "hoursPerWeek": 9.0},
        "Talk": None,
    }


async def test_overlapping_occurrences_on_one_day_count_the_time_they_cover_once(gql, clinic):
    group = await create_group(gql, clinic, groupType="IOP", durationMinutes=60)
    await add_occurrence(gql, group, "2026-01-05", "13:00:00", "14:00:00")
    await add_occurrence(gql, group, "2026-01-05", "13:30:00", "14:30:00")
    await add_occurrence(gql, group, "2026-01-07", "09:00:00", "12:00:00")
    result = await compliance(gql, group, "2026-01-05")
    assert (result["hoursPerWeek"], result["daysPerWeek"], result["minHoursPerSessionDay"]) == (4.5, 2, 1.5)
    assert {
        "requirement": "HOURS_PER_DAY",
        "required": 3.0,
        "actual": 1.5,
        "shortBy": 1.5,
        "date": "2026-01-05",
        "message": "Need 1.5 more hours on 2026-01-05",
    } in result["gaps"]
