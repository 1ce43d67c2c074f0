"""Group definitions: create, update, soft delete, list, permissions and validation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.builders_scheduling import add_occurrence
from tests.support.builders_sessions import set_now

CREATE = """
mutation($input: CreateGroupInput!) {
  createGroup(input: $input) {
    id name groupType maxCapacity minCapacity durationMinutes recurrenceRule recurrenceStart
    location facility { id } facilitator { id } coFacilitator { id } deletedAt
  }
}"""


def group_input(clinic, **overrides):
    data = {
        "name": "Morning CBT Group",
        "groupType": "THERAPY",
        "facilityId": clinic.facility_id,
        "facilitatorId": clinic.staff[0],
        "maxCapacity": 8,
        "durationMinutes": 90,
    }
    data.update(overrides)
    return data


async def create_group(gql, clinic, **overrides) -> dict:
    return (await gql.execute(CREATE, {"input": group_input(clinic, **overrides)}))["createGroup"]


async def test_create_group_with_recurrence(gql, clinic):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        coFacilitatorId=clinic.staff[1],
        minCapacity=3,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        recurrenceStart="2026-01-05T09:00:00-07:00",
        location="Room 2",
    )
    assert group["groupType"] == "IOP"
    assert group["recurrenceRule"] == "FREQ=WEEKLY;BYDAY=MO,WE,FR"
    assert group["coFacilitator"]["id"] == clinic.staff[1]
    assert group["facility"]["id"] == clinic.facility_id


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"maxCapacity": 0}, "maxCapacity must be positive"),
        ({"minCapacity": 9}, "minCapacity must not exceed maxCapacity"),
        ({"minCapacity": 0}, "minCapacity must be positive"),
        ({"durationMinutes": 4}, "durationMinutes must be between 5 and 720"),
        ({"durationMinutes": 721}, "durationMinutes must be between 5 and 720"),
        ({"name": "  "}, "name must not be empty"),
        ({"recurrenceRule": "FREQ=WEEKLY;BYDAY=MO"}, "recurrenceStart is required"),
        ({"recurrenceRule": "FREQ=HOURLY", "recurrenceStart": "2026-01-05T09:00:00-07:00"}, "more frequent than DAILY"),
        ({"recurrenceRule": "FREQ=SOMETIMES", "recurrenceStart": "2026-01-05T09:00:00-07:00"}, "FREQ must be one of"),
        (
            {
                "recurrenceRule": "DTSTART:20260105T090000\nRRULE:FREQ=DAILY",
                "recurrenceStart": "2026-01-05T09:00:00-07:00",
            },
            "no DTSTART",
        ),
    ],
)
async def test_create_group_rejects_bad_input(gql, clinic, overrides, fragment):
    status, code, body = await gql.error(CREATE, {"input": group_input(clinic, **overrides)})
    assert code == "BAD_USER_INPUT"
    assert fragment in body["errors"][0]["message"]
    assert (await gql.execute("{ groups { totalCount } }"))["groups"]["totalCount"] == 0


async def test_facilitator_must_belong_to_the_facility(gql, clinic):
    other = await clinic.facility(name="Other Clinic")
    outsider = await clinic.add_staff(facility_id=other)
    _, code, body = await gql.error(CREATE, {"input": group_input(clinic, facilitatorId=outsider)})
    assert code == "BAD_USER_INPUT" and "facilitator" in body["errors"][0]["message"]


async def test_co_facilitator_must_differ(gql, clinic):
    _, code, body = await gql.error(CREATE, {"input": group_input(clinic, coFacilitatorId=clinic.staff[0])})
    assert code == "BAD_USER_INPUT" and "coFacilitator must differ" in body["errors"][0]["message"]


async def test_update_changes_only_given_fields(gql, clinic):
    group = await create_group(gql, clinic, location="Room 1", minCapacity=2)
    data = await gql.execute(
        """mutation($id: ID!, $input: UpdateGroupInput!) {
             updateGroup(id: $id, input: $input) { name location minCapacity maxCapacity durationMinutes }
           }""",
        {"id": group["id"], "input": {"name": "Evening CBT", "location": None}},
    )
    assert data["updateGroup"] == {
        "name": "Evening CBT",
        "location": None,
        "minCapacity": 2,
        "maxCapacity": 8,
        "durationMinutes": 90,
    }


async def test_update_cannot_break_capacity_rules(gql, clinic):
    group = await create_group(gql, clinic, minCapacity=4)
    _, code, _ = await gql.error(
        """mutation($id: ID!) { updateGroup(id: $id, input: {maxCapacity: 3}) { id } }""", {"id": group["id"]}
    )
    assert code == "BAD_USER_INPUT"
    data = await gql.execute("query($id: ID!) { group(id: $id) { maxCapacity } }", {"id": group["id"]})
    assert data["group"]["maxCapacity"] == 8


async def test_soft_deleted_group_is_hidden_unless_include_deleted(gql, clinic):
    group = await create_group(gql, clinic)
    deleted = await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { deletedAt } }", {"id": group["id"]})
    assert deleted["deleteGroup"]["deletedAt"]
    assert (await gql.execute("{ groups { totalCount } }"))["groups"]["totalCount"] == 0
    _, code, _ = await gql.error("query($id: ID!) { group(id: $id) { id } }", {"id": group["id"]})
    assert code == "NOT_FOUND"
    _, code, _ = await gql.as_(scopes=["pm.group_definitions.view"]).error(
        "query($id: ID!) { node(id: $id) { id } }", {"id": group["id"]}
    )
    assert code == "NOT_FOUND"
    listed = await gql.execute("{ groups(filter: {includeDeleted: true}) { edges { node { id deletedAt } } } }")
    assert [e["node"]["id"] for e in listed["groups"]["edges"]] == [group["id"]]


async def test_include_deleted_needs_the_delete_scope(gql, clinic):
    viewer = gql.as_(scopes=["pm.group_definitions.view"])
    _, code, body = await viewer.error("{ groups(filter: {includeDeleted: true}) { totalCount } }")
    assert code == "FORBIDDEN" and body["data"] is None


async def test_groups_list_filters_and_paginates(gql, clinic):
    for name, kind in [
        ("Anger Skills", "SKILLS_TRAINING"),
        ("CBT A", "THERAPY"),
        ("CBT B", "THERAPY"),
        ("IOP Mornings", "IOP"),
    ]:
        await create_group(gql, clinic, name=name, groupType=kind)
    by_type = await gql.execute("{ groups(filter: {groupType: THERAPY}) { totalCount edges { node { name } } } }")
    assert [e["node"]["name"] for e in by_type["groups"]["edges"]] == ["CBT A", "CBT B"]
    by_name = await gql.execute('{ groups(filter: {search: "cbt"}) { totalCount } }')
    assert by_name["groups"]["totalCount"] == 2
    first = await gql.execute(
        "{ groups(first: 3) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }"
    )
    assert first["groups"]["pageInfo"]["hasNextPage"] is True
    rest = await gql.execute(
        "query($after: String) { groups(first: 3, after: $after) { edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } }",
        {"after": first["groups"]["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["name"] for e in rest["groups"]["edges"]] == ["IOP Mornings"]
    assert rest["groups"]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}


async def test_another_facilitys_group_is_not_found(gql, clinic):
    group = await create_group(gql, clinic)
    other = await clinic.facility(name="Elsewhere")
    outsider = gql.as_(facilities=[other])
    _, code, _ = await outsider.error("query($id: ID!) { group(id: $id) { id } }", {"id": group["id"]})
    assert code == "NOT_FOUND"
    assert (await outsider.execute("{ groups { totalCount } }"))["groups"]["totalCount"] == 0
    _, code, _ = await outsider.error(
        'mutation($id: ID!) { updateGroup(id: $id, input: {name: "x"}) { id } }', {"id": group["id"]}
    )
    assert code == "NOT_FOUND"


@pytest.mark.parametrize(
    "scope, document",
    [
        ("pm.group_definitions.create", CREATE),
        ("pm.group_definitions.edit", 'mutation($id: ID!) { updateGroup(id: $id, input: {name: "x"}) { id } }'),
        ("pm.group_definitions.delete", "mutation($id: ID!) { deleteGroup(id: $id) { id } }"),
        ("pm.group_definitions.view", "query($id: ID!) { group(id: $id) { id } }"),
    ],
)
async def test_each_group_operation_needs_its_scope(gql, clinic, scope, document):
    group = await create_group(gql, clinic)
    from app.auth import ALL_SCOPES

    without = gql.as_(scopes=[s for s in ALL_SCOPES if s != scope])
    variables = {"id": group["id"], "input": group_input(clinic)}
    _, code, body = await without.error(document, variables)
    assert code == "FORBIDDEN"
    assert not any((body["data"] or {}).values())


OCCURRENCE_WITH_SESSION = """
query($id: ID!) {
  node(id: $id) { ... on GroupOccurrence { status cancellationReason session { id status roster { id } } } }
}"""
SESSION_EVENTS = """
{ integrationEvents(first: 100) { edges { node { type payload } } } }"""


async def test_deleting_a_group_cancels_its_occurrences_that_have_not_started_with_their_sessions(
    gql, clinic, test_clock
):
    set_now(test_clock, datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("America/Phoenix")))
    group = await create_group(gql, clinic)
    await gql.execute(
        "mutation($g: ID!, $p: ID!) { enrollPatient(groupId: $g, patientId: $p) { enrollment { id } } }",
        {"g": group["id"], "p": await clinic.add_patient()},
    )
    past = await add_occurrence(gql, group["id"], "2026-03-09", "09:00:00", "10:30:00")
    future = [
        await add_occurrence(gql, group["id"], day, "09:00:00", "10:30:00") for day in ("2026-03-11", "2026-03-18")
    ]

    await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { deletedAt } }", {"id": group["id"]})

    for occurrence in future:
        read = (await gql.execute(OCCURRENCE_WITH_SESSION, {"id": occurrence["id"]}))["node"]
        assert (read["status"], read["cancellationReason"], read["session"]["status"]) == (
            "CANCELLED",
            "The group was deleted",
            "CANCELLED",
        )
    kept = (await gql.execute(OCCURRENCE_WITH_SESSION, {"id": past["id"]}))["node"]
    assert (
        kept["status"] != "CANCELLED"
        and kept["session"]["status"] != "CANCELLED"
        and len(kept["session"]["roster"]) == 1
    )
    events = [e["node"] for e in (await gql.execute(SESSION_EVENTS))["integrationEvents"]["edges"]]
    cancelled = [e["payload"] for e in events if e["type"] == "pm_group_session_cancelled"]
    assert sorted(p["globalIds"]["occurrenceId"] for p in cancelled) == sorted(o["id"] for o in future)
    assert {p["reason"] for p in cancelled} == {"The group was deleted"}
    listed = await gql.execute(
        '{ groupSessions(filter: {from: "2026-03-11", to: "2026-03-31"}) { edges { node { status } } } }'
    )
    assert [e["node"]["status"] for e in listed["groupSessions"]["edges"]] == ["CANCELLED", "CANCELLED"]


async def test_the_ids_in_a_deleted_groups_events_resolve_for_whoever_reads_the_events(gql, clinic):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group["id"], "2027-01-05", "09:00:00", "10:30:00")
    await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { id } }", {"id": group["id"]})
    integrator = gql.as_(scopes=["events.read", "pm.group_definitions.view", "pm.group_schedule.view"])
    events = [e["node"] for e in (await integrator.execute(SESSION_EVENTS))["integrationEvents"]["edges"]]
    ids = next(e["payload"]["globalIds"] for e in events if e["type"] == "pm_group_session_cancelled")
    assert (ids["groupId"], ids["occurrenceId"]) == (group["id"], occurrence["id"])

    found = await integrator.execute(
        """query($group: ID!, $occurrence: ID!) {
          group: node(id: $group) { ... on GroupDefinition { id name deletedAt } }
          occurrence: node(id: $occurrence) { ... on GroupOccurrence { id status group { id deletedAt } } }
        }""",
        {"group": ids["groupId"], "occurrence": ids["occurrenceId"]},
    )
    assert found["group"]["name"] == "Morning CBT Group" and found["group"]["deletedAt"]
    assert found["occurrence"]["status"] == "CANCELLED"
    assert found["occurrence"]["group"] == {"id": group["id"], "deletedAt": found["group"]["deletedAt"]}

    scheduler = gql.as_(scopes=["pm.group_definitions.view", "pm.group_schedule.view"])
    for node_id in (ids["groupId"], ids["occurrenceId"]):
        _, code, _ = await scheduler.error("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
        assert code == "NOT_FOUND"  # a deleted group stays out of sight of those who do not follow events
    _, code, _ = await integrator.error("query($id: ID!) { occurrence(id: $id) { id } }", {"id": occurrence["id"]})
    assert code == "NOT_FOUND"  # lookups by type keep hiding it, as group(id:) does without includeDeleted


@pytest.mark.parametrize(
    ("timezone", "sent", "read"),
    [
        ("America/Phoenix", "2026-01-05T13:00:00-07:00", "2026-01-05T13:00:00-07:00"),
        ("America/Phoenix", "2026-01-05T20:00:00+00:00", "2026-01-05T13:00:00-07:00"),
        ("America/Phoenix", "2026-01-05T13:00:00", "2026-01-05T13:00:00-07:00"),  # no offset: the facility's wall time
        ("America/New_York", "2026-07-06T09:00:00", "2026-07-06T09:00:00-04:00"),
        ("America/New_York", "2026-01-05T14:00:00Z", "2026-01-05T09:00:00-05:00"),
    ],
)
async def test_recurrence_start_reads_back_in_the_facilitys_wall_time_with_its_offset(
    gql, clinic, timezone, sent, read
):
    facility = await clinic.facility(name=f"Clinic in {timezone}", state="AZ", timezone=timezone)
    staff = await clinic.add_staff(facility_id=facility)
    created = await create_group(
        gql,
        clinic,
        facilityId=facility,
        facilitatorId=staff,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO",
        recurrenceStart=sent,
    )
    assert created["recurrenceStart"] == read
    again = await gql.execute("query($id: ID!) { group(id: $id) { recurrenceStart } }", {"id": created["id"]})
    assert again["group"]["recurrenceStart"] == read
