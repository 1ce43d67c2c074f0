"""Access control, table-driven from the schema itself (rules.md §2).

The rule tables below name, for every root field the schema has, the scope that guards it and how
facilities isolate it; for every Node type the scope `node(id:)` needs. A field or type the schema
gains without a rule here fails `test_every_operation_has_a_rule`. Each table is then checked
as an attacker would: the call without its scope is FORBIDDEN with no data and writes nothing; with
only its scope it works; as an admin of another facility it is NOT_FOUND and writes nothing.
"""

from __future__ import annotations

import asyncio

import jwt
import pytest

from app.auth import ALL_SCOPES
from tests.conftest import make_token
from tests.support.builders_hardening import (
    CALLS,
    SUBSCRIPTIONS,
    World,
    build_world,
    fresh_world,
    node_types,
    root_fields,
    row_counts,
)

ANY = None  # any authenticated caller

SCOPE_RULES: dict[str, str | None] = {
    # queries
    "node": ANY,  # each type's own rule: NODE_RULES
    "viewer": ANY,
    "patients": "pm.group_enrollments.view",
    "groups": "pm.group_definitions.view",
    "group": "pm.group_definitions.view",
    "occurrence": "pm.group_schedule.view",
    "groupSessions": "clinical.group-session.read",
    "groupSession": "clinical.group-session.read",
    "claim": "billing.read",
    "ediFiles": "billing.read",
    "claimBatches": "billing.read",
    "rejectedClaims": "billing.read",
    "deniedClaims": "billing.read",
    "sessionsAwaitingFinalization": "billing.read",
    "sessionsClosedUnmarked": "billing.read",
    "claimsNearingFilingLimit": "billing.read",
    "integrationEvents": "events.read",
    "patientAttendance": "clinical.group-session.read",
    "patientsAtRisk": "clinical.group-session.read",
    "calendarFeeds": "pm.group_schedule.view",
    "staff": "pm.group_definitions.view",  # the group form's facilitator picker
    "staffAssignments": "pm.group_enrollments.view",  # who cares for which patient, as `patients`
    # reference data
    "createFacility": "admin.reference.write",
    "createStaff": "admin.reference.write",
    "createPatient": "admin.reference.write",
    "updatePatient": "admin.reference.write",
    "createPayer": "admin.reference.write",
    "updatePayerClaimSettings": "admin.reference.write",
    "updateStaffBilling": "admin.reference.write",
    "updateFacilityBilling": "admin.reference.write",
    "addCoverage": "admin.reference.write",
    "assignStaff": "admin.reference.write",
    "setSupervisionRule": "admin.reference.write",
    "setGroupSizeBands": "admin.reference.write",
    "setFacilityFeeSchedule": "admin.reference.write",
    "setPatientDiagnoses": "admin.reference.write",
    "removeStaffAssignment": "admin.reference.write",
    # scheduling (the scheduling guide's permission table)
    "createGroup": "pm.group_definitions.create",
    "updateGroup": "pm.group_definitions.edit",
    "deleteGroup": "pm.group_definitions.delete",
    "addOccurrence": "pm.group_schedule.create",
    "generateOccurrences": "pm.group_schedule.create",
    "updateOccurrence": "pm.group_schedule.edit",
    "cancelOccurrence": "pm.group_schedule.delete",
    "enrollPatient": "pm.group_enrollments.create",
    "disenrollPatient": "pm.group_enrollments.edit",
    "removeEnrollment": "pm.group_enrollments.delete",
    # clinical and billing (the attendance guide)
    "createGroupSession": "clinical.group-session.create",
    "addSessionParticipant": "clinical.group-session.create",
    "setAttendance": "clinical.attendance.write",
    "setSupervisorAttendance": "clinical.attendance.write",
    "setAttendanceBatch": "clinical.attendance.write",
    "acceptBillingIssue": "clinical.attendance.write",
    "runBilling": "billing.write",
    "submitClaim": "billing.write",
    "importEdi": "billing.write",
    "submitClaimBatches": "billing.write",  # after submitClaim: the world's other drafts go
    "correctClaim": "billing.write",
    # calendar feeds: they show the schedule the caller may already read, so its view scope governs them
    "createCalendarFeed": "pm.group_schedule.view",
    "revokeCalendarFeed": "pm.group_schedule.view",
    # room displays: pairing and managing them is reference administration; a display rotates its own credential
    "displays": "admin.reference.write",
    "pairDisplay": "admin.reference.write",
    "rotateDisplayCredential": "display.room",  # before revokeDisplay, which ends that display
    "setDisplayMode": "admin.reference.write",
    "revokeDisplay": "admin.reference.write",
    "setDisplayNameFormat": "admin.reference.write",
    # clinical notes (issue 19): read, write, co-sign; a member's visit is attendance; the room's modality is the session's
    "groupNote": "clinical.notes.read",
    "memberNote": "clinical.notes.read",
    "createGroupNote": "clinical.notes.write",
    "updateGroupNote": "clinical.notes.write",
    "updateMemberNote": "clinical.notes.write",
    "signNote": "clinical.notes.write",
    "cosignNote": "clinical.notes.cosign",
    "addNoteAddendum": "clinical.notes.write",
    "setParticipantVisit": "clinical.attendance.write",
    "setSessionModality": "clinical.group-session.create",
    "setPayerDocumentationRule": "admin.reference.write",
    # webhooks (issue 30): integrators' endpoints, administered with their own scope; deleted last
    "webhookEndpoints": "integrations.write",
    "createWebhookEndpoint": "integrations.write",
    "updateWebhookEndpoint": "integrations.write",
    "rotateWebhookSecret": "integrations.write",
    "replayWebhookEvents": "integrations.write",
    "deleteWebhookEndpoint": "integrations.write",
    # eligibility and prior authorizations (issue 29)
    "eligibilityChecks": "billing.read",
    "priorAuthorizations": "billing.read",
    "checkEligibility": "billing.write",
    "checkSessionEligibility": "billing.write",
    "createPriorAuthorization": "billing.write",
    "updatePriorAuthorization": "billing.write",
    "cancelPriorAuthorization": "billing.write",
    "setPayerCoverageRule": "admin.reference.write",
    "setPayerProgram": "admin.reference.write",
}

NODE_RULES: dict[str, str | None] = {
    "Facility": ANY,  # reference data, within the caller's facilities
    "Staff": ANY,
    "Payer": ANY,
    "Patient": "pm.group_enrollments.view",  # as `patients`
    "GroupDefinition": "pm.group_definitions.view",  # as `group`
    "GroupOccurrence": "pm.group_schedule.view",
    "Enrollment": "pm.group_enrollments.view",
    "GroupSession": "clinical.group-session.read",
    "Charge": "billing.read",
    "Claim": "billing.read",
    "WebhookEndpoint": "integrations.write",
}

SUBSCRIPTION_RULES: dict[str, str] = {
    "sessionUpdates": "clinical.group-session.read",
    "groupUpdates": "pm.group_definitions.view",
    "roomDisplay": "display.room",
    "billingQueueUpdates": "billing.read",
}

# How another facility's admin (every scope, facility B only) meets facility A's records:
ISOLATED = "isolated"  # NOT_FOUND, nothing written
LISTED = "listed"  # lists show only the caller's facilities
GLOBAL = "global"  # shared reference data: payers and their rules, new facilities, the caller's own view
FACILITY_RULES: dict[str, str] = {
    "node": ISOLATED,
    "viewer": GLOBAL,
    "patients": LISTED,
    "groups": LISTED,
    "group": ISOLATED,
    "occurrence": ISOLATED,
    "groupSessions": LISTED,
    "groupSession": ISOLATED,
    "claim": ISOLATED,
    "claimBatches": LISTED,
    "ediFiles": LISTED,  # a file answers claims of any facility: listed to callers of every facility only
    "rejectedClaims": LISTED,
    "deniedClaims": LISTED,
    "sessionsAwaitingFinalization": LISTED,
    "sessionsClosedUnmarked": LISTED,
    "claimsNearingFilingLimit": LISTED,
    "integrationEvents": LISTED,
    "createFacility": GLOBAL,
    "createStaff": ISOLATED,
    "createPatient": ISOLATED,
    "updatePatient": ISOLATED,
    "createPayer": GLOBAL,
    "updatePayerClaimSettings": GLOBAL,
    "updateStaffBilling": ISOLATED,
    "updateFacilityBilling": ISOLATED,
    "addCoverage": ISOLATED,
    "assignStaff": ISOLATED,
    "setSupervisionRule": GLOBAL,
    "setGroupSizeBands": GLOBAL,
    "setFacilityFeeSchedule": ISOLATED,
    "setPatientDiagnoses": ISOLATED,
    "removeStaffAssignment": ISOLATED,
    "staff": ISOLATED,
    "staffAssignments": ISOLATED,
    "createGroup": ISOLATED,
    "updateGroup": ISOLATED,
    "deleteGroup": ISOLATED,
    "addOccurrence": ISOLATED,
    "generateOccurrences": ISOLATED,
    "updateOccurrence": ISOLATED,
    "cancelOccurrence": ISOLATED,
    "enrollPatient": ISOLATED,
    "disenrollPatient": ISOLATED,
    "removeEnrollment": ISOLATED,
    "createGroupSession": ISOLATED,
    "addSessionParticipant": ISOLATED,
    "setAttendance": ISOLATED,
    "setSupervisorAttendance": ISOLATED,
    "setAttendanceBatch": ISOLATED,
    "acceptBillingIssue": ISOLATED,
    "runBilling": ISOLATED,
    "submitClaim": ISOLATED,
    "submitClaimBatches": LISTED,  # the caller's facilities' drafts only
    "importEdi": GLOBAL,  # the file names the claims; one of another facility refuses it whole
    "correctClaim": ISOLATED,
    "patientAttendance": ISOLATED,
    "patientsAtRisk": ISOLATED,
    "calendarFeeds": LISTED,
    "createCalendarFeed": ISOLATED,
    "revokeCalendarFeed": ISOLATED,
    "displays": LISTED,
    "pairDisplay": ISOLATED,
    "setDisplayMode": ISOLATED,
    "revokeDisplay": ISOLATED,
    "setDisplayNameFormat": ISOLATED,
    # a display's own credential, bound to its one facility: it names no record another facility could own
    "rotateDisplayCredential": GLOBAL,
    "groupNote": ISOLATED,
    "memberNote": ISOLATED,
    "createGroupNote": ISOLATED,
    "updateGroupNote": ISOLATED,
    "updateMemberNote": ISOLATED,
    "signNote": ISOLATED,
    "cosignNote": ISOLATED,
    "addNoteAddendum": ISOLATED,
    "setParticipantVisit": ISOLATED,
    "setSessionModality": ISOLATED,
    "setPayerDocumentationRule": GLOBAL,
    "webhookEndpoints": LISTED,
    "createWebhookEndpoint": ISOLATED,  # its facility filter names facility A
    "updateWebhookEndpoint": ISOLATED,
    "rotateWebhookSecret": ISOLATED,
    "replayWebhookEvents": ISOLATED,
    "deleteWebhookEndpoint": ISOLATED,
    "eligibilityChecks": ISOLATED,
    "priorAuthorizations": ISOLATED,
    "checkEligibility": ISOLATED,
    "checkSessionEligibility": ISOLATED,
    "createPriorAuthorization": ISOLATED,
    "updatePriorAuthorization": ISOLATED,
    "cancelPriorAuthorization": ISOLATED,
    "setPayerCoverageRule": GLOBAL,
    "setPayerProgram": GLOBAL,
}
GLOBAL_NODE_TYPES = {"Payer"}  # payers are shared by every facility


def operations() -> list[str]:
    return sorted(root_fields("query") + root_fields("mutation"))


def required_scope(field_name: str) -> str | None:
    """The scope CALLS[field_name] needs (its `node` call fetches a Patient)."""
    return NODE_RULES["Patient"] if field_name == "node" else SCOPE_RULES[field_name]


def without(scope: str | None) -> list[str]:
    return [s for s in ALL_SCOPES if s != scope]


@pytest.fixture
async def world(gql, clinic, services, database_url) -> World:
    return await fresh_world(gql, clinic, services, database_url)


async def call(gql, field_name: str, world: World, token: str) -> dict:
    spec = CALLS[field_name]
    if spec.subject is not None:  # the same scopes and facilities, as the staff member the operation needs
        claims = jwt.decode(token, options={"verify_signature": False})
        token = make_token(scopes=claims["scopes"], facilities=claims["facilities"], subject=spec.subject(world))
    client = gql.__class__(gql.http, token)
    response = await client.post(spec.document, spec.variables(world))
    body = response.json()
    body["status"] = response.status_code
    return body


def first_code(body: dict) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def no_data(body: dict, field_name: str) -> bool:
    return body.get("data") is None or body["data"].get(field_name) is None


# ------------------------------------------------------------------ the tables cover the schema


def test_every_operation_has_a_rule():
    assert sorted(SCOPE_RULES) == operations(), "every query and mutation needs a scope rule"
    assert sorted(FACILITY_RULES) == operations(), "every query and mutation needs a facility rule"
    assert sorted(CALLS) == operations(), "every query and mutation needs a valid call in builders_hardening.CALLS"
    assert sorted(NODE_RULES) == node_types(), "every Node type needs a scope rule"
    assert sorted(SUBSCRIPTION_RULES) == root_fields("subscription") == sorted(SUBSCRIPTIONS)
    assert {s for s in [*SCOPE_RULES.values(), *NODE_RULES.values(), *SUBSCRIPTION_RULES.values()] if s} <= set(
        ALL_SCOPES
    )


# ------------------------------------------------------------------ scopes


async def test_each_operation_without_its_scope_is_forbidden_and_writes_nothing(gql, world, database_url):
    before = await row_counts(database_url)
    failures = []
    for field_name in SCOPE_RULES:
        scope = required_scope(field_name)
        if scope is ANY:
            continue
        body = await call(gql, field_name, world, make_token(scopes=without(scope)))
        if first_code(body) != "FORBIDDEN" or not no_data(body, field_name):
            failures.append(f"{field_name} without {scope}: {body}")
    assert failures == []
    assert await row_counts(database_url) == before


async def test_each_operation_with_only_its_scope_is_served(gql, world):
    """The rule is the whole rule: its one scope is enough (mutations run here, in table order). A
    display's own operation is called with a paired display's credential, which carries that scope only."""
    failures = []
    for field_name in SCOPE_RULES:
        scope = required_scope(field_name)
        token = world.display_credential if CALLS[field_name].device else make_token(scopes=[scope] if scope else [])
        body = await call(gql, field_name, world, token)
        if body.get("errors") or body["status"] != 200:
            failures.append(f"{field_name} with only {scope}: {body}")
    assert failures == []


async def test_a_token_with_no_scopes_reads_nothing(gql, world):
    empty = make_token(scopes=[])
    for field_name in root_fields("query"):
        body = await call(gql, field_name, world, empty)
        if field_name == "viewer":
            assert body["data"]["viewer"]["subject"] == "tester"
            continue
        assert first_code(body) == "FORBIDDEN" and no_data(body, field_name), (field_name, body)


async def test_node_of_each_type_needs_that_types_scope(gql, world):
    failures = []
    for type_name, record_id in world.ids_of_a().items():
        scope = NODE_RULES[type_name]
        query = "query($id: ID!) { node(id: $id) { id } }"
        allowed = gql.__class__(gql.http, make_token(scopes=[scope] if scope else []))
        served = (await allowed.post(query, {"id": record_id})).json()
        if served.get("errors") or served["data"]["node"]["id"] != record_id:
            failures.append(f"{type_name} with only {scope}: {served}")
        if scope is ANY:
            continue
        refused = (
            await gql.__class__(gql.http, make_token(scopes=without(scope))).post(query, {"id": record_id})
        ).json()
        if first_code(refused) != "FORBIDDEN" or refused["data"]["node"] is not None:
            failures.append(f"{type_name} without {scope}: {refused}")
    assert failures == []


NESTED = {
    # field path (query) -> (scope it needs, what a caller without it gets)
    "groupSession.charges": (
        "billing.read",
        "FORBIDDEN",
        "query($id: ID!) { groupSession(id: $id) { id charges { amount } } }",
        "billed_session",
    ),
    "groupSession.claims": (
        "billing.read",
        "FORBIDDEN",
        "query($id: ID!) { groupSession(id: $id) { id claims { edi837 } } }",
        "billed_session",
    ),
    "group.occurrences": (
        "pm.group_schedule.view",
        "FORBIDDEN",
        "query($id: ID!) { group(id: $id) { id occurrences { totalCount } } }",
        "group",
    ),
    "group.enrollments": (
        "pm.group_enrollments.view",
        "FORBIDDEN",
        "query($id: ID!) { group(id: $id) { id enrollments { totalCount } } }",
        "group",
    ),
    "group.waitlist": (
        "pm.group_enrollments.view",
        "FORBIDDEN",
        "query($id: ID!) { group(id: $id) { id waitlist { id } } }",
        "group",
    ),
    "occurrence.session": (
        "clinical.group-session.read",
        "FORBIDDEN",
        "query($id: ID!) { occurrence(id: $id) { id session { id } } }",
        "occurrence_to_edit",
    ),
    "patient.attendance": (
        "clinical.group-session.read",
        "FORBIDDEN",
        "query($id: ID!) { node(id: $id) { ... on Patient { attendance { totalCount } } } }",
        "patient",
    ),
    "enrollment.absenceAlert": (
        "clinical.group-session.read",
        "FORBIDDEN",
        "query($id: ID!) { node(id: $id) { ... on Enrollment { absenceAlert { id } } } }",
        "enrollment_to_disenroll",
    ),
    "patient.diagnoses": (
        "clinical.group-session.read",
        "FORBIDDEN",
        "query($id: ID!) { node(id: $id) { ... on Patient { diagnoses { code } } } }",
        "patient",
    ),
    "group.enrollmentHistory": (
        "pm.group_enrollments.view",
        "FORBIDDEN",
        "query($id: ID!) { group(id: $id) { id enrollmentHistory { totalCount } } }",
        "group",
    ),
    "groupSession.groupNote": (
        "clinical.notes.read",
        "FORBIDDEN",
        "query($id: ID!) { groupSession(id: $id) { id groupNote { topic } } }",
        "live_session",
    ),
    "roster.memberNote": (
        "clinical.notes.read",
        "FORBIDDEN",
        "query($id: ID!) { groupSession(id: $id) { id roster { memberNote { participation } } } }",
        "live_session",
    ),
    "patient.charges": (
        "billing.read",
        "FORBIDDEN",
        "query($id: ID!) { node(id: $id) { ... on Patient { charges { amount } } } }",
        "patient",
    ),
}


@pytest.mark.parametrize("path", sorted(NESTED))
async def test_nested_fields_keep_their_scope(gql, world, path):
    scope, answer, query, record = NESTED[path]
    record_id = world.patients[0] if record == "patient" else getattr(world, record)
    allowed = (await gql.post(query, {"id": record_id})).json()
    assert "errors" not in allowed, allowed
    lacking = gql.__class__(gql.http, make_token(scopes=without(scope)))
    body = (await lacking.post(query, {"id": record_id})).json()
    assert answer == "FORBIDDEN"
    assert first_code(body) == "FORBIDDEN", body
    assert "amount" not in str(body.get("data")) and "edi837" not in str(body.get("data"))


# ------------------------------------------------------------------ facilities


async def test_each_record_type_of_another_facility_is_not_found(gql, world):
    other = gql.__class__(gql.http, make_token(facilities=[world.other_facility]))
    failures = []
    for type_name, record_id in world.ids_of_a().items():
        body = (await other.post("query($id: ID!) { node(id: $id) { id } }", {"id": record_id})).json()
        if type_name in GLOBAL_NODE_TYPES:
            if body.get("errors"):
                failures.append(f"{type_name} is shared, yet: {body}")
        elif first_code(body) != "NOT_FOUND" or body["data"]["node"] is not None:
            failures.append(f"{type_name}: {body}")
    assert failures == []


async def test_each_operation_on_another_facilitys_records_is_not_found_and_writes_nothing(gql, world, database_url):
    token = make_token(facilities=[world.other_facility])
    before = await row_counts(database_url)
    a_ids = set(world.ids_of_a().values()) - {world.payer} | set(world.patients)
    failures = []
    for field_name, rule in FACILITY_RULES.items():
        if rule == GLOBAL:
            continue
        body = await call(gql, field_name, world, token)
        if rule == ISOLATED and (first_code(body) != "NOT_FOUND" or not no_data(body, field_name)):
            failures.append(f"{field_name}: {body}")
        if rule == LISTED and (body.get("errors") or any(i in str(body["data"]) for i in a_ids)):
            failures.append(f"{field_name} lists facility A: {body}")
        if rule == LISTED and field_name == "integrationEvents" and world.facility.split(":")[-1] in str(body["data"]):
            failures.append(f"{field_name} lists facility A's events: {body}")
    assert failures == []
    assert await row_counts(database_url) == before


@pytest.mark.parametrize(
    "query",
    [
        "query($f: ID!) { groups(filter: {facilityId: $f}) { totalCount } }",
        "query($f: ID!) { groupSessions(filter: {facilityId: $f}) { totalCount } }",
    ],
)
async def test_filtering_a_list_by_another_facility_is_not_found(gql, world, query):
    other = gql.__class__(gql.http, make_token(facilities=[world.other_facility]))
    body = (await other.post(query, {"f": world.facility})).json()
    assert first_code(body) == "NOT_FOUND" and body["data"] is None


async def test_integration_events_of_another_facility_are_not_listed(gql, world):
    from app.ids import split_id

    facility_a = split_id(world.facility)[1]
    admin_events = await gql.execute("{ integrationEvents(first: 100) { edges { node { payload } } } }")
    assert any(e["node"]["payload"].get("facilityId") == facility_a for e in admin_events["integrationEvents"]["edges"])
    other = gql.__class__(gql.http, make_token(facilities=[world.other_facility]))
    body = await other.execute("{ integrationEvents(first: 100) { totalCount edges { node { payload } } } }")
    assert body["integrationEvents"]["totalCount"] == 0


# ------------------------------------------------------------------ subscriptions


async def first_message(ws, token: str, field_name: str, world: World) -> dict:
    spec = SUBSCRIPTIONS[field_name]
    async with ws(token) as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": spec.document, "variables": spec.variables(world)}}
        )
        return await asyncio.wait_for(socket.receive_json(), 5)


def message_code(message: dict) -> str | None:
    if message["type"] == "error":
        return message["payload"][0]["extensions"]["code"]
    errors = message["payload"].get("errors")
    return errors[0]["extensions"]["code"] if errors else None


@pytest.mark.parametrize("field_name", sorted(SUBSCRIPTION_RULES))
async def test_a_subscription_without_its_scope_is_forbidden(ws, world, field_name):
    scope = SUBSCRIPTION_RULES[field_name]
    message = await first_message(ws, make_token(scopes=without(scope)), field_name, world)
    assert message_code(message) == "FORBIDDEN", message
    served = await first_message(ws, make_token(scopes=[scope]), field_name, world)
    assert served["type"] == "next" and "errors" not in served["payload"], served


@pytest.mark.parametrize("field_name", sorted(SUBSCRIPTION_RULES))
async def test_a_subscription_to_another_facilitys_record_is_not_found(ws, world, field_name):
    message = await first_message(ws, make_token(facilities=[world.other_facility]), field_name, world)
    assert message_code(message) == "NOT_FOUND", message


# ------------------------------------------------------------------ mixed-facility arguments


async def test_another_facilitys_record_in_any_argument_answers_as_an_unknown_id_does(
    gql, clinic, services, world, database_url
):
    """Every mutation, valid for facility A, with one of its ids swapped for the same kind of record in
    facility B, by a caller of A only: the answer is NOT_FOUND and reads exactly as for an id that
    exists nowhere (setSupervisorAttendance with B's staff said "not a supervisor", a random one NOT_FOUND)."""
    import uuid

    from app.ids import encode_id, split_id
    from tests.support.builders import Clinic
    from tests.test_bad_input import id_paths, with_value

    clinic_b = Clinic(gql, facility_id=world.other_facility, payer_id=clinic.payer_id)
    await clinic_b.add_staff("Bea Facilitator", facility_id=world.other_facility)
    await clinic_b.add_staff("Bo Supervisor", facility_id=world.other_facility)
    world_b = await build_world(gql, clinic_b, services)
    in_b = {**world_b.ids_of_a(), "RosterEntry": next(iter(world_b.live_roster.values()))}
    known = (
        {v for v in vars(world).values() if isinstance(v, str) and v}
        | set(world.patients)
        | set(world.live_roster.values())
    )
    caller = gql.__class__(gql.http, make_token(facilities=[world.facility]))
    before = await row_counts(database_url)
    failures = []
    for field_name, spec in CALLS.items():
        if not spec.document.startswith("mutation"):
            continue
        variables = spec.variables(world)
        for path in id_paths(variables, known):
            type_name = split_id(_value_at(variables, path))[0]
            if type_name in {"Payer"} or type_name not in in_b:
                continue  # payers are shared by every facility
            nowhere = encode_id(type_name, uuid.uuid4())
            answers = {}
            for label, value in (("B's", in_b[type_name]), ("unknown", nowhere)):
                body = (await caller.post(spec.document, with_value(variables, path, value))).json()
                error = (body.get("errors") or [{}])[0]
                answers[label] = (
                    error.get("extensions", {}).get("code"),
                    error.get("message", "").replace(value, "<id>"),
                )
            where = f"{field_name} {'.'.join(map(str, path))} ({type_name})"
            if answers["B's"] != answers["unknown"] or answers["B's"][0] != "NOT_FOUND":
                failures.append(f"{where}: {answers}")
    assert failures == [], "\n".join(failures)
    assert await row_counts(database_url) == before


def _value_at(variables: dict, path: tuple):
    for key in path:
        variables = variables[key]
    return variables
