"""Group edits take effect (the scheduling guide's FAQ): a new name, facilitator, co-facilitator,
location or duration reaches the group's future occurrences that have not started and their
sessions, with pm_group_session_updated events; started, ended and billed ones keep what they had."""

from __future__ import annotations

from tests.support.builders_scheduling import add_occurrence, create_group
from tests.support.builders_sessions import NOW, set_now

OCCURRENCE = """query($id: ID!) { occurrence(id: $id) {
  startTime endTime location facilitator { id } coFacilitator { id }
  session { title facilitator { id } endsAt } } }"""
EDIT = """mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id name } }"""
EVENTS = "{ integrationEvents(first: 100) { edges { node { type payload } } } }"


async def read(gql, occurrence_id: str) -> dict:
    return (await gql.execute(OCCURRENCE, {"id": occurrence_id}))["occurrence"]


async def test_future_occurrences_and_their_sessions_follow_the_groups_edits(gql, clinic, test_clock):
    set_now(test_clock, NOW)  # 10:00 on 10 March, Phoenix
    dana, marcus, priya, tomas = (
        clinic.staff[0],
        await clinic.add_staff("Marcus"),
        await clinic.add_staff("Priya"),
        await clinic.add_staff("Tomas"),
    )
    group = await create_group(
        gql, clinic, name="Morning CBT", groupType="THERAPY", durationMinutes=90, facilitatorId=dana, location="Room 1"
    )
    ended = (await add_occurrence(gql, group, "2026-03-09", "09:00:00", "10:30:00"))["id"]
    started = (await add_occurrence(gql, group, "2026-03-10", "09:30:00", "11:00:00"))["id"]
    future = (await add_occurrence(gql, group, "2026-03-11", "09:00:00", "10:30:00"))["id"]
    substitute = (await add_occurrence(gql, group, "2026-03-12", "09:00:00", "10:30:00", facilitatorId=priya))["id"]
    shortened = (await add_occurrence(gql, group, "2026-03-13", "09:00:00", "10:00:00"))["id"]
    before = len((await gql.execute(EVENTS))["integrationEvents"]["edges"])

    await gql.execute(
        EDIT,
        {
            "id": group,
            "input": {
                "name": "Evening CBT",
                "facilitatorId": marcus,
                "coFacilitatorId": tomas,
                "location": "Room 4",
                "durationMinutes": 120,
            },
        },
    )

    for kept in (ended, started):
        occurrence = await read(gql, kept)
        assert occurrence["facilitator"]["id"] == dana and occurrence["location"] == "Room 1"
        assert occurrence["coFacilitator"] is None and occurrence["session"]["title"] == "Morning CBT"
        assert occurrence["session"]["facilitator"]["id"] == dana
    assert (await read(gql, started))["endTime"] == "11:00:00"

    moved = await read(gql, future)
    assert (moved["startTime"], moved["endTime"], moved["location"]) == ("09:00:00", "11:00:00", "Room 4")
    assert moved["facilitator"]["id"] == marcus and moved["coFacilitator"]["id"] == tomas
    assert moved["session"]["title"] == "Evening CBT" and moved["session"]["facilitator"]["id"] == marcus
    assert moved["session"]["endsAt"] == "2026-03-11T18:00:00+00:00"

    kept_substitute = await read(gql, substitute)
    assert kept_substitute["facilitator"]["id"] == priya and kept_substitute["session"]["facilitator"]["id"] == priya
    assert kept_substitute["endTime"] == "11:00:00" and kept_substitute["session"]["title"] == "Evening CBT"
    kept_short = await read(gql, shortened)
    assert kept_short["endTime"] == "10:00:00" and kept_short["facilitator"]["id"] == marcus  # a one-off length stays

    edges = (await gql.execute(EVENTS))["integrationEvents"]["edges"][before:]
    updated = [e["node"]["payload"] for e in edges if e["node"]["type"] == "pm_group_session_updated"]
    assert len(updated) == 3 and {p["title"] for p in updated} == {"Evening CBT"}
    assert {p["location"] for p in updated} == {"Room 4"}


async def test_a_rename_alone_retitles_future_sessions_and_a_duration_past_midnight_is_refused(gql, clinic, test_clock):
    set_now(test_clock, NOW)
    group = await create_group(gql, clinic, name="Grief Circle", groupType="SUPPORT", durationMinutes=60)
    late = (await add_occurrence(gql, group, "2026-03-11", "22:30:00", "23:30:00"))["id"]
    await gql.execute(EDIT, {"id": group, "input": {"name": "Grief Support Circle"}})
    assert (await read(gql, late))["session"]["title"] == "Grief Support Circle"
    _, code, body = await gql.error(EDIT, {"id": group, "input": {"durationMinutes": 120}})
    assert code == "BAD_USER_INPUT" and "past midnight" in body["errors"][0]["message"]
    group_now = await gql.execute("query($id: ID!) { group(id: $id) { durationMinutes } }", {"id": group})
    assert group_now["group"]["durationMinutes"] == 60 and (await read(gql, late))["endTime"] == "23:30:00"
