"""Benchmark data, made through the public GraphQL API of a running server: a clinic with a payer,
bands and a supervision rule, 15 covered patients supervised by 2 staff, and ad-hoc sessions
with all 15 on the roster (so each has 15 members, 2 supervisors and a billing preview)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from bench.harness import GraphQL

NPIS = ["1234567893", "1245319599", "1679576722", "1003000126", "1215930367", "1497758544"]
_counter = itertools.count(1)
MEMBERS = 15


@dataclass
class Clinic:
    facility: str = ""
    payer: str = ""
    staff: list[str] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    participants: dict[str, list[str]] = field(default_factory=dict)  # session -> roster ids
    first_day: date | None = None
    last_day: date | None = None


async def make_clinic(gql: GraphQL, sessions: int) -> Clinic:
    clinic = Clinic()
    data = await gql.execute(
        "mutation($input: FacilityInput!) { createFacility(input: $input) { id } }",
        {
            "input": {
                "name": "Bench Behavioral Health",
                "state": "AZ",
                "timezone": "America/Phoenix",
                "npi": "1234567893",
                "taxId": "861234567",
                "addressLine1": "2200 E Camelback Rd",
                "city": "Phoenix",
                "postalCode": "85016-4312",
            }
        },
    )
    clinic.facility = data["createFacility"]["id"]
    data = await gql.execute(
        "mutation($input: PayerInput!) { createPayer(input: $input) { id } }",
        {"input": {"name": "AHCCCS Complete Care", "payerCode": f"BENCH{next(_counter)}"}},
    )
    clinic.payer = data["createPayer"]["id"]
    await gql.execute(
        "mutation($input: GroupSizeBandsInput!) { setGroupSizeBands(input: $input) { minSize } }",
        {
            "input": {
                "payerId": clinic.payer,
                "state": "AZ",
                "bands": [
                    {"minSize": 1, "maxSize": 8, "procedureCode": "90853", "modifiers": ["HQ"], "rate": "45.00"},
                    {"minSize": 9, "maxSize": 20, "procedureCode": "90853", "modifiers": ["HQ", "U1"], "rate": "38.00"},
                ],
            }
        },
    )
    await gql.execute(
        "mutation($input: SupervisionRuleInput!) { setSupervisionRule(input: $input) { state } }",
        {"input": {"payerId": clinic.payer, "state": "AZ", "maxParticipantsPerSupervisor": 10}},
    )
    for name in ("Dana Facilitator", "Sam Supervisor", "Riley Supervisor"):
        data = await gql.execute(
            "mutation($input: StaffInput!) { createStaff(input: $input) { id } }",
            {"input": {"name": name, "facilityId": clinic.facility, "npi": NPIS[next(_counter) % len(NPIS)]}},
        )
        clinic.staff.append(data["createStaff"]["id"])
    for i in range(MEMBERS):
        patient = await add_patient(gql, clinic)
        await gql.execute(
            "mutation($input: CoverageInput!) { addCoverage(input: $input) { id } }",
            {
                "input": {
                    "patientId": patient,
                    "payerId": clinic.payer,
                    "memberId": f"M{i:06d}",
                    "priority": 1,
                    "effectiveFrom": "2020-01-01",
                }
            },
        )
        await gql.execute(
            "mutation($input: StaffAssignmentInput!) { assignStaff(input: $input) { id } }",
            {"input": {"staffId": clinic.staff[1 + i % 2], "patientId": patient, "role": "SUPERVISING"}},
        )
        clinic.patients.append(patient)
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    clinic.first_day = (base - timedelta(days=1)).date()
    for k in range(sessions):
        starts = base + timedelta(minutes=30 * k)
        data = await gql.execute(
            """mutation($input: CreateGroupSessionInput!) { createGroupSession(input: $input) { id roster { id } } }""",
            {
                "input": {
                    "facilityId": clinic.facility,
                    "groupType": "THERAPY",
                    "title": f"Bench group {k}",
                    "startsAt": starts.isoformat(),
                    "endsAt": (starts + timedelta(minutes=60)).isoformat(),
                    "patientIds": clinic.patients,
                }
            },
        )
        session = data["createGroupSession"]
        clinic.sessions.append(session["id"])
        clinic.participants[session["id"]] = [r["id"] for r in session["roster"]]
        clinic.last_day = (starts + timedelta(days=2)).date()
    return clinic


async def add_patient(gql: GraphQL, clinic: Clinic) -> str:
    n = next(_counter)
    data = await gql.execute(
        "mutation($input: PatientInput!) { createPatient(input: $input) { id } }",
        {
            "input": {
                "mrn": f"B{n:07d}",
                "name": f"Bench Patient {n}",
                "dateOfBirth": "1980-05-17",
                "facilityId": clinic.facility,
                "sex": "F",
            }
        },
    )
    return data["createPatient"]["id"]


async def add_patients(clients: list[GraphQL], clinic: Clinic, count: int) -> list[str]:
    """`count` patients, created over several connections at once."""
    out: list[str] = []

    async def worker(client: GraphQL, share: int) -> None:
        for _ in range(share):
            out.append(await add_patient(client, clinic))

    shares = [count // len(clients) + (1 if i < count % len(clients) else 0) for i in range(len(clients))]
    await asyncio.gather(*(worker(c, s) for c, s in zip(clients, shares, strict=False)))
    return out


CREATE_GROUP = "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }"


def program_group_input(clinic: Clinic, index: int) -> dict:
    """Alternately an IOP group (Mon/Wed/Fri, 3 h) and a PHP group (Mon-Fri, 5 h), anchored 5 Jan 2026."""
    iop = index % 2 == 0
    return {
        "name": f"{'IOP' if iop else 'PHP'} bench {index}",
        "groupType": "IOP" if iop else "PHP",
        "facilityId": clinic.facility,
        "facilitatorId": clinic.staff[0],
        "maxCapacity": 12,
        "durationMinutes": 180 if iop else 300,
        "recurrenceRule": "FREQ=WEEKLY;BYDAY=MO,WE,FR" if iop else "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "recurrenceStart": "2026-01-05T09:00:00-07:00",
    }
