"""Hardening helpers: a clinic in which every operation of the API has something valid to act on,
one call per operation, the schema's own list of operations, row counts, and server processes
that a test may kill.

`World` is built through the API (plus the clock) so each call in CALLS is valid as the admin:
the access-control, audit and bad-input tests then change one thing (the token, an id, a value)
and watch the answer.
"""

from __future__ import annotations

import asyncio
import copy
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx

from app.schema.root import schema
from tests.conftest import ROOT, asyncpg_dsn
from tests.support.builders_displays import pair_screen, start_pairing
from tests.support.builders_enrollment import enroll, make_group
from tests.support.builders_notes import no_note_rule
from tests.support.builders_scheduling import add_occurrence
from tests.support.builders_sessions import SET_ATTENDANCE, create_session
from tests.support.server import free_port, server_env, wait_until_healthy
from tests.support.snapshots import Snapshot

# ------------------------------------------------------------------ the schema's operations


def root_fields(kind: str) -> list[str]:
    """Every field of the Query, Mutation or Subscription root, as the running schema has them."""
    root = {
        "query": schema._schema.query_type,
        "mutation": schema._schema.mutation_type,
        "subscription": schema._schema.subscription_type,
    }[kind]
    return sorted(root.fields)


def node_types() -> list[str]:
    """Every type that implements Node (fetchable by `node(id:)`)."""
    return sorted(t.name for t in schema._schema.get_possible_types(schema._schema.type_map["Node"]))


# ------------------------------------------------------------------ the world


@dataclass
class World:
    """Records in facility A (the clinic's) that every operation can act on, and an empty facility B."""

    facility: str = ""
    other_facility: str = ""
    payer: str = ""
    facilitator: str = ""
    supervisor: str = ""
    patients: list[str] = field(default_factory=list)
    group: str = ""
    doomed_group: str = ""
    occurrence_to_edit: str = ""
    occurrence_to_cancel: str = ""
    enrollment_to_disenroll: str = ""
    enrollment_to_remove: str = ""
    live_session: str = ""
    live_roster: dict[str, str] = field(default_factory=dict)  # patient id -> roster entry id
    ended_session: str = ""
    billed_session: str = ""
    billed_roster: dict[str, str] = field(default_factory=dict)
    claim: str = ""
    charge: str = ""
    calendar_feed: str = ""
    display: str = ""  # a paired display
    webhook_endpoint: str = ""  # facility A's, hearing of its schedule
    prior_authorization: str = ""  # the first patient's, for 90853
    # A screen's pairing code and the paired display's credential: secrets, not ids (kept apart from them).
    display_secrets: dict[str, str] = field(default_factory=dict)

    @property
    def pairing_code(self) -> str:
        return self.display_secrets["pairing_code"]

    @property
    def display_credential(self) -> str:
        return self.display_secrets["credential"]

    assignment_to_remove: str = ""
    group_note: str = ""
    member_notes: dict[str, str] = field(default_factory=dict)  # patient id -> member note id

    def ids_of_a(self) -> dict[str, str]:
        """One id of each record type in facility A, by type name."""
        return {
            "Facility": self.facility,
            "Staff": self.facilitator,
            "Patient": self.patients[0],
            "Payer": self.payer,
            "GroupDefinition": self.group,
            "GroupOccurrence": self.occurrence_to_edit,
            "Enrollment": self.enrollment_to_disenroll,
            "GroupSession": self.live_session,
            "Charge": self.charge,
            "Claim": self.claim,
            "WebhookEndpoint": self.webhook_endpoint,
        }


WEBHOOK_URL = "http://127.0.0.1:9/hooks"  # the discard port: nothing is called (no delivery loop runs in-process)


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


# A world is built through the API at most this often per database, and put back for the tests between:
# its times (a session in progress since ten minutes before, one ended three hours before) stay true.
WORLD_KEPT_SECONDS = 300.0


@dataclass
class _Kept:
    built_at: float
    world: World
    clinic: dict
    snapshot: Snapshot


_KEPT: dict[str, _Kept] = {}


async def fresh_world(gql, clinic, services, database_url: str) -> World:
    """build_world's records for a test: built (on top of the `clinic` fixture's), or, when a world was
    built on this database in the last WORLD_KEPT_SECONDS, its rows put back as they were then, ids
    and all, and `clinic` pointed at them."""
    kept = _KEPT.get(database_url)
    if kept is not None and time.monotonic() - kept.built_at < WORLD_KEPT_SECONDS:
        await kept.snapshot.restore()
        for name, value in kept.clinic.items():
            setattr(clinic, name, copy.deepcopy(value))
        return copy.deepcopy(kept.world)
    world = await build_world(gql, clinic, services)
    snapshot = await Snapshot.take(database_url, "world")
    if snapshot is not None:
        fields = {
            name: copy.deepcopy(getattr(clinic, name)) for name in ("facility_id", "payer_id", "staff", "patients")
        }
        _KEPT[database_url] = _Kept(time.monotonic(), copy.deepcopy(world), fields, snapshot)
    return world


async def build_world(gql, clinic, services) -> World:
    """Facility A with a payer, bands, a supervision rule, six covered and supervised patients,
    groups, occurrences, enrollments, a session in progress, an ended one and a billed one."""
    world = World(
        facility=clinic.facility_id, payer=clinic.payer_id, facilitator=clinic.staff[0], supervisor=clinic.staff[1]
    )
    await clinic.bands([(1, 4, "90853", "40.00"), (5, 8, "90853", "30.00")])
    await clinic.supervision_rule(2)
    await no_note_rule(gql, clinic)  # no signed note asked: the billed room's claims can be submitted
    for i in range(6):
        patient = await clinic.add_patient(f"World Member {i}")
        await clinic.cover(patient)
        await clinic.supervise(clinic.staff[1], patient)
        world.patients.append(patient)
    p = world.patients
    world.other_facility = await clinic.facility(name="Elsewhere Recovery Center")
    world.group = await make_group(
        gql,
        clinic,
        name="Tuesday Skills",
        maxCapacity=2,
        recurrenceRule="FREQ=WEEKLY;BYDAY=TU",
        recurrenceStart="2026-03-03T09:00:00-07:00",
    )
    world.doomed_group = await make_group(gql, clinic, name="Doomed Group")
    world.occurrence_to_edit = (await add_occurrence(gql, world.group, "2030-01-08", "09:00:00", "10:30:00"))["id"]
    world.occurrence_to_cancel = (await add_occurrence(gql, world.group, "2030-01-15", "09:00:00", "10:30:00"))["id"]
    world.enrollment_to_disenroll = (await enroll(gql, world.group, p[0]))["enrollment"]["id"]
    world.enrollment_to_remove = (await enroll(gql, world.group, p[1]))["enrollment"]["id"]
    await enroll(gql, world.group, p[2])  # waitlisted

    now = services.clock.now()
    live = await create_session(
        gql, clinic, patients=p[:4], starts_at=now - timedelta(minutes=10), minutes=90, title="Live Room"
    )
    world.live_session = live["id"]
    world.live_roster = {e["patient"]["id"]: e["id"] for e in live["roster"]}
    for patient in p[1:4]:  # three billable, no supervisor present: a ratio WARNING to accept
        await gql.execute(SET_ATTENDANCE, {"participantId": world.live_roster[patient], "status": "ATTENDED"})

    ended = await create_session(
        gql, clinic, patients=p[:2], starts_at=now - timedelta(hours=3), minutes=60, title="Ended Room"
    )
    world.ended_session = ended["id"]
    for entry in ended["roster"]:
        await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})

    billed = await create_session(
        gql, clinic, patients=p[:3], starts_at=now - timedelta(hours=6), minutes=60, title="Billed Room"
    )
    world.billed_session = billed["id"]
    world.billed_roster = {e["patient"]["id"]: e["id"] for e in billed["roster"]}
    for entry in billed["roster"]:
        await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})
    # Three billable, no supervisor present: the ratio WARNING, accepted so its claims can be submitted.
    await gql.execute(
        """mutation($id: ID!) { acceptBillingIssue(sessionId: $id, code: SUPERVISION_RATIO_BREACH,
             note: "Covered by a second clinician") { readyToBill } }""",
        {"id": world.billed_session},
    )
    await gql.execute("mutation($id: ID!) { runBilling(sessionId: $id) { id } }", {"id": world.billed_session})
    billed_rows = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { claims { id patient { id } } charges { id } } }",
        {"id": world.billed_session},
    )
    claims = {c["patient"]["id"]: c["id"] for c in billed_rows["groupSession"]["claims"]}
    world.claim = claims[p[0]]
    world.charge = billed_rows["groupSession"]["charges"][0]["id"]
    feed = await gql.execute(
        "mutation($g: ID!) { createCalendarFeed(groupId: $g) { feed { id } } }", {"g": world.group}
    )
    world.calendar_feed = feed["createCalendarFeed"]["feed"]["id"]
    world.display_secrets["pairing_code"] = (await start_pairing(gql.http))["code"]
    world.display, world.display_secrets["credential"] = await pair_screen(
        gql.http, gql, world.facility, location="Group Room 4"
    )
    assigned = await gql.execute(
        "mutation($input: StaffAssignmentInput!) { assignStaff(input: $input) { id } }",
        {"input": {"staffId": clinic.staff[0], "patientId": p[5], "role": "SUPERVISING"}},
    )
    world.assignment_to_remove = assigned["assignStaff"]["id"]
    await build_notes(gql, world, services.clock)
    endpoint = await gql.execute(
        "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }",
        {"i": {"url": WEBHOOK_URL, "eventTypes": ["pm_group_session_scheduled"], "facilityIds": [world.facility]}},
    )
    world.webhook_endpoint = endpoint["createWebhookEndpoint"]["endpoint"]["id"]
    authorization = await gql.execute(
        "mutation($p: ID!, $y: ID!, $i: PriorAuthorizationInput!) { createPriorAuthorization(patientId: $p, "
        "payerId: $y, input: $i) { id } }",
        {"p": p[0], "y": world.payer, "i": prior_authorization_input("PA-WORLD-1")},
    )
    world.prior_authorization = authorization["createPriorAuthorization"]["id"]
    return world


def prior_authorization_input(number: str, authorized: int = 30) -> dict:
    return {
        "number": number,
        "serviceCodes": ["90853"],
        "unitKind": "UNITS",
        "authorized": authorized,
        "startsOn": "2020-01-01",
        "endsOn": "2035-12-31",
    }


async def build_notes(gql, world: World, clock) -> None:
    """The live session's group note by its facilitator, drafting notes for the three who attended;
    the third signed. The payer asks for a co-signature in AZ (and no signed note for billing)."""
    await gql.execute(
        "mutation($input: DocumentationRuleInput!) { setPayerDocumentationRule(input: $input) { id } }",
        {"input": {"payerId": world.payer, "signedNote": "NONE", "cosignStates": ["AZ"]}},
    )
    author = gql.as_(subject=world.facilitator)
    note = (
        await author.execute(
            'mutation($s: ID!) { createGroupNote(sessionId: $s, input: {topic: "Grounding"}) { id memberNotes { id patient { id } } } }',
            {"s": world.live_session},
        )
    )["createGroupNote"]
    world.group_note = note["id"]
    world.member_notes = {m["patient"]["id"]: m["id"] for m in note["memberNotes"]}
    signed = world.member_notes[world.patients[3]]
    await author.execute(
        'mutation($id: ID!) { updateMemberNote(id: $id, input: {participation: ACTIVE, progressTowardGoals: "Named a trigger"}) { id } }',
        {"id": signed},
    )
    # A member note is signed once its session has ended: past the live session's end, and back.
    ahead = timedelta(hours=2)
    clock.advance(ahead)
    try:
        await author.execute("mutation($id: ID!) { signNote(id: $id) { id } }", {"id": signed})
    finally:
        clock.advance(-ahead)


# ------------------------------------------------------------------ one valid call per operation


@dataclass(frozen=True)
class Call:
    document: str
    variables: Callable[[World], dict]
    device: bool = False  # called with a paired display's credential (World.display_credential), not a staff token
    # Who must call: a note's author or co-signer is a staff member (the token's subject), not any caller.
    subject: Callable[[World], str] | None = None


def accepting_999() -> str:
    """A payer's 999 accepting a claim file (005010X231A1 IK5 A, AK9 A) that names none of ours: importable by
    any caller with billing.write, and it moves nothing."""
    from app.rules.edi.edi999 import ImplementationAcknowledgment, TransactionSetResponse, render_999
    from app.rules.edi.x12 import Envelope

    response = TransactionSetResponse("837", "0001", "005010X222A1", "A", (), ())
    acknowledgment = ImplementationAcknowledgment("HC", "987654321", "005010X222A1", "A", 1, 1, 1, (), (response,))
    return render_999(Envelope("SIMPAYER1", "CLINIC", 123456789, datetime(2026, 3, 11, 9, 0), "", ""), [acknowledgment])


def _mutation(field_name: str, arguments: str, definitions: str) -> str:
    return f"mutation({definitions}) {{ {field_name}({arguments}) {{ __typename }} }}"


CALLS: dict[str, Call] = {
    # ---------------------------------------------------------------- queries
    "node": Call("query($id: ID!) { node(id: $id) { __typename id } }", lambda w: {"id": w.patients[0]}),
    "viewer": Call("{ viewer { subject } }", lambda w: {}),
    "patients": Call("{ patients { totalCount edges { node { id } } } }", lambda w: {}),
    "groups": Call("{ groups { totalCount edges { node { id } } } }", lambda w: {}),
    "group": Call("query($id: ID!) { group(id: $id) { id } }", lambda w: {"id": w.group}),
    "occurrence": Call("query($id: ID!) { occurrence(id: $id) { id } }", lambda w: {"id": w.occurrence_to_edit}),
    "groupSessions": Call("{ groupSessions { totalCount edges { node { id } } } }", lambda w: {}),
    "groupSession": Call("query($id: ID!) { groupSession(id: $id) { id } }", lambda w: {"id": w.live_session}),
    "claim": Call("query($id: ID!) { claim(id: $id) { id } }", lambda w: {"id": w.claim}),
    "claimBatches": Call("{ claimBatches { totalCount edges { node { id claimCount } } } }", lambda w: {}),
    "ediFiles": Call("{ ediFiles { totalCount edges { node { id kind } } } }", lambda w: {}),
    "rejectedClaims": Call("{ rejectedClaims { totalCount edges { node { id payerReason } } } }", lambda w: {}),
    "deniedClaims": Call("{ deniedClaims { totalCount edges { node { id payerReason } } } }", lambda w: {}),
    "sessionsAwaitingFinalization": Call(
        "{ sessionsAwaitingFinalization { totalCount edges { node { session { id } hoursSinceEnd } } } }", lambda w: {}
    ),
    "sessionsClosedUnmarked": Call(
        "{ sessionsClosedUnmarked { totalCount edges { node { session { id } } } } }", lambda w: {}
    ),
    "claimsNearingFilingLimit": Call(
        "query($days: Int!) { claimsNearingFilingLimit(withinDays: $days) { totalCount edges { node { claim { id } "
        "daysLeft } } } }",
        lambda w: {"days": 3660},
    ),
    "integrationEvents": Call(
        "{ integrationEvents(first: 100) { totalCount edges { node { id payload } } } }", lambda w: {}
    ),
    "patientAttendance": Call(
        "query($id: ID!) { patientAttendance(patientId: $id) { totalCount edges { node { id status } } tallies { title } } }",
        lambda w: {"id": w.patients[0]},
    ),
    "patientsAtRisk": Call(
        "query($f: ID!) { patientsAtRisk(facilityId: $f) { totalCount edges { node { id } } } }",
        lambda w: {"f": w.facility},
    ),
    "calendarFeeds": Call("{ calendarFeeds { totalCount edges { node { id path } } } }", lambda w: {}),
    "staff": Call(
        "query($f: ID, $s: String) { staff(facilityId: $f, search: $s) { totalCount edges { node { id name } } } }",
        lambda w: {"f": w.facility, "s": "dana"},
    ),
    "staffAssignments": Call(
        "query($f: ID) { staffAssignments(facilityId: $f) { totalCount edges { node { id role staff { id } patient { id } } } } }",
        lambda w: {"f": w.facility},
    ),
    # ---------------------------------------------------------------- reference data
    "createFacility": Call(
        _mutation("createFacility", "input: $input", "$input: FacilityInput!"),
        lambda w: {"input": {"name": "New Clinic", "state": "AZ", "timezone": "America/Phoenix"}},
    ),
    "createStaff": Call(
        _mutation("createStaff", "input: $input", "$input: StaffInput!"),
        lambda w: {"input": {"name": "New Staff", "facilityId": w.facility}},
    ),
    "createPatient": Call(
        _mutation("createPatient", "input: $input", "$input: PatientInput!"),
        lambda w: {
            "input": {"mrn": "NEW-1", "name": "New Patient", "dateOfBirth": "1990-02-03", "facilityId": w.facility}
        },
    ),
    "updatePatient": Call(
        _mutation("updatePatient", "id: $id, input: $input", "$id: ID!, $input: PatientUpdateInput!"),
        lambda w: {"id": w.patients[5], "input": {"city": "Tempe"}},
    ),
    "createPayer": Call(
        _mutation("createPayer", "input: $input", "$input: PayerInput!"),
        lambda w: {"input": {"name": "New Payer", "payerCode": "NEWPAYER"}},
    ),
    "updateStaffBilling": Call(
        _mutation("updateStaffBilling", "staffId: $id, taxonomy: $taxonomy", "$id: ID!, $taxonomy: String"),
        lambda w: {"id": w.facilitator, "taxonomy": "101YM0800X"},
    ),
    "updatePayerClaimSettings": Call(
        _mutation(
            "updatePayerClaimSettings", "payerId: $id, input: $input", "$id: ID!, $input: PayerClaimSettingsInput!"
        ),
        lambda w: {"id": w.payer, "input": {"claimFilingIndicator": "MC"}},
    ),
    "updateFacilityBilling": Call(
        _mutation("updateFacilityBilling", "facilityId: $id, input: $input", "$id: ID!, $input: FacilityBillingInput!"),
        lambda w: {"id": w.facility, "input": {"postalCode": "85016-0001"}},
    ),
    "addCoverage": Call(
        _mutation("addCoverage", "input: $input", "$input: CoverageInput!"),
        lambda w: {
            "input": {
                "patientId": w.patients[5],
                "payerId": w.payer,
                "memberId": "M-NEW",
                "priority": 2,
                "effectiveFrom": "2025-01-01",
            }
        },
    ),
    "setPatientDiagnoses": Call(
        _mutation("setPatientDiagnoses", "patientId: $id, diagnoses: $d", "$id: ID!, $d: [DiagnosisInput!]!"),
        lambda w: {
            "id": w.patients[5],
            "d": [{"code": "F10.20", "effectiveFrom": "2025-01-01"}, {"code": "F33.1", "effectiveFrom": "2025-01-01"}],
        },
    ),
    "removeStaffAssignment": Call(
        _mutation("removeStaffAssignment", "id: $id", "$id: ID!"), lambda w: {"id": w.assignment_to_remove}
    ),
    "assignStaff": Call(
        _mutation("assignStaff", "input: $input", "$input: StaffAssignmentInput!"),
        lambda w: {"input": {"staffId": w.facilitator, "patientId": w.patients[5], "role": "RENDERING"}},
    ),
    "setSupervisionRule": Call(
        _mutation("setSupervisionRule", "input: $input", "$input: SupervisionRuleInput!"),
        lambda w: {"input": {"payerId": w.payer, "state": "AZ", "maxParticipantsPerSupervisor": 3}},
    ),
    "setGroupSizeBands": Call(
        _mutation("setGroupSizeBands", "input: $input", "$input: GroupSizeBandsInput!"),
        lambda w: {
            "input": {
                "payerId": w.payer,
                "state": "AZ",
                "bands": [
                    {"minSize": 1, "maxSize": 4, "procedureCode": "90853", "rate": "41.00", "modifiers": ["HQ"]},
                    {"minSize": 5, "maxSize": 8, "procedureCode": "90853", "rate": "31.00", "modifiers": ["HQ"]},
                ],
            }
        },
    ),
    "setFacilityFeeSchedule": Call(
        _mutation("setFacilityFeeSchedule", "facilityId: $id, fees: $fees", "$id: ID!, $fees: [FacilityFeeInput!]!"),
        lambda w: {"id": w.facility, "fees": [{"procedureCode": "90853", "modifiers": ["HQ"], "amount": "60.00"}]},
    ),
    # ---------------------------------------------------------------- scheduling
    "createGroup": Call(
        _mutation("createGroup", "input: $input", "$input: CreateGroupInput!"),
        lambda w: {
            "input": {
                "name": "New Group",
                "groupType": "SUPPORT",
                "facilityId": w.facility,
                "facilitatorId": w.facilitator,
                "maxCapacity": 6,
                "durationMinutes": 60,
            }
        },
    ),
    "updateGroup": Call(
        _mutation("updateGroup", "id: $id, input: $input", "$id: ID!, $input: UpdateGroupInput!"),
        lambda w: {"id": w.group, "input": {"maxCapacity": 3, "location": "Room 4"}},
    ),
    "deleteGroup": Call(_mutation("deleteGroup", "id: $id", "$id: ID!"), lambda w: {"id": w.doomed_group}),
    "addOccurrence": Call(
        _mutation("addOccurrence", "input: $input", "$input: AddOccurrenceInput!"),
        lambda w: {
            "input": {"groupId": w.group, "sessionDate": "2030-02-05", "startTime": "09:00:00", "endTime": "10:30:00"}
        },
    ),
    "generateOccurrences": Call(
        _mutation(
            "generateOccurrences", "groupId: $groupId, from: $from, to: $to", "$groupId: ID!, $from: Date!, $to: Date!"
        ),
        lambda w: {"groupId": w.group, "from": "2030-03-01", "to": "2030-03-31"},
    ),
    "updateOccurrence": Call(
        _mutation("updateOccurrence", "id: $id, input: $input", "$id: ID!, $input: UpdateOccurrenceInput!"),
        lambda w: {"id": w.occurrence_to_edit, "input": {"startTime": "09:30:00", "endTime": "11:00:00"}},
    ),
    "cancelOccurrence": Call(
        _mutation("cancelOccurrence", "id: $id, reason: $reason", "$id: ID!, $reason: String!"),
        lambda w: {"id": w.occurrence_to_cancel, "reason": "Facilitator out sick"},
    ),
    # ---------------------------------------------------------------- enrollment
    "enrollPatient": Call(
        _mutation("enrollPatient", "groupId: $groupId, patientId: $patientId", "$groupId: ID!, $patientId: ID!"),
        lambda w: {"groupId": w.group, "patientId": w.patients[3]},
    ),
    "disenrollPatient": Call(
        _mutation("disenrollPatient", "enrollmentId: $id, reason: $reason", "$id: ID!, $reason: String"),
        lambda w: {"id": w.enrollment_to_disenroll, "reason": "Completed the program"},
    ),
    "removeEnrollment": Call(
        _mutation("removeEnrollment", "enrollmentId: $id", "$id: ID!"), lambda w: {"id": w.enrollment_to_remove}
    ),
    # ---------------------------------------------------------------- sessions and attendance
    "createGroupSession": Call(
        _mutation("createGroupSession", "input: $input", "$input: CreateGroupSessionInput!"),
        lambda w: {
            "input": {
                "facilityId": w.facility,
                "groupType": "THERAPY",
                "title": "Drop-in",
                "startsAt": "2030-01-09T09:00:00-07:00",
                "endsAt": "2030-01-09T10:00:00-07:00",
                "patientIds": w.patients[:2],
            }
        },
    ),
    "addSessionParticipant": Call(
        _mutation(
            "addSessionParticipant", "sessionId: $sessionId, patientId: $patientId", "$sessionId: ID!, $patientId: ID!"
        ),
        lambda w: {"sessionId": w.live_session, "patientId": w.patients[4]},
    ),
    "setAttendance": Call(
        _mutation("setAttendance", "participantId: $id, status: $status", "$id: ID!, $status: AttendanceStatus!"),
        lambda w: {"id": w.live_roster[w.patients[0]], "status": "ATTENDED"},
    ),
    "setSupervisorAttendance": Call(
        _mutation(
            "setSupervisorAttendance",
            "sessionId: $sessionId, staffId: $staffId, status: $status",
            "$sessionId: ID!, $staffId: ID!, $status: AttendanceStatus!",
        ),
        lambda w: {"sessionId": w.live_session, "staffId": w.supervisor, "status": "ATTENDED"},
    ),
    "setAttendanceBatch": Call(
        _mutation(
            "setAttendanceBatch",
            "sessionId: $sessionId, entries: $entries",
            "$sessionId: ID!, $entries: [AttendanceEntryInput!]!",
        ),
        lambda w: {
            "sessionId": w.live_session,
            "entries": [
                {"participantId": w.live_roster[w.patients[1]], "status": "LATE"},
                {"participantId": w.live_roster[w.patients[2]], "status": "LATE"},
            ],
        },
    ),
    # ---------------------------------------------------------------- billing
    "acceptBillingIssue": Call(
        _mutation(
            "acceptBillingIssue",
            "sessionId: $id, code: $code, note: $note",
            "$id: ID!, $code: BillingIssueCode!, $note: String!",
        ),
        lambda w: {"id": w.live_session, "code": "SUPERVISION_RATIO_BREACH", "note": "Second supervisor on the floor"},
    ),
    "runBilling": Call(_mutation("runBilling", "sessionId: $id", "$id: ID!"), lambda w: {"id": w.ended_session}),
    "submitClaim": Call(_mutation("submitClaim", "claimId: $id", "$id: ID!"), lambda w: {"id": w.claim}),
    # ---------------------------------------------------------------- eligibility and prior authorizations
    "eligibilityChecks": Call(
        "query($p: ID!) { eligibilityChecks(patientId: $p) { status } }", lambda w: {"p": w.patients[0]}
    ),
    "priorAuthorizations": Call(
        "query($p: ID!) { priorAuthorizations(patientId: $p) { number } }", lambda w: {"p": w.patients[0]}
    ),
    "checkEligibility": Call(
        _mutation("checkEligibility", "patientId: $p, serviceDate: $d", "$p: ID!, $d: Date!"),
        lambda w: {"p": w.patients[0], "d": "2026-03-10"},
    ),
    "checkSessionEligibility": Call(
        _mutation("checkSessionEligibility", "sessionId: $s", "$s: ID!"), lambda w: {"s": w.live_session}
    ),
    "createPriorAuthorization": Call(
        _mutation(
            "createPriorAuthorization",
            "patientId: $p, payerId: $y, input: $i",
            "$p: ID!, $y: ID!, $i: PriorAuthorizationInput!",
        ),
        lambda w: {"p": w.patients[1], "y": w.payer, "i": prior_authorization_input("PA-CALL-2")},
    ),
    "updatePriorAuthorization": Call(
        _mutation(
            "updatePriorAuthorization", "authorizationId: $a, input: $i", "$a: ID!, $i: PriorAuthorizationInput!"
        ),
        lambda w: {"a": w.prior_authorization, "i": prior_authorization_input("PA-WORLD-1", authorized=40)},
    ),
    "cancelPriorAuthorization": Call(
        _mutation("cancelPriorAuthorization", "authorizationId: $a", "$a: ID!"),
        lambda w: {"a": w.prior_authorization},
    ),
    "setPayerCoverageRule": Call(
        _mutation("setPayerCoverageRule", "payerId: $y, expiringDays: $d", "$y: ID!, $d: Int"),
        lambda w: {"y": w.payer, "d": 10},
    ),
    "setPayerProgram": Call(
        _mutation("setPayerProgram", "payerId: $y, input: $i", "$y: ID!, $i: PayerProgramInput!"),
        lambda w: {"y": w.payer, "i": {"program": "PHP", "procedureCode": "H0035", "rate": "300", "minimumHours": "5"}},
    ),
    "submitClaimBatches": Call(
        "mutation { submitClaimBatches { batches { id claimCount } held { reason } } }", lambda w: {}
    ),
    "importEdi": Call(_mutation("importEdi", "text: $text", "$text: String!"), lambda w: {"text": accepting_999()}),
    "correctClaim": Call(
        _mutation(
            "correctClaim",
            "claimId: $id, reason: $reason, input: $input",
            "$id: ID!, $reason: String!, $input: ClaimCorrectionInput",
        ),
        lambda w: {"id": w.claim, "reason": "Member id keyed wrong", "input": {"memberId": "M999999"}},
    ),
    # ---------------------------------------------------------------- calendar feeds
    "createCalendarFeed": Call(
        _mutation("createCalendarFeed", "groupId: $groupId, label: $label", "$groupId: ID, $label: String"),
        lambda w: {"groupId": w.group, "label": "Front desk"},
    ),
    "revokeCalendarFeed": Call(
        _mutation("revokeCalendarFeed", "id: $id", "$id: ID!"), lambda w: {"id": w.calendar_feed}
    ),
    # ---------------------------------------------------------------- room displays
    "displays": Call("{ displays { totalCount edges { node { id label } } } }", lambda w: {}),
    "pairDisplay": Call(
        _mutation(
            "pairDisplay",
            "code: $code, facilityId: $f, location: $l, label: $label",
            "$code: String!, $f: ID!, $l: String!, $label: String!",
        ),
        lambda w: {"code": w.pairing_code, "f": w.facility, "l": "Group Room 2", "label": "Room 2 wall"},
    ),
    "setDisplayMode": Call(
        _mutation("setDisplayMode", "id: $id, mode: $mode", "$id: ID!, $mode: DisplayMode!"),
        lambda w: {"id": w.display, "mode": "PATIENT_FACING"},
    ),
    "revokeDisplay": Call(_mutation("revokeDisplay", "id: $id", "$id: ID!"), lambda w: {"id": w.display}),
    "rotateDisplayCredential": Call(
        "mutation Rotate { rotateDisplayCredential { __typename } }", lambda w: {}, device=True
    ),
    "setDisplayNameFormat": Call(
        _mutation("setDisplayNameFormat", "facilityId: $f, format: $format", "$f: ID!, $format: DisplayNameFormat!"),
        lambda w: {"f": w.facility, "format": "INITIALS"},
    ),
    # ---------------------------------------------------------------- clinical notes, visits, documentation rules
    "groupNote": Call(
        "query($id: ID!) { groupNote(sessionId: $id) { id status topic } }", lambda w: {"id": w.live_session}
    ),
    "memberNote": Call(
        "query($id: ID!) { memberNote(id: $id) { id status participation } }",
        lambda w: {"id": w.member_notes[w.patients[1]]},
    ),
    "createGroupNote": Call(
        _mutation(
            "createGroupNote", "sessionId: $sessionId, input: $input", "$sessionId: ID!, $input: GroupNoteInput!"
        ),
        lambda w: {
            "sessionId": w.ended_session,
            "input": {"topic": "Distress tolerance", "interventions": ["Skill modeling"]},
        },
        subject=lambda w: w.facilitator,
    ),
    "updateGroupNote": Call(
        _mutation("updateGroupNote", "id: $id, input: $input", "$id: ID!, $input: GroupNoteInput!"),
        lambda w: {"id": w.group_note, "input": {"groupDynamics": "Cohesive"}},
        subject=lambda w: w.facilitator,
    ),
    "updateMemberNote": Call(
        _mutation("updateMemberNote", "id: $id, input: $input", "$id: ID!, $input: MemberNoteInput!"),
        lambda w: {"id": w.member_notes[w.patients[1]], "input": {"participation": "MODERATE"}},
        subject=lambda w: w.facilitator,
    ),
    "signNote": Call(
        _mutation("signNote", "id: $id", "$id: ID!"), lambda w: {"id": w.group_note}, subject=lambda w: w.facilitator
    ),
    "cosignNote": Call(
        _mutation("cosignNote", "id: $id", "$id: ID!"),
        lambda w: {"id": w.member_notes[w.patients[3]]},
        subject=lambda w: w.supervisor,
    ),
    "addNoteAddendum": Call(
        _mutation("addNoteAddendum", "noteId: $id, text: $text", "$id: ID!, $text: String!"),
        lambda w: {"id": w.member_notes[w.patients[3]], "text": "Correction: arrived with a sponsor"},
        subject=lambda w: w.facilitator,
    ),
    "setParticipantVisit": Call(
        _mutation(
            "setParticipantVisit", "participantId: $id, input: $input", "$id: ID!, $input: ParticipantVisitInput!"
        ),
        lambda w: {
            "id": w.live_roster[w.patients[1]],
            "input": {"modality": "TELEHEALTH_VIDEO", "patientAtHome": True},
        },
    ),
    "setSessionModality": Call(
        _mutation("setSessionModality", "sessionId: $id, modality: $modality", "$id: ID!, $modality: Modality!"),
        lambda w: {"id": w.live_session, "modality": "TELEHEALTH_VIDEO"},
    ),
    "setPayerDocumentationRule": Call(
        _mutation("setPayerDocumentationRule", "input: $input", "$input: DocumentationRuleInput!"),
        lambda w: {"input": {"payerId": w.payer, "minimumMinutes": 30}},
    ),
    # ---------------------------------------------------------------- webhooks
    "webhookEndpoints": Call("{ webhookEndpoints { totalCount edges { node { id url } } } }", lambda w: {}),
    "createWebhookEndpoint": Call(
        _mutation("createWebhookEndpoint", "input: $input", "$input: WebhookEndpointInput!"),
        lambda w: {
            "input": {"url": WEBHOOK_URL, "eventTypes": ["webhook_endpoint_disabled"], "facilityIds": [w.facility]}
        },
    ),
    "updateWebhookEndpoint": Call(
        _mutation("updateWebhookEndpoint", "id: $id, change: $change", "$id: ID!, $change: WebhookEndpointChange!"),
        lambda w: {"id": w.webhook_endpoint, "change": {"description": "Care coordination"}},
    ),
    "rotateWebhookSecret": Call(
        _mutation("rotateWebhookSecret", "id: $id, overlapHours: 1", "$id: ID!"), lambda w: {"id": w.webhook_endpoint}
    ),
    "replayWebhookEvents": Call(
        "mutation($id: ID!, $from: DateTime, $to: DateTime) { replayWebhookEvents(endpointId: $id, from: $from, to: $to) }",
        lambda w: {
            "id": w.webhook_endpoint,
            "from": utc(datetime.now(timezone.utc) - timedelta(days=1)),
            "to": utc(datetime.now(timezone.utc) + timedelta(days=1)),
        },
    ),
    "deleteWebhookEndpoint": Call(
        _mutation("deleteWebhookEndpoint", "id: $id", "$id: ID!"), lambda w: {"id": w.webhook_endpoint}
    ),
}

# A forced change on a billed (locked) session: the audit must carry the reason.
FORCE_SET_ATTENDANCE = Call(
    "mutation($id: ID!, $reason: String) { setAttendance(participantId: $id, status: ABSENT, force: true, reason: $reason) { __typename } }",
    lambda w: {"id": w.billed_roster[w.patients[1]], "reason": "Left before the group started; chart corrected"},
)

SUBSCRIPTIONS: dict[str, Call] = {
    "sessionUpdates": Call(
        "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind } }", lambda w: {"id": w.live_session}
    ),
    "groupUpdates": Call("subscription($id: ID!) { groupUpdates(groupId: $id) { kind } }", lambda w: {"id": w.group}),
    "roomDisplay": Call(
        "subscription($f: ID!, $l: String!) { roomDisplay(facilityId: $f, location: $l) { kind } }",
        lambda w: {"f": w.facility, "l": "Group Room 4"},
    ),
    "billingQueueUpdates": Call(
        "subscription($f: ID!) { billingQueueUpdates(facilityId: $f) { kind queues } }", lambda w: {"f": w.facility}
    ),
}


# ------------------------------------------------------------------ what was written


async def row_counts(database_url: str) -> dict[str, int]:
    """Rows per table (the idempotency-key table aside): equal before and after means nothing was written."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        tables = [
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        counts = {}
        for table in sorted(tables):
            if table in {"idempotency_keys", "alembic_version"}:
                continue
            counts[table] = await conn.fetchval(f'SELECT count(*) FROM "{table}"')
        return counts
    finally:
        await conn.close()


# ------------------------------------------------------------------ server processes a test may kill


class ServerProcess:
    """`group-sessions serve` on a fixed port and data dir, so it can be killed and started again
    on the same address; its stdout and stderr go to `log_path`."""

    def __init__(
        self, database_url: str, workdir: Path, env: Mapping[str, str] | None = None, python_code: str | None = None
    ) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.env = dict(env or {})
        self.entry = ["-c", python_code] if python_code else ["-m", "app.cli_entry"]
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.entry, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=server_env(self.database_url, self.workdir, self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        await wait_until_healthy(self.process, self.base_url, self.log_path)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@asynccontextmanager
async def server_process(database_url: str, env: Mapping[str, str] | None = None):
    with tempfile.TemporaryDirectory(prefix="gs-hardening-") as tmp:
        server = ServerProcess(database_url, Path(tmp), env)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


def client_for(base_url: str, token: str, timeout: float = 60) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, headers={"Authorization": f"Bearer {token}"})


__all__ = [
    "CALLS",
    "FORCE_SET_ATTENDANCE",
    "SUBSCRIPTIONS",
    "Call",
    "ServerProcess",
    "World",
    "build_world",
    "fresh_world",
    "client_for",
    "node_types",
    "root_fields",
    "row_counts",
    "server_process",
    "utc",
]
