"""Occurrences: add, update, cancel, look up, list and generate from the group's rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.auth import ALL_SCOPES
from app.db import models
from app.ids import decode_id
from tests.support.builders_scheduling import (
    ADD,
    CANCEL,
    GENERATE,
    OCCURRENCE_FIELDS,
    UPDATE,
    add_occurrence,
    audit_actions,
    create_group,
    generate,
    outbox,
)

OCCURRENCES = """
query($id: ID!, $from: Date, $to: Date, $status: OccurrenceStatus, $first: Int, $after: String) {
  group(id: $id) {
    occurrences(from: $from, to: $to, status: $status, first: $first, after: $after) {
      totalCount
      edges { cursor node { sessionDate startTime status } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}"""


def raw(global_id: str, type_name: str) -> str:
    return str(decode_id(global_id, type_name))


async def occurrence_count(services) -> int:
    async with services.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(models.GroupOccurrence))


async def new_york_clinic(clinic) -> tuple[str, str]:
    facility = await clinic.facility(name="Hudson Recovery", state="NY", timezone="America/New_York")
    return facility, await clinic.add_staff("Ny Facilitator", facility_id=facility)


# ------------------------------------------------------------------ addOccurrence


async def test_add_occurrence_uses_facility_wall_time_and_the_groups_facilitator(gql, clinic, services):
    group = await create_group(gql, clinic, name="Morning IOP")
    occurrence = await add_occurrence(gql, group, "2026-01-07", "09:00:00", "12:00:00")
    assert occurrence["sessionDate"] == "2026-01-07"
    assert (occurrence["startTime"], occurrence["endTime"]) == ("09:00:00", "12:00:00")
    # Phoenix keeps -07:00 all year.
    assert datetime.fromisoformat(occurrence["startsAt"]) == datetime(2026, 1, 7, 16, 0, tzinfo=timezone.utc)
    assert datetime.fromisoformat(occurrence["endsAt"]) == datetime(2026, 1, 7, 19, 0, tzinfo=timezone.utc)
    assert occurrence["facilitator"]["id"] == clinic.staff[0]
    assert occurrence["group"]["id"] == group


async def test_add_occurrence_records_the_scheduled_event_and_an_audit_entry(gql, clinic, services):
    group = await create_group(gql, clinic, name="Morning IOP")
    occurrence = await add_occurrence(gql, group, "2026-01-07", "09:00:00", "12:00:00", facilitatorId=clinic.staff[1])
    [event] = await outbox(services, "pm_group_session_scheduled")
    assert event.payload == {
        "occurrenceId": raw(occurrence["id"], "GroupOccurrence"),
        "groupId": raw(group, "GroupDefinition"),
        "facilityId": raw(clinic.facility_id, "Facility"),
        "groupType": "IOP",
        "title": "Morning IOP",
        "startsAt": "2026-01-07T16:00:00+00:00",
        "endsAt": "2026-01-07T19:00:00+00:00",
        "sessionDate": "2026-01-07",
        "startTime": "09:00:00",
        "facilitatorId": raw(clinic.staff[1], "Staff"),
        "coFacilitatorId": None,
        "location": None,
        # The same ids as the API's global ids, which node(id:) resolves.
        "globalIds": {
            "occurrenceId": occurrence["id"],
            "groupId": group,
            "facilityId": clinic.facility_id,
            "facilitatorId": clinic.staff[1],
        },
    }
    assert "occurrence.add" in await audit_actions(services)


async def test_add_occurrence_in_new_york_follows_daylight_saving(gql, clinic):
    facility, staff = await new_york_clinic(clinic)
    group = await create_group(gql, clinic, facility_id=facility, facilitator_id=staff)
    winter = await add_occurrence(gql, group, "2026-03-06", "09:00:00", "12:00:00")
    summer = await add_occurrence(gql, group, "2026-03-09", "09:00:00", "12:00:00")
    assert datetime.fromisoformat(winter["startsAt"]).astimezone(timezone.utc).hour == 14
    assert datetime.fromisoformat(summer["startsAt"]).astimezone(timezone.utc).hour == 13


@pytest.mark.parametrize(
    "start, end, fragment",
    [
        ("12:00:00", "09:00:00", "endTime must be after startTime"),
        ("09:00:00", "09:00:00", "endTime must be after startTime"),
    ],
)
async def test_add_occurrence_rejects_an_end_not_after_its_start(gql, clinic, services, start, end, fragment):
    group = await create_group(gql, clinic)
    _, code, body = await gql.error(
        ADD, {"input": {"groupId": group, "sessionDate": "2026-01-07", "startTime": start, "endTime": end}}
    )
    assert code == "BAD_USER_INPUT" and fragment in body["errors"][0]["message"]
    assert await occurrence_count(services) == 0
    assert await outbox(services) == []


async def test_add_occurrence_facilitator_must_be_staff_of_the_groups_facility(gql, clinic, services):
    group = await create_group(gql, clinic)
    other = await clinic.facility(name="Elsewhere")
    outsider = await clinic.add_staff(facility_id=other)
    _, code, body = await gql.error(
        ADD,
        {
            "input": {
                "groupId": group,
                "sessionDate": "2026-01-07",
                "startTime": "09:00:00",
                "endTime": "12:00:00",
                "facilitatorId": outsider,
            }
        },
    )
    assert code == "BAD_USER_INPUT" and "facilitator" in body["errors"][0]["message"]
    assert await occurrence_count(services) == 0


async def test_add_occurrence_to_a_deleted_group_is_not_found(gql, clinic, services):
    group = await create_group(gql, clinic)
    await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { id } }", {"id": group})
    status, code, _ = await gql.error(
        ADD, {"input": {"groupId": group, "sessionDate": "2026-01-07", "startTime": "09:00:00", "endTime": "12:00:00"}}
    )
    assert code == "NOT_FOUND"
    assert await occurrence_count(services) == 0


async def test_second_live_occurrence_at_the_same_date_and_start_is_a_409_conflict(gql, clinic, services):
    group = await create_group(gql, clinic)
    first = await add_occurrence(gql, group, "2026-01-07", "09:00:00", "12:00:00")
    status, code, body = await gql.error(
        ADD, {"input": {"groupId": group, "sessionDate": "2026-01-07", "startTime": "09:00:00", "endTime": "10:00:00"}}
    )
    assert (status, code) == (409, "CONFLICT") and body["data"] is None
    assert len(await outbox(services, "pm_group_session_scheduled")) == 1
    # Once the first is cancelled the slot is free again.
    await gql.execute(CANCEL, {"id": first["id"], "reason": "Facilitator ill"})
    again = await add_occurrence(gql, group, "2026-01-07", "09:00:00", "12:00:00")
    assert again["id"] != first["id"] and again["cancelledAt"] is None


# ------------------------------------------------------------------ updateOccurrence


async def test_update_occurrence_changes_only_the_given_fields(gql, clinic, services):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group, "2026-01-07", "09:00:00", "12:00:00")
    updated = (
        await gql.execute(UPDATE, {"id": occurrence["id"], "input": {"startTime": "10:00:00", "endTime": "13:00:00"}})
    )["updateOccurrence"]
    assert (updated["sessionDate"], updated["startTime"], updated["endTime"]) == ("2026-01-07", "10:00:00", "13:00:00")
    assert datetime.fromisoformat(updated["startsAt"]) == datetime(2026, 1, 7, 17, 0, tzinfo=timezone.utc)
    assert updated["facilitator"]["id"] == clinic.staff[0]
    moved = (await gql.execute(UPDATE, {"id": occurrence["id"], "input": {"facilitatorId": clinic.staff[1]}}))[
        "updateOccurrence"
    ]
    assert moved["startTime"] == "10:00:00" and moved["facilitator"]["id"] == clinic.staff[1]
    events = await outbox(services, "pm_group_session_updated")
    assert [e.payload["startTime"] for e in events] == ["10:00:00", "10:00:00"]
    assert events[-1].payload["facilitatorId"] == raw(clinic.staff[1], "Staff")
    assert events[0].payload["endsAt"] == "2026-01-07T20:00:00+00:00"
    assert (await audit_actions(services)).count("occurrence.update") == 2


async def test_update_occurrence_with_nothing_changed_writes_nothing(gql, clinic, services):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    await gql.execute(UPDATE, {"id": occurrence["id"], "input": {"startTime": "09:00:00"}})
    assert await outbox(services, "pm_group_session_updated") == []


async def test_moving_an_occurrence_onto_another_live_slot_is_a_409_conflict(gql, clinic, services):
    group = await create_group(gql, clinic)
    await add_occurrence(gql, group, "2026-01-07", "09:00:00", "12:00:00")
    other = await add_occurrence(gql, group, "2026-01-09", "09:00:00", "12:00:00")
    status, code, _ = await gql.error(UPDATE, {"id": other["id"], "input": {"sessionDate": "2026-01-07"}})
    assert (status, code) == (409, "CONFLICT")
    data = await gql.execute("query($id: ID!) { occurrence(id: $id) { sessionDate } }", {"id": other["id"]})
    assert data["occurrence"]["sessionDate"] == "2026-01-09"
    assert await outbox(services, "pm_group_session_updated") == []


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"endTime": "08:00:00"}, "endTime must be after startTime"),
        ({"startTime": None}, "startTime cannot be cleared"),
        ({"sessionDate": None}, "sessionDate cannot be cleared"),
        ({"facilitatorId": None}, "facilitatorId cannot be cleared"),
    ],
)
async def test_update_occurrence_rejects_bad_input(gql, clinic, services, change, fragment):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    _, code, body = await gql.error(UPDATE, {"id": occurrence["id"], "input": change})
    assert code == "BAD_USER_INPUT" and fragment in body["errors"][0]["message"]
    assert await outbox(services, "pm_group_session_updated") == []


async def test_update_occurrence_facilitator_must_be_staff_of_the_groups_facility(gql, clinic):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    other = await clinic.facility(name="Elsewhere")
    outsider = await clinic.add_staff(facility_id=other)
    _, code, _ = await gql.error(UPDATE, {"id": occurrence["id"], "input": {"facilitatorId": outsider}})
    assert code == "BAD_USER_INPUT"


async def test_a_cancelled_occurrence_cannot_be_updated(gql, clinic):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    await gql.execute(CANCEL, {"id": occurrence["id"], "reason": "Holiday"})
    status, code, _ = await gql.error(UPDATE, {"id": occurrence["id"], "input": {"startTime": "10:00:00"}})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")


# ------------------------------------------------------------------ cancelOccurrence


async def test_cancel_occurrence_records_reason_event_and_audit(gql, clinic, services):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    cancelled = (await gql.execute(CANCEL, {"id": occurrence["id"], "reason": "  Facilitator ill "}))[
        "cancelOccurrence"
    ]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancellationReason"] == "Facilitator ill"
    assert cancelled["cancelledAt"]
    [event] = await outbox(services, "pm_group_session_cancelled")
    assert event.payload["reason"] == "Facilitator ill"
    assert event.payload["occurrenceId"] == raw(occurrence["id"], "GroupOccurrence")
    assert set(event.payload) == {
        "occurrenceId",
        "groupId",
        "facilityId",
        "groupType",
        "title",
        "startsAt",
        "endsAt",
        "sessionDate",
        "startTime",
        "facilitatorId",
        "coFacilitatorId",
        "location",
        "reason",
        "globalIds",
    }
    assert "occurrence.cancel" in await audit_actions(services)


@pytest.mark.parametrize("reason", ["", "   "])
async def test_cancel_occurrence_needs_a_reason(gql, clinic, services, reason):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    _, code, _ = await gql.error(CANCEL, {"id": occurrence["id"], "reason": reason})
    assert code == "BAD_USER_INPUT"
    assert await outbox(services, "pm_group_session_cancelled") == []


async def test_cancelling_twice_is_a_409_illegal_transition(gql, clinic, services):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    await gql.execute(CANCEL, {"id": occurrence["id"], "reason": "Holiday"})
    status, code, _ = await gql.error(CANCEL, {"id": occurrence["id"], "reason": "Again"})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")
    assert len(await outbox(services, "pm_group_session_cancelled")) == 1


async def lock_session_of(services, clinic, group: str, occurrence: dict) -> None:
    """Mark the occurrence's clinical session billed (locked), creating it if the consumer has not."""
    values = {
        "facility_id": decode_id(clinic.facility_id, "Facility"),
        "group_type": "IOP",
        "title": "Morning IOP",
        "group_id": decode_id(group, "GroupDefinition"),
        "occurrence_id": decode_id(occurrence["id"], "GroupOccurrence"),
        "starts_at": datetime.fromisoformat(occurrence["startsAt"]),
        "ends_at": datetime.fromisoformat(occurrence["endsAt"]),
        "locked_at": datetime.now(timezone.utc),
    }
    async with services.sessionmaker() as session, session.begin():
        await session.execute(
            insert(models.GroupSession)
            .values(values)
            .on_conflict_do_update(index_elements=["occurrence_id"], set_={"locked_at": values["locked_at"]})
        )


async def test_an_occurrence_whose_session_is_locked_cannot_be_cancelled(gql, clinic, services):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group, "2026-01-07")
    await lock_session_of(services, clinic, group, occurrence)
    status, code, _ = await gql.error(CANCEL, {"id": occurrence["id"], "reason": "Too late"})
    assert (status, code) == (409, "LOCKED")
    status, code, _ = await gql.error(UPDATE, {"id": occurrence["id"], "input": {"startTime": "10:00:00"}})
    assert (status, code) == (409, "LOCKED")
    assert await outbox(services, "pm_group_session_cancelled") == []


# ------------------------------------------------------------------ reading


async def test_occurrence_and_node_lookups(gql, clinic):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    by_id = await gql.execute(
        f"query($id: ID!) {{ occurrence(id: $id) {{ {OCCURRENCE_FIELDS} }} }}", {"id": occurrence["id"]}
    )
    assert by_id["occurrence"] == occurrence
    node = await gql.execute(
        "query($id: ID!) { node(id: $id) { id ... on GroupOccurrence { sessionDate } } }", {"id": occurrence["id"]}
    )
    assert node["node"] == {"id": occurrence["id"], "sessionDate": "2026-01-07"}


async def test_another_facilitys_occurrence_is_not_found(gql, clinic):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    other = await clinic.facility(name="Elsewhere")
    outsider = gql.as_(facilities=[other])
    for document in (
        "query($id: ID!) { occurrence(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ):
        _, code, _ = await outsider.error(document, {"id": occurrence["id"]})
        assert code == "NOT_FOUND"
    _, code, _ = await outsider.error(CANCEL, {"id": occurrence["id"], "reason": "x"})
    assert code == "NOT_FOUND"
    _, code, _ = await outsider.error(UPDATE, {"id": occurrence["id"], "input": {"startTime": "10:00:00"}})
    assert code == "NOT_FOUND"


async def test_occurrences_of_a_deleted_group_are_not_found(gql, clinic):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group)
    await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { id } }", {"id": group})
    _, code, _ = await gql.error("query($id: ID!) { occurrence(id: $id) { id } }", {"id": occurrence["id"]})
    assert code == "NOT_FOUND"
    _, code, _ = await gql.error(CANCEL, {"id": occurrence["id"], "reason": "x"})
    assert code == "NOT_FOUND"


async def test_occurrence_is_completed_once_its_end_has_passed(gql, clinic, test_clock):
    group = await create_group(gql, clinic)
    today = datetime.now(timezone.utc).astimezone().date() + timedelta(days=2)
    occurrence = await add_occurrence(gql, group, today.isoformat())
    assert occurrence["status"] == "SCHEDULED"
    test_clock.advance(timedelta(days=4))
    data = await gql.execute("query($id: ID!) { occurrence(id: $id) { status } }", {"id": occurrence["id"]})
    assert data["occurrence"]["status"] == "COMPLETED"


async def test_group_occurrences_filter_by_dates_and_status_and_paginate(gql, clinic, test_clock):
    group = await create_group(gql, clinic)
    base = datetime.now(timezone.utc).date() + timedelta(days=10)
    days = [base + timedelta(days=n) for n in range(5)]
    ids = [(await add_occurrence(gql, group, d.isoformat()))["id"] for d in days]
    await gql.execute(CANCEL, {"id": ids[1], "reason": "Holiday"})

    async def page(**variables):
        return (await gql.execute(OCCURRENCES, {"id": group, **variables}))["group"]["occurrences"]

    everything = await page()
    assert everything["totalCount"] == 5
    assert [e["node"]["sessionDate"] for e in everything["edges"]] == [d.isoformat() for d in days]
    window = await page(**{"from": days[1].isoformat(), "to": days[3].isoformat()})
    assert window["totalCount"] == 3
    assert (await page(status="CANCELLED"))["totalCount"] == 1
    assert (await page(status="SCHEDULED"))["totalCount"] == 4
    assert (await page(status="COMPLETED"))["totalCount"] == 0
    first = await page(first=2)
    assert first["pageInfo"]["hasNextPage"] is True and len(first["edges"]) == 2
    rest = await page(first=10, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["sessionDate"] for e in rest["edges"]] == [d.isoformat() for d in days[2:]]
    assert rest["pageInfo"]["hasPreviousPage"] is True
    test_clock.advance(timedelta(days=30))
    assert (await page(status="COMPLETED"))["totalCount"] == 4
    _, code, _ = await gql.error(OCCURRENCES, {"id": group, "first": 101})
    assert code == "BAD_USER_INPUT"
    _, code, _ = await gql.error(OCCURRENCES, {"id": group, "from": days[3].isoformat(), "to": days[1].isoformat()})
    assert code == "BAD_USER_INPUT"


# ------------------------------------------------------------------ generateOccurrences


async def test_generate_expands_the_rule_and_records_one_event_per_occurrence(gql, clinic, services):
    group = await create_group(
        gql, clinic, recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR", recurrenceStart="2026-01-05T09:00:00-07:00"
    )
    result = await generate(gql, group, "2026-01-01", "2026-01-31")
    dates = [o["sessionDate"] for o in result["created"]]
    assert dates == [
        "2026-01-05",
        "2026-01-07",
        "2026-01-09",
        "2026-01-12",
        "2026-01-14",
        "2026-01-16",
        "2026-01-19",
        "2026-01-21",
        "2026-01-23",
        "2026-01-26",
        "2026-01-28",
        "2026-01-30",
    ]
    assert result["skipped"] == 0
    assert {(o["startTime"], o["endTime"]) for o in result["created"]} == {("09:00:00", "12:00:00")}
    assert all(o["facilitator"]["id"] == clinic.staff[0] for o in result["created"])
    events = await outbox(services, "pm_group_session_scheduled")
    assert [e.payload["sessionDate"] for e in events] == dates
    assert {e.payload["occurrenceId"] for e in events} == {raw(o["id"], "GroupOccurrence") for o in result["created"]}
    assert "occurrence.generate" in await audit_actions(services)


async def test_generate_is_idempotent_and_skips_cancelled_slots(gql, clinic, services):
    group = await create_group(
        gql, clinic, recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR", recurrenceStart="2026-01-05T09:00:00-07:00"
    )
    first = await generate(gql, group, "2026-01-05", "2026-01-11")
    await gql.execute(CANCEL, {"id": first["created"][1]["id"], "reason": "Holiday"})
    again = await generate(gql, group, "2026-01-01", "2026-01-18")
    assert [o["sessionDate"] for o in again["created"]] == ["2026-01-12", "2026-01-14", "2026-01-16"]
    assert again["skipped"] == 3
    assert await occurrence_count(services) == 6
    assert len(await outbox(services, "pm_group_session_scheduled")) == 6


async def test_generate_keeps_nine_oclock_across_daylight_saving(gql, clinic):
    facility, staff = await new_york_clinic(clinic)
    group = await create_group(
        gql,
        clinic,
        facility_id=facility,
        facilitator_id=staff,
        durationMinutes=180,
        recurrenceRule="FREQ=DAILY",
        recurrenceStart="2026-03-06T09:00:00-05:00",
    )
    result = await generate(gql, group, "2026-03-06", "2026-03-10")
    assert [o["startTime"] for o in result["created"]] == ["09:00:00"] * 5
    assert [o["endTime"] for o in result["created"]] == ["12:00:00"] * 5
    utc_hours = [datetime.fromisoformat(o["startsAt"]).astimezone(timezone.utc).hour for o in result["created"]]
    assert utc_hours == [14, 14, 13, 13, 13]  # EST until Sunday 8 March, then EDT
    # Back in November the clock goes the other way.
    autumn = await generate(gql, group, "2026-10-31", "2026-11-02")
    assert [datetime.fromisoformat(o["startsAt"]).astimezone(timezone.utc).hour for o in autumn["created"]] == [
        13,
        14,
        14,
    ]


async def test_generate_anchors_the_rule_in_facility_time(gql, clinic):
    facility, staff = await new_york_clinic(clinic)
    # 14:00Z is 09:00 in New York: the rule runs at 09:00 wall time whatever offset was sent.
    group = await create_group(
        gql,
        clinic,
        facility_id=facility,
        facilitator_id=staff,
        recurrenceRule="FREQ=WEEKLY;BYDAY=TU",
        recurrenceStart="2026-01-06T14:00:00Z",
    )
    result = await generate(gql, group, "2026-06-01", "2026-06-14")
    assert [(o["sessionDate"], o["startTime"]) for o in result["created"]] == [
        ("2026-06-02", "09:00:00"),
        ("2026-06-09", "09:00:00"),
    ]


@pytest.mark.parametrize(
    "first, last, fragment",
    [
        ("2026-02-01", "2026-01-01", "from must not be after to"),
        ("2026-01-01", "2027-01-02", "at most 366 days"),
    ],
)
async def test_generate_rejects_a_bad_range(gql, clinic, services, first, last, fragment):
    group = await create_group(gql, clinic, recurrenceRule="FREQ=DAILY", recurrenceStart="2026-01-05T09:00:00-07:00")
    _, code, body = await gql.error(GENERATE, {"groupId": group, "from": first, "to": last})
    assert code == "BAD_USER_INPUT" and fragment in body["errors"][0]["message"]
    assert await occurrence_count(services) == 0


async def test_generate_accepts_exactly_366_days(gql, clinic):
    group = await create_group(
        gql, clinic, recurrenceRule="FREQ=WEEKLY;BYDAY=MO", recurrenceStart="2026-01-05T09:00:00-07:00"
    )
    result = await generate(gql, group, "2026-01-01", "2027-01-01")
    assert len(result["created"]) == 52


@pytest.mark.parametrize(
    "rule, starts",
    [
        ("FREQ=DAILY;BYHOUR=8,12,16", 3),
        ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,13", 2),
        ("FREQ=WEEKLY;BYDAY=TU;BYMINUTE=0,30", 2),
        ("FREQ=DAILY;BYSECOND=0,30", 2),
    ],
)
async def test_a_rule_with_several_starts_a_day_is_refused_as_more_frequent_than_daily(
    gql, clinic, services, rule, starts
):
    variables = {
        "input": {
            "name": "Twice a day",
            "groupType": "IOP",
            "facilityId": clinic.facility_id,
            "facilitatorId": clinic.staff[0],
            "maxCapacity": 8,
            "durationMinutes": 60,
            "recurrenceRule": rule,
            "recurrenceStart": "2026-01-05T08:00:00",
        }
    }
    _, code, body = await gql.error(
        "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }", variables
    )
    assert code == "BAD_USER_INPUT"
    assert (
        f"yields {starts} starts a day" in body["errors"][0]["message"]
        and "more frequent than DAILY" in body["errors"][0]["message"]
    )
    group = await create_group(gql, clinic, recurrenceRule="FREQ=DAILY", recurrenceStart="2026-01-05T08:00:00")
    _, code, _ = await gql.error(
        "mutation($id: ID!, $r: String!) { updateGroup(id: $id, input: {recurrenceRule: $r}) { id } }",
        {"id": group, "r": rule},
    )
    assert code == "BAD_USER_INPUT"
    assert await occurrence_count(services) == 0


RECURRENCE_START = "query($id: ID!) { group(id: $id) { recurrenceStart } }"


async def test_recurrence_start_without_an_offset_is_the_facilitys_wall_time(gql, clinic):
    facility, staff = await new_york_clinic(clinic)
    group = await create_group(
        gql,
        clinic,
        facility_id=facility,
        facilitator_id=staff,
        durationMinutes=90,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO",
        recurrenceStart="2026-03-02T09:00:00",
    )
    stored = (await gql.execute(RECURRENCE_START, {"id": group}))["group"]["recurrenceStart"]
    assert datetime.fromisoformat(stored) == datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)  # 09:00 EST
    created = (await generate(gql, group, "2026-03-02", "2026-03-16"))["created"]
    # 09:00 on the wall every Monday, before and after the 8 March change to EDT.
    assert [(o["sessionDate"], o["startTime"]) for o in created] == [
        ("2026-03-02", "09:00:00"),
        ("2026-03-09", "09:00:00"),
        ("2026-03-16", "09:00:00"),
    ]


async def test_recurrence_start_with_an_offset_is_converted_to_the_facilitys_zone(gql, clinic):
    facility, staff = await new_york_clinic(clinic)
    # 07:00 in Phoenix (-07:00) is 09:00 in New York on 2 March.
    group = await create_group(
        gql,
        clinic,
        facility_id=facility,
        facilitator_id=staff,
        durationMinutes=90,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO",
        recurrenceStart="2026-03-02T07:00:00-07:00",
    )
    created = (await generate(gql, group, "2026-03-02", "2026-03-09"))["created"]
    assert [(o["sessionDate"], o["startTime"]) for o in created] == [
        ("2026-03-02", "09:00:00"),
        ("2026-03-09", "09:00:00"),
    ]
    await gql.execute(
        'mutation($id: ID!) { updateGroup(id: $id, input: {recurrenceStart: "2026-03-02T10:30:00"}) { id } }',
        {"id": group},
    )
    stored = (await gql.execute(RECURRENCE_START, {"id": group}))["group"]["recurrenceStart"]
    assert datetime.fromisoformat(stored) == datetime(2026, 3, 2, 15, 30, tzinfo=timezone.utc)


async def test_generate_needs_a_rule(gql, clinic):
    group = await create_group(gql, clinic)
    _, code, body = await gql.error(GENERATE, {"groupId": group, "from": "2026-01-01", "to": "2026-01-31"})
    assert code == "BAD_USER_INPUT" and "no recurrenceRule" in body["errors"][0]["message"]


async def test_generate_refuses_sessions_that_run_past_midnight(gql, clinic, services):
    group = await create_group(
        gql, clinic, durationMinutes=180, recurrenceRule="FREQ=DAILY", recurrenceStart="2026-01-01T22:00:00-07:00"
    )
    _, code, body = await gql.error(GENERATE, {"groupId": group, "from": "2026-01-01", "to": "2026-01-07"})
    assert code == "BAD_USER_INPUT" and "midnight" in body["errors"][0]["message"]
    assert await occurrence_count(services) == 0


async def test_generate_for_a_deleted_group_is_not_found(gql, clinic):
    group = await create_group(gql, clinic, recurrenceRule="FREQ=DAILY", recurrenceStart="2026-01-05T09:00:00-07:00")
    await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { id } }", {"id": group})
    _, code, _ = await gql.error(GENERATE, {"groupId": group, "from": "2026-01-01", "to": "2026-01-31"})
    assert code == "NOT_FOUND"


async def test_generate_before_the_rules_start_creates_nothing(gql, clinic):
    group = await create_group(gql, clinic, recurrenceRule="FREQ=DAILY", recurrenceStart="2026-03-01T09:00:00-07:00")
    assert await generate(gql, group, "2026-01-01", "2026-01-31") == {"created": [], "skipped": 0}


# ------------------------------------------------------------------ permissions


@pytest.mark.parametrize(
    "scope, document, variables",
    [
        (
            "pm.group_schedule.create",
            ADD,
            lambda g, o: {
                "input": {"groupId": g, "sessionDate": "2026-01-09", "startTime": "09:00:00", "endTime": "12:00:00"}
            },
        ),
        ("pm.group_schedule.create", GENERATE, lambda g, o: {"groupId": g, "from": "2026-01-01", "to": "2026-01-31"}),
        ("pm.group_schedule.edit", UPDATE, lambda g, o: {"id": o, "input": {"startTime": "10:00:00"}}),
        ("pm.group_schedule.delete", CANCEL, lambda g, o: {"id": o, "reason": "Holiday"}),
        ("pm.group_schedule.view", "query($id: ID!) { occurrence(id: $id) { id } }", lambda g, o: {"id": o}),
        ("pm.group_schedule.view", "query($id: ID!) { node(id: $id) { id } }", lambda g, o: {"id": o}),
    ],
)
async def test_each_occurrence_operation_needs_its_scope(gql, clinic, services, scope, document, variables):
    group = await create_group(gql, clinic, recurrenceRule="FREQ=DAILY", recurrenceStart="2026-01-05T09:00:00-07:00")
    occurrence = await add_occurrence(gql, group)
    events_before = len(await outbox(services))
    without = gql.as_(scopes=[s for s in ALL_SCOPES if s != scope])
    _, code, body = await without.error(document, variables(group, occurrence["id"]))
    assert code == "FORBIDDEN"
    assert not any((body["data"] or {}).values())
    assert len(await outbox(services)) == events_before


async def test_group_occurrences_field_needs_the_schedule_view_scope(gql, clinic):
    group = await create_group(gql, clinic)
    await add_occurrence(gql, group)
    without = gql.as_(scopes=[s for s in ALL_SCOPES if s != "pm.group_schedule.view"])
    _, code, body = await without.error(
        "query($id: ID!) { group(id: $id) { occurrences { totalCount } } }", {"id": group}
    )
    assert code == "FORBIDDEN"
    assert body["data"]["group"] is None
    viewer = gql.as_(scopes=["pm.group_definitions.view", "pm.group_schedule.view"])
    data = await viewer.execute("query($id: ID!) { group(id: $id) { occurrences { totalCount } } }", {"id": group})
    assert data["group"]["occurrences"]["totalCount"] == 1
