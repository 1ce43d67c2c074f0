"""Managing enrollments (guide: "Managing Enrollments" and the FAQ; rules.md §5) through the endpoint."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.db import models
from app.ids import decode_id
from tests.support.builders_enrollment import (
    DISENROLL,
    ENROLL,
    REMOVE,
    UPDATE_CAPACITY,
    assert_line_is_sound,
    disenroll,
    enroll,
    enroll_new,
    group_line,
    make_group,
    stored_enrollments,
)

EVENT_KEYS = {"enrollmentId", "groupId", "patientId", "facilityId", "status", "waitlistPosition", "globalIds"}


async def enrollment_events(services) -> list[models.IntegrationEvent]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(
            select(models.IntegrationEvent)
            .where(models.IntegrationEvent.type.like("pm_group_enrollment_%"))
            .order_by(models.IntegrationEvent.id)
        )
        return list(rows.all())


async def enrollment_audit(services) -> list[models.AuditEntry]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(
            select(models.AuditEntry)
            .where(models.AuditEntry.entity_type == "Enrollment")
            .order_by(models.AuditEntry.id)
        )
        return list(rows.all())


# ------------------------------------------------------------ enrolling


async def test_enroll_below_capacity_enrolls_with_a_toast(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=8)
    await enroll_new(gql, clinic, group, 4)
    result = await enroll(gql, group, await clinic.add_patient())
    assert result["outcome"] == "ENROLLED"
    assert result["message"] == "Enrolled in Morning CBT Group (5/8)"
    assert result["enrollment"]["status"] == "ENROLLED"
    assert result["enrollment"]["enrolledAt"] and result["enrollment"]["waitlistPosition"] is None


async def test_full_group_waitlists_at_the_end_of_the_line(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=2)
    results = await enroll_new(gql, clinic, group, 5)
    assert [r["outcome"] for r in results] == ["ENROLLED", "ENROLLED", "WAITLISTED", "WAITLISTED", "WAITLISTED"]
    assert results[4]["message"] == "Group is full: waitlisted at position 3"
    assert results[4]["enrollment"]["waitlistPosition"] == 3
    assert results[4]["enrollment"]["waitlistedAt"] and results[4]["enrollment"]["enrolledAt"] is None
    line = await group_line(gql, group)
    assert line["capacity"] == {
        "enrolled": 2,
        "max": 2,
        "min": None,
        "waitlisted": 3,
        "atCapacity": True,
        "overCapacity": False,
    }
    assert line["waitlist"] == [r["enrollment"]["patient"]["id"] for r in results[2:]]
    assert line["positions"] == [1, 2, 3]


async def test_capacity_bar_below_capacity(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=3, minCapacity=2)
    await enroll_new(gql, clinic, group, 1)
    line = await group_line(gql, group)
    assert line["capacity"] == {
        "enrolled": 1,
        "max": 3,
        "min": 2,
        "waitlisted": 0,
        "atCapacity": False,
        "overCapacity": False,
    }
    assert line["waitlist"] == []


@pytest.mark.parametrize("already", ["ENROLLED", "WAITLISTED"])
async def test_enrolling_an_active_patient_again_is_a_409_conflict(gql, clinic, services, already):
    group = await make_group(gql, clinic, maxCapacity=1)
    await enroll_new(gql, clinic, group, 1 if already == "WAITLISTED" else 0)
    patient = await clinic.add_patient()
    assert (await enroll(gql, group, patient))["outcome"] == already
    status, code, body = await gql.error(ENROLL, {"groupId": group, "patientId": patient})
    assert (status, code, body["data"]) == (409, "CONFLICT", None)
    assert f"already {already}" in body["errors"][0]["message"]
    assert len(await stored_enrollments(services, group)) == (2 if already == "WAITLISTED" else 1)


async def test_a_disenrolled_patient_may_enroll_again(gql, clinic):
    group = await make_group(gql, clinic)
    patient = await clinic.add_patient()
    first = await enroll(gql, group, patient)
    await disenroll(gql, first["enrollment"]["id"])
    again = await enroll(gql, group, patient)
    assert again["outcome"] == "ENROLLED" and again["enrollment"]["id"] != first["enrollment"]["id"]


async def test_deleted_group_takes_no_enrollments(gql, clinic):
    group = await make_group(gql, clinic)
    await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { id } }", {"id": group})
    _, code, _ = await gql.error(ENROLL, {"groupId": group, "patientId": await clinic.add_patient()})
    assert code == "NOT_FOUND"


async def test_patient_of_another_facility_is_not_found(gql, clinic, services):
    group = await make_group(gql, clinic)
    other = await clinic.facility(name="Other Clinic")
    stranger = await clinic.add_patient(facility_id=other)
    _, code, body = await gql.error(ENROLL, {"groupId": group, "patientId": stranger})
    assert code == "NOT_FOUND" and "Patient" in body["errors"][0]["message"]
    assert await stored_enrollments(services, group) == []


async def test_another_facilitys_group_and_enrollments_are_not_found(gql, clinic):
    group = await make_group(gql, clinic)
    enrollment = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]["id"]
    other = await clinic.facility(name="Elsewhere")
    outsider = gql.as_(facilities=[other])
    _, code, _ = await outsider.error(ENROLL, {"groupId": group, "patientId": await clinic.add_patient()})
    assert code == "NOT_FOUND"
    for document in (DISENROLL, REMOVE):
        _, code, _ = await outsider.error(document, {"id": enrollment})
        assert code == "NOT_FOUND"
    _, code, _ = await outsider.error("query($id: ID!) { node(id: $id) { id } }", {"id": enrollment})
    assert code == "NOT_FOUND"


@pytest.mark.parametrize(
    "variables",
    [
        {"groupId": "%%%", "patientId": "x"},
        {"groupId": "GROUP", "patientId": "GROUP"},  # a group id where a patient id belongs
    ],
)
async def test_malformed_ids_are_bad_user_input(gql, clinic, variables):
    group = await make_group(gql, clinic)
    variables = {k: group if v == "GROUP" else v for k, v in variables.items()}
    _, code, _ = await gql.error(ENROLL, variables)
    assert code == "BAD_USER_INPUT"


async def test_unknown_ids_are_not_found(gql, clinic):
    from app.ids import encode_id

    group = await make_group(gql, clinic)
    nobody = encode_id("Patient", "00000000-0000-0000-0000-000000000000")
    _, code, _ = await gql.error(ENROLL, {"groupId": group, "patientId": nobody})
    assert code == "NOT_FOUND"
    _, code, _ = await gql.error(DISENROLL, {"id": encode_id("Enrollment", "00000000-0000-0000-0000-000000000000")})
    assert code == "NOT_FOUND"


# ------------------------------------------------------------ disenrolling and removing


async def test_disenroll_keeps_the_record_with_reason_and_time(gql, clinic, services):
    group = await make_group(gql, clinic)
    enrolled = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]
    result = await disenroll(gql, enrolled["id"], "Moved out of state")
    assert result["enrollment"]["status"] == "DISENROLLED"
    assert result["enrollment"]["disenrollReason"] == "Moved out of state"
    assert result["enrollment"]["disenrolledAt"] and result["enrollment"]["enrolledAt"] == enrolled["enrolledAt"]
    assert result["promoted"] is None
    assert result["message"] == "Disenrolled from Morning CBT Group"
    listed = await gql.execute(
        "query($id: ID!) { group(id: $id) { enrollments(status: [DISENROLLED]) { edges { node { id } } } } }",
        {"id": group},
    )
    assert [e["node"]["id"] for e in listed["group"]["enrollments"]["edges"]] == [enrolled["id"]]
    assert len(await stored_enrollments(services, group)) == 1


async def test_disenroll_reason_is_optional(gql, clinic):
    group = await make_group(gql, clinic)
    enrolled = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]
    result = await disenroll(gql, enrolled["id"])
    assert result["enrollment"]["status"] == "DISENROLLED" and result["enrollment"]["disenrollReason"] is None


async def test_an_overlong_disenroll_reason_is_bad_input_and_changes_nothing(gql, clinic):
    group = await make_group(gql, clinic)
    enrolled = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]
    _, code, body = await gql.error(DISENROLL, {"id": enrolled["id"], "reason": "x" * 1001})
    assert code == "BAD_USER_INPUT" and "reason must be at most 1000 characters" in body["errors"][0]["message"]
    assert (await group_line(gql, group))["capacity"]["enrolled"] == 1


async def test_disenroll_promotes_lowest_waitlist_position(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=2)
    first, _, waiting1, waiting2, waiting3 = await enroll_new(gql, clinic, group, 5)
    result = await disenroll(gql, first["enrollment"]["id"], "Completed program")
    promoted = result["promoted"]
    assert promoted["id"] == waiting1["enrollment"]["id"]
    assert promoted["status"] == "ENROLLED" and promoted["waitlistPosition"] is None and promoted["enrolledAt"]
    assert "promoted" in result["message"] and "(2/2)" in result["message"]
    line = await group_line(gql, group)
    assert line["waitlist"] == [waiting2["enrollment"]["patient"]["id"], waiting3["enrollment"]["patient"]["id"]]
    assert line["positions"] == [1, 2]
    assert line["capacity"]["enrolled"] == 2 and line["capacity"]["waitlisted"] == 2
    assert_line_is_sound(await stored_enrollments(services, group), 2)


async def test_disenrolling_a_waitlisted_patient_closes_up_positions(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=1)
    _, waiting1, waiting2, waiting3 = await enroll_new(gql, clinic, group, 4)
    result = await disenroll(gql, waiting2["enrollment"]["id"])
    assert result["promoted"] is None
    assert result["enrollment"]["status"] == "DISENROLLED" and result["enrollment"]["waitlistPosition"] is None
    assert result["message"] == "Disenrolled from the waitlist of Morning CBT Group"
    line = await group_line(gql, group)
    assert line["waitlist"] == [waiting1["enrollment"]["patient"]["id"], waiting3["enrollment"]["patient"]["id"]]
    assert line["positions"] == [1, 2]


async def test_disenrolling_twice_is_a_409_illegal_transition(gql, clinic):
    group = await make_group(gql, clinic)
    enrolled = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]
    await disenroll(gql, enrolled["id"], "first")
    status, code, body = await gql.error(DISENROLL, {"id": enrolled["id"], "reason": "again"})
    assert (status, code, body["data"]) == (409, "ILLEGAL_TRANSITION", None)
    node = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Enrollment { disenrollReason } } }", {"id": enrolled["id"]}
    )
    assert node["node"]["disenrollReason"] == "first"


async def test_remove_enrollment_soft_deletes_and_promotes(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=1)
    member, waiting1, waiting2 = await enroll_new(gql, clinic, group, 3)
    removed = (await gql.execute(REMOVE, {"id": member["enrollment"]["id"]}))["removeEnrollment"]
    assert removed["deletedAt"] and removed["status"] == "ENROLLED" and removed["waitlistPosition"] is None
    line = await group_line(gql, group)
    assert line["enrolled"] == {waiting1["enrollment"]["patient"]["id"]}
    assert line["waitlist"] == [waiting2["enrollment"]["patient"]["id"]] and line["positions"] == [1]
    total = await gql.execute("query($id: ID!) { group(id: $id) { enrollments { totalCount } } }", {"id": group})
    assert total["group"]["enrollments"]["totalCount"] == 2  # the removed row is hidden ...
    rows = await stored_enrollments(services, group)
    assert len(rows) == 3  # ... but kept for audit
    # Still readable by its id (the removal event names it), and nothing changes it any more.
    node = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Enrollment { status deletedAt } } }",
        {"id": member["enrollment"]["id"]},
    )
    assert node["node"] == {"status": "ENROLLED", "deletedAt": removed["deletedAt"]}
    _, code, _ = await gql.error(REMOVE, {"id": member["enrollment"]["id"]})
    assert code == "NOT_FOUND"
    _, code, _ = await gql.error(DISENROLL, {"id": member["enrollment"]["id"]})
    assert code == "NOT_FOUND"


async def test_removing_a_waitlisted_or_disenrolled_enrollment_promotes_nobody(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=1)
    member, waiting1, waiting2 = await enroll_new(gql, clinic, group, 3)
    await gql.execute(REMOVE, {"id": waiting1["enrollment"]["id"]})
    line = await group_line(gql, group)
    assert line["waitlist"] == [waiting2["enrollment"]["patient"]["id"]] and line["positions"] == [1]
    gone = await disenroll(gql, member["enrollment"]["id"])
    assert gone["promoted"]["id"] == waiting2["enrollment"]["id"]
    removed = (await gql.execute(REMOVE, {"id": member["enrollment"]["id"]}))["removeEnrollment"]
    assert removed["status"] == "DISENROLLED" and removed["deletedAt"]
    assert (await group_line(gql, group))["enrolled"] == {waiting2["enrollment"]["patient"]["id"]}
    assert_line_is_sound(await stored_enrollments(services, group), 1)


# ------------------------------------------------------------ capacity changes (FAQ)


async def test_editing_a_group_after_enrollment_leaves_enrollments_alone(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=2)
    results = await enroll_new(gql, clinic, group, 3)
    before = await group_line(gql, group)
    await gql.execute(
        """mutation($id: ID!) { updateGroup(id: $id, input: {name: "Evening CBT Group", facilitatorId: "%s"}) { id } }"""
        % clinic.staff[1],
        {"id": group},
    )
    assert await group_line(gql, group) == before
    nxt = await enroll(gql, group, await clinic.add_patient())
    assert nxt["message"] == "Group is full: waitlisted at position 2"
    done = await disenroll(gql, results[0]["enrollment"]["id"])
    assert done["message"].startswith("Disenrolled from Evening CBT Group")


async def test_raising_max_capacity_promotes_into_the_new_seats(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=2)
    results = await enroll_new(gql, clinic, group, 6)
    await gql.execute(UPDATE_CAPACITY, {"id": group, "max": 4})
    line = await group_line(gql, group)
    patients = [r["enrollment"]["patient"]["id"] for r in results]
    assert line["enrolled"] == set(patients[:4])
    assert line["waitlist"] == patients[4:] and line["positions"] == [1, 2]
    promoted = [e for e in await enrollment_events(services) if e.type == "pm_group_enrollment_promoted"]
    assert [e.payload["patientId"] for e in promoted] == [str(decode_id(p, "Patient")) for p in patients[2:4]]
    assert_line_is_sound(await stored_enrollments(services, group), 4)


async def test_reducing_capacity_below_enrollment_disenrolls_nobody(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=4)
    results = await enroll_new(gql, clinic, group, 5)
    await gql.execute(UPDATE_CAPACITY, {"id": group, "max": 2})
    line = await group_line(gql, group)
    assert line["capacity"] == {
        "enrolled": 4,
        "max": 2,
        "min": None,
        "waitlisted": 1,
        "atCapacity": True,
        "overCapacity": True,
    }
    assert len(line["enrolled"]) == 4
    newcomer = await enroll(gql, group, await clinic.add_patient())
    assert newcomer["outcome"] == "WAITLISTED" and newcomer["enrollment"]["waitlistPosition"] == 2
    # Still over capacity after one leaves: no seat frees, nobody is promoted.
    left = await disenroll(gql, results[0]["enrollment"]["id"])
    assert left["promoted"] is None
    assert (await group_line(gql, group))["capacity"]["overCapacity"] is True
    await disenroll(gql, results[1]["enrollment"]["id"])
    freed = await disenroll(gql, results[2]["enrollment"]["id"])
    assert freed["promoted"]["id"] == results[4]["enrollment"]["id"]
    line = await group_line(gql, group)
    assert line["capacity"]["overCapacity"] is False and line["capacity"]["enrolled"] == 2


async def test_a_patient_may_be_enrolled_in_several_groups(gql, clinic):
    patient = await clinic.add_patient()
    groups = [await make_group(gql, clinic, name=f"Group {n}") for n in range(3)]
    outcomes = [(await enroll(gql, g, patient))["outcome"] for g in groups]
    assert outcomes == ["ENROLLED"] * 3
    for g in groups:
        assert (await group_line(gql, g))["enrolled"] == {patient}


# ------------------------------------------------------------ listing


async def test_enrollments_connection_filters_and_paginates(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=3)
    results = await enroll_new(gql, clinic, group, 6)
    await disenroll(gql, results[0]["enrollment"]["id"])
    query = """query($id: ID!, $status: [EnrollmentStatus!], $first: Int, $after: String) {
      group(id: $id) { enrollments(status: $status, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id status waitlistPosition } } } } }"""
    everything = (await gql.execute(query, {"id": group}))["group"]["enrollments"]
    assert everything["totalCount"] == 6
    statuses = [e["node"]["status"] for e in everything["edges"]]
    assert statuses == ["ENROLLED"] * 3 + ["WAITLISTED"] * 2 + ["DISENROLLED"]
    assert [e["node"]["waitlistPosition"] for e in everything["edges"]][3:5] == [1, 2]
    waiting = (await gql.execute(query, {"id": group, "status": ["WAITLISTED"]}))["group"]["enrollments"]
    assert waiting["totalCount"] == 2
    page1 = (await gql.execute(query, {"id": group, "first": 4}))["group"]["enrollments"]
    assert len(page1["edges"]) == 4 and page1["pageInfo"]["hasNextPage"] is True
    page2 = await gql.execute(query, {"id": group, "first": 4, "after": page1["pageInfo"]["endCursor"]})
    page2 = page2["group"]["enrollments"]
    assert [e["node"]["id"] for e in page1["edges"] + page2["edges"]] == [e["node"]["id"] for e in everything["edges"]]
    assert page2["pageInfo"]["hasNextPage"] is False
    _, code, _ = await gql.error(query, {"id": group, "first": 101})
    assert code == "BAD_USER_INPUT"


async def test_enrollment_is_a_node_with_its_group_and_patient(gql, clinic):
    group = await make_group(gql, clinic)
    patient = await clinic.add_patient()
    enrollment = (await enroll(gql, group, patient))["enrollment"]["id"]
    data = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Enrollment { status group { id } patient { id } } } }",
        {"id": enrollment},
    )
    assert data["node"] == {"status": "ENROLLED", "group": {"id": group}, "patient": {"id": patient}}


async def test_listing_many_groups_with_their_lines_takes_a_fixed_number_of_queries(gql, clinic, services):
    document = """{ groups(first: 100) { edges { node {
        capacity { enrolled waitlisted atCapacity }
        waitlist { id waitlistPosition }
        enrollments(first: 5) { totalCount edges { node { id } } } } } } }"""

    async def statements_for_listing() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(services.engine.sync_engine, "before_cursor_execute", count)
        try:
            await gql.execute(document)
        finally:
            event.remove(services.engine.sync_engine, "before_cursor_execute", count)
        return len(seen)

    patients = [await clinic.add_patient() for _ in range(3)]
    first = await make_group(gql, clinic, name="Group 0", maxCapacity=2)
    for p in patients:
        await enroll(gql, first, p)
    few = await statements_for_listing()
    for n in range(1, 50):
        group = await make_group(gql, clinic, name=f"Group {n:02d}", maxCapacity=2)
        if n % 10 == 0:
            for p in patients:
                await enroll(gql, group, p)
    many = await statements_for_listing()
    assert many == few <= 6, (few, many)


# ------------------------------------------------------------ audit and events


async def test_every_change_is_audited_and_announced(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=1)
    member, waiting1, waiting2 = await enroll_new(gql, clinic, group, 3)
    await disenroll(gql, member["enrollment"]["id"], "Discharged")
    await gql.execute(REMOVE, {"id": waiting2["enrollment"]["id"]})

    events = await enrollment_events(services)
    assert [e.type for e in events] == [
        "pm_group_enrollment_enrolled",
        "pm_group_enrollment_waitlisted",
        "pm_group_enrollment_waitlisted",
        "pm_group_enrollment_disenrolled",
        "pm_group_enrollment_promoted",
        "pm_group_enrollment_removed",
    ]
    assert all(set(e.payload) == EVENT_KEYS for e in events)
    group_pk, facility_pk = str(decode_id(group, "GroupDefinition")), str(decode_id(clinic.facility_id, "Facility"))
    assert events[2].payload == {
        "enrollmentId": str(decode_id(waiting2["enrollment"]["id"], "Enrollment")),
        "groupId": group_pk,
        "patientId": str(decode_id(waiting2["enrollment"]["patient"]["id"], "Patient")),
        "facilityId": facility_pk,
        "status": "WAITLISTED",
        "waitlistPosition": 2,
        "globalIds": {
            "enrollmentId": waiting2["enrollment"]["id"],
            "groupId": group,
            "patientId": waiting2["enrollment"]["patient"]["id"],
            "facilityId": clinic.facility_id,
        },
    }
    assert events[4].payload["status"] == "ENROLLED" and events[4].payload["waitlistPosition"] is None
    assert events[4].payload["enrollmentId"] == str(decode_id(waiting1["enrollment"]["id"], "Enrollment"))

    audit = await enrollment_audit(services)
    assert [a.action for a in audit] == [
        "enrollment.enrolled",
        "enrollment.waitlisted",
        "enrollment.waitlisted",
        "enrollment.disenrolled",
        "enrollment.waitlist_moved",
        "enrollment.promoted",
        "enrollment.removed",
    ]
    assert all(a.actor == "tester" and a.group_id == decode_id(group, "GroupDefinition") for a in audit)
    disenrolled = audit[3]
    assert disenrolled.reason == "Discharged"
    assert disenrolled.before["status"] == "ENROLLED" and disenrolled.after["status"] == "DISENROLLED"
    moved = audit[4]
    assert (moved.before["waitlistPosition"], moved.after["waitlistPosition"]) == (2, 1)
    assert audit[0].before is None and audit[0].after["status"] == "ENROLLED"
    assert "Patient" not in str([(a.before, a.after) for a in audit])  # ids only, no names


async def test_a_capacity_change_that_promotes_is_audited_as_promotions(gql, clinic, services):
    group = await make_group(gql, clinic, maxCapacity=1)
    await enroll_new(gql, clinic, group, 2)
    await gql.execute(UPDATE_CAPACITY, {"id": group, "max": 2})
    audit = await enrollment_audit(services)
    assert audit[-1].action == "enrollment.promoted" and audit[-1].after["status"] == "ENROLLED"
    assert audit[-1].after["enrolledAt"]


# ------------------------------------------------------------ permissions


async def test_enrolling_needs_the_create_scope(gql, clinic, services):
    group = await make_group(gql, clinic)
    patient = await clinic.add_patient()
    others = ["pm.group_enrollments.view", "pm.group_enrollments.edit", "pm.group_enrollments.delete"]
    _, code, body = await gql.as_(scopes=others).error(ENROLL, {"groupId": group, "patientId": patient})
    assert code == "FORBIDDEN" and body["data"] is None
    assert await stored_enrollments(services, group) == []
    allowed = gql.as_(scopes=["pm.group_enrollments.create"])
    assert (await allowed.execute(ENROLL, {"groupId": group, "patientId": patient}))["enrollPatient"][
        "outcome"
    ] == "ENROLLED"


async def test_disenrolling_needs_the_edit_scope(gql, clinic):
    group = await make_group(gql, clinic)
    enrolled = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]["id"]
    others = ["pm.group_enrollments.view", "pm.group_enrollments.create", "pm.group_enrollments.delete"]
    _, code, _ = await gql.as_(scopes=others).error(DISENROLL, {"id": enrolled})
    assert code == "FORBIDDEN"
    allowed = gql.as_(scopes=["pm.group_enrollments.edit"])
    assert (await allowed.execute(DISENROLL, {"id": enrolled}))["disenrollPatient"]["enrollment"][
        "status"
    ] == "DISENROLLED"


async def test_removing_needs_the_delete_scope(gql, clinic):
    group = await make_group(gql, clinic)
    enrolled = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]["id"]
    others = ["pm.group_enrollments.view", "pm.group_enrollments.create", "pm.group_enrollments.edit"]
    _, code, _ = await gql.as_(scopes=others).error(REMOVE, {"id": enrolled})
    assert code == "FORBIDDEN"
    allowed = gql.as_(scopes=["pm.group_enrollments.delete"])
    assert (await allowed.execute(REMOVE, {"id": enrolled}))["removeEnrollment"]["deletedAt"]


@pytest.mark.parametrize(
    "field",
    ["enrollments { totalCount }", "waitlist { id }"],
)
async def test_reading_enrollments_needs_the_view_scope(gql, clinic, field):
    group = await make_group(gql, clinic)
    await enroll(gql, group, await clinic.add_patient())
    document = "query($id: ID!) { group(id: $id) { name %s } }" % field
    _, code, body = await gql.as_(scopes=["pm.group_definitions.view"]).error(document, {"id": group})
    assert code == "FORBIDDEN" and body["data"]["group"] is None
    viewer = gql.as_(scopes=["pm.group_definitions.view", "pm.group_enrollments.view"])
    assert (await viewer.execute(document, {"id": group}))["group"]["name"] == "Morning CBT Group"


async def test_enrollment_node_needs_the_view_scope(gql, clinic):
    group = await make_group(gql, clinic)
    enrollment = (await enroll(gql, group, await clinic.add_patient()))["enrollment"]["id"]
    document = "query($id: ID!) { node(id: $id) { id } }"
    _, code, _ = await gql.as_(scopes=["pm.group_definitions.view"]).error(document, {"id": enrollment})
    assert code == "FORBIDDEN"
    viewer = gql.as_(scopes=["pm.group_enrollments.view"])
    assert (await viewer.execute(document, {"id": enrollment}))["node"]["id"] == enrollment


async def test_capacity_is_visible_with_the_group_view_scope(gql, clinic):
    group = await make_group(gql, clinic)
    await enroll(gql, group, await clinic.add_patient())
    viewer = gql.as_(scopes=["pm.group_definitions.view"])
    data = await viewer.execute("query($id: ID!) { group(id: $id) { capacity { enrolled } } }", {"id": group})
    assert data["group"]["capacity"]["enrolled"] == 1
