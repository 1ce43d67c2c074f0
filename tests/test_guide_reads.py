"""What the guides show and the API reads: the staff list (the facilitator picker), staff assignments
and their removal (the Supervisors card's fix), a group below its minimum, who updateGroup and
removeEnrollment promoted, a group's enrollment history and the audit logs of groups and enrollments."""

from __future__ import annotations

from tests.support.builders_enrollment import enroll, enroll_new, make_group
from tests.support.builders_sessions import create_session

STAFF = """query($f: ID, $s: String) { staff(facilityId: $f, search: $s) { totalCount edges { node { id name } } } }"""
ASSIGNMENTS = """query($staff: ID, $patient: ID, $role: StaffAssignmentRole) {
  staffAssignments(staffId: $staff, patientId: $patient, role: $role) { totalCount edges { node { id role staff { id } patient { id } } } } }"""
REMOVE_ASSIGNMENT = "mutation($id: ID!) { removeStaffAssignment(id: $id) { id role staff { id } } }"
CAPACITY = "query($id: ID!) { group(id: $id) { capacity { enrolled min belowMinimum } } }"
HISTORY = """query($id: ID!) { group(id: $id) {
  enrollmentHistory(first: 10) { totalCount edges { node { id status deletedAt disenrolledAt } } }
  auditLog(first: 20) { totalCount edges { node { action entityType entityId actor } } } } }"""


async def test_staff_are_listed_by_facility_and_searched_by_name(gql, clinic):
    await clinic.add_staff("Marcus Oyelaran, LPC")
    other = await clinic.facility("Elsewhere")
    await clinic.add_staff("Danielle Elsewhere", facility_id=other)
    names = lambda data: [e["node"]["name"] for e in data["staff"]["edges"]]  # noqa: E731
    assert names(await gql.execute(STAFF, {"f": clinic.facility_id})) == [
        "Dana Facilitator",
        "Marcus Oyelaran, LPC",
        "Sam Supervisor",
    ]
    assert names(await gql.execute(STAFF, {"f": clinic.facility_id, "s": "dan"})) == ["Dana Facilitator"]
    assert names(await gql.execute(STAFF, {"s": "dan"})) == ["Dana Facilitator", "Danielle Elsewhere"]
    assert names(await gql.execute(STAFF, {"s": "%"})) == []  # a wildcard is a character
    home_only = gql.as_(facilities=[clinic.facility_id])
    assert names(await home_only.execute(STAFF, {"s": "dan"})) == ["Dana Facilitator"]
    _, code, _ = await home_only.error(STAFF, {"f": other})
    assert code == "NOT_FOUND"


async def test_a_wrong_supervisor_is_listed_and_removed_and_leaves_the_supervisors_card(gql, clinic, test_clock):
    patient = await clinic.add_patient()
    await clinic.supervise(clinic.staff[1], patient)
    await clinic.supervise(clinic.staff[0], patient)  # the wrong one
    listed = (await gql.execute(ASSIGNMENTS, {"patient": patient}))["staffAssignments"]
    assert listed["totalCount"] == 2 and {e["node"]["role"] for e in listed["edges"]} == {"SUPERVISING"}
    wrong = next(e["node"] for e in listed["edges"] if e["node"]["staff"]["id"] == clinic.staff[0])
    assert (await gql.execute(ASSIGNMENTS, {"staff": clinic.staff[0], "role": "SUPERVISING"}))["staffAssignments"][
        "totalCount"
    ] == 1
    assert (await gql.execute(ASSIGNMENTS, {"role": "RENDERING"}))["staffAssignments"]["totalCount"] == 0

    session = await create_session(gql, clinic, patients=[patient])
    card = "query($id: ID!) { groupSession(id: $id) { supervisors { staff { id } } } }"
    assert len((await gql.execute(card, {"id": session["id"]}))["groupSession"]["supervisors"]) == 2
    removed = (await gql.execute(REMOVE_ASSIGNMENT, {"id": wrong["id"]}))["removeStaffAssignment"]
    assert removed == {"id": wrong["id"], "role": "SUPERVISING", "staff": {"id": clinic.staff[0]}}
    supervisors = (await gql.execute(card, {"id": session["id"]}))["groupSession"]["supervisors"]
    assert [s["staff"]["id"] for s in supervisors] == [clinic.staff[1]]
    _, code, _ = await gql.error(REMOVE_ASSIGNMENT, {"id": wrong["id"]})
    assert code == "NOT_FOUND"


async def test_a_group_below_its_minimum_is_flagged(gql, clinic):
    group = await make_group(gql, clinic, minCapacity=3)
    await enroll_new(gql, clinic, group, 2)
    assert (await gql.execute(CAPACITY, {"id": group}))["group"]["capacity"] == {
        "enrolled": 2,
        "min": 3,
        "belowMinimum": True,
    }
    await enroll_new(gql, clinic, group, 1)
    assert (await gql.execute(CAPACITY, {"id": group}))["group"]["capacity"]["belowMinimum"] is False
    no_minimum = await make_group(gql, clinic, name="Open group")
    assert (await gql.execute(CAPACITY, {"id": no_minimum}))["group"]["capacity"] == {
        "enrolled": 0,
        "min": None,
        "belowMinimum": False,
    }


async def test_update_group_and_remove_enrollment_say_who_was_promoted(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=1)
    member, first, second = await enroll_new(gql, clinic, group, 3)
    raised = await gql.execute(
        "mutation($id: ID!) { updateGroup(id: $id, input: {maxCapacity: 2}) { maxCapacity promoted { id status } } }",
        {"id": group},
    )
    assert raised["updateGroup"] == {
        "maxCapacity": 2,
        "promoted": [{"id": first["enrollment"]["id"], "status": "ENROLLED"}],
    }
    removed = await gql.execute(
        "mutation($id: ID!) { removeEnrollment(enrollmentId: $id) { id deletedAt promoted { id status } } }",
        {"id": member["enrollment"]["id"]},
    )
    assert removed["removeEnrollment"]["promoted"] == {"id": second["enrollment"]["id"], "status": "ENROLLED"}
    read = await gql.execute("query($id: ID!) { group(id: $id) { promoted { id } } }", {"id": group})
    assert read["group"]["promoted"] == []  # only the mutation's answer says it
    nobody = await gql.execute(
        'mutation($id: ID!) { updateGroup(id: $id, input: {name: "Renamed"}) { promoted { id } } }', {"id": group}
    )
    assert nobody["updateGroup"]["promoted"] == []


async def test_enrollment_history_keeps_removed_and_disenrolled_records_and_both_have_audit_logs(gql, clinic):
    group = await make_group(gql, clinic, maxCapacity=3)
    kept, gone, removed = await enroll_new(gql, clinic, group, 3)
    await gql.execute(
        'mutation($id: ID!) { disenrollPatient(enrollmentId: $id, reason: "Discharged") { message } }',
        {"id": gone["enrollment"]["id"]},
    )
    await gql.execute(
        "mutation($id: ID!) { removeEnrollment(enrollmentId: $id) { id } }", {"id": removed["enrollment"]["id"]}
    )
    current = await gql.execute("query($id: ID!) { group(id: $id) { enrollments { totalCount } } }", {"id": group})
    assert current["group"]["enrollments"]["totalCount"] == 2  # the removed one is not a current enrollment
    data = (await gql.execute(HISTORY, {"id": group}))["group"]
    history = {e["node"]["id"]: e["node"] for e in data["enrollmentHistory"]["edges"]}
    assert data["enrollmentHistory"]["totalCount"] == 3
    assert history[removed["enrollment"]["id"]]["deletedAt"] is not None
    assert (
        history[gone["enrollment"]["id"]]["status"] == "DISENROLLED"
        and history[gone["enrollment"]["id"]]["disenrolledAt"]
    )
    assert history[kept["enrollment"]["id"]]["status"] == "ENROLLED"
    actions = [e["node"]["action"] for e in data["auditLog"]["edges"]]
    assert actions[0] == "enrollment.removed" and actions[-1] == "group.create"  # newest first
    assert actions.count("enrollment.enrolled") == 3 and "enrollment.disenrolled" in actions
    log = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Enrollment { auditLog { action before after actor } } } }",
        {"id": gone["enrollment"]["id"]},
    )
    assert [e["action"] for e in log["node"]["auditLog"]] == ["enrollment.enrolled", "enrollment.disenrolled"]
    assert (
        log["node"]["auditLog"][1]["before"]["status"] == "ENROLLED"
        and log["node"]["auditLog"][1]["after"]["status"] == "DISENROLLED"
    )


async def test_a_groups_audit_log_needs_the_groups_scope_and_history_the_enrollment_scope(gql, clinic):
    group = await make_group(gql, clinic)
    await enroll(gql, group, await clinic.add_patient())
    viewer = gql.as_(scopes=["pm.group_definitions.view"])
    data = await viewer.execute("query($id: ID!) { group(id: $id) { auditLog { totalCount } } }", {"id": group})
    assert data["group"]["auditLog"]["totalCount"] == 1  # the group's creation; its enrollment needs the scope
    reader = gql.as_(scopes=["pm.group_definitions.view", "pm.group_enrollments.view"])
    data = await reader.execute("query($id: ID!) { group(id: $id) { auditLog { totalCount } } }", {"id": group})
    assert data["group"]["auditLog"]["totalCount"] == 2
    _, code, _ = await viewer.error(
        "query($id: ID!) { group(id: $id) { enrollmentHistory { totalCount } } }", {"id": group}
    )
    assert code == "FORBIDDEN"
