"""Privacy in the logs (rules.md §3): over a whole clinic day (registration, enrollment, a session,
attendance, billing, a submitted 837P, a forced correction, searches and refusals) no patient name,
MRN or date of birth reaches a log line at any level: not in-process with every logger at DEBUG,
not on the stdout/stderr of two server processes serving the same day."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone

import httpx

from tests.conftest import GraphQLClient, make_token
from tests.support.builders import Clinic
from tests.support.builders_hardening import ServerProcess

PATIENTS = [
    {"mrn": "ZQ-778812", "name": "Zephyrine Quillfeather", "dateOfBirth": "1961-07-23"},
    {"mrn": "BA-4411902", "name": "Bartholomew Ashcombe-Vries", "dateOfBirth": "1958-11-02"},
]
SECRETS = [value for patient in PATIENTS for value in patient.values()] + [
    "Quillfeather",
    "Ashcombe",
    "19610723",
    "19581102",
    "07/23/1961",
]

SESSION_UPDATES = (
    "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind session { roster { patient { name } } } } }"
)


async def clinic_day(clients: list[GraphQLClient], *, watch=None) -> None:
    """The day, spread over `clients` (one per server process); `watch(session_id)` may subscribe."""
    main = clients[0]
    other = clients[-1]
    clinic = Clinic(main)
    await clinic.facility()
    await clinic.payer()
    await clinic.add_staff("Dana Facilitator")
    await clinic.add_staff("Sam Supervisor")
    await clinic.bands([(1, 4, "90853", "40.00")])
    await clinic.supervision_rule(1)
    patient_ids = []
    for patient in PATIENTS:
        data = await main.execute(
            "mutation($input: PatientInput!) { createPatient(input: $input) { id name mrn dateOfBirth } }",
            {
                "input": {
                    **patient,
                    "facilityId": clinic.facility_id,
                    "sex": "F",
                    "addressLine1": "12 Palo Verde Ln",
                    "city": "Phoenix",
                    "state": "AZ",
                    "postalCode": "85016",
                }
            },
        )
        patient_ids.append(data["createPatient"]["id"])
        await clinic.cover(patient_ids[-1])
        await clinic.diagnose(patient_ids[-1], "F33.1")
        await clinic.supervise(clinic.staff[1], patient_ids[-1])
    # Refusals that carry patient details in their input.
    await main.post(
        "mutation($input: PatientInput!) { createPatient(input: $input) { id } }",
        {"input": {**PATIENTS[0], "facilityId": clinic.facility_id}},
    )
    await main.post(
        "mutation($input: PatientInput!) { createPatient(input: $input) { id } }",
        {"input": {**PATIENTS[1], "dateOfBirth": "2999-01-01", "facilityId": clinic.facility_id}},
    )
    await main.post(
        "mutation($input: PatientInput!) { createPatient(input: $input) { id } }",
        {"input": {**PATIENTS[1], "mrn": PATIENTS[1]["mrn"] * 20, "facilityId": clinic.facility_id}},
    )
    for term in (PATIENTS[0]["name"], PATIENTS[1]["mrn"], "Quillfeather\x00"):
        await other.post(
            "query($s: String) { patients(search: $s) { edges { node { name mrn dateOfBirth } } } }", {"s": term}
        )

    group = (
        await main.execute(
            "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }",
            {
                "input": {
                    "name": "Morning CBT",
                    "groupType": "THERAPY",
                    "facilityId": clinic.facility_id,
                    "facilitatorId": clinic.staff[0],
                    "maxCapacity": 1,
                    "durationMinutes": 60,
                }
            },
        )
    )["createGroup"]["id"]
    enrollments = []
    for patient_id in patient_ids:
        data = await other.execute(
            "mutation($g: ID!, $p: ID!) { enrollPatient(groupId: $g, patientId: $p) { enrollment { id } message } }",
            {"g": group, "p": patient_id},
        )
        enrollments.append(data["enrollPatient"]["enrollment"]["id"])

    ended = datetime.now(timezone.utc) - timedelta(hours=1)
    session = (
        await main.execute(
            "mutation($input: CreateGroupSessionInput!) { createGroupSession(input: $input) { id roster { id patient { name } } } }",
            {
                "input": {
                    "facilityId": clinic.facility_id,
                    "groupType": "THERAPY",
                    "title": "Morning CBT",
                    "startsAt": (ended - timedelta(hours=1)).isoformat(),
                    "endsAt": ended.isoformat(),
                    "patientIds": patient_ids,
                    "facilitatorId": clinic.staff[0],  # the rendering clinician (837P 2310B)
                }
            },
        )
    )["createGroupSession"]
    watching = asyncio.create_task(watch(session["id"])) if watch else None
    await asyncio.sleep(0.3 if watch else 0)
    for entry in session["roster"]:
        await other.execute(
            "mutation($id: ID!) { setAttendance(participantId: $id, status: ATTENDED) { id } }", {"id": entry["id"]}
        )
    await main.post(
        'mutation($id: ID!, $c: BillingIssueCode!) { acceptBillingIssue(sessionId: $id, code: $c, note: "ok") { readyToBill } }',
        {"id": session["id"], "c": "SUPERVISION_RATIO_BREACH"},
    )
    await main.execute("mutation($id: ID!) { runBilling(sessionId: $id) { id } }", {"id": session["id"]})
    claims = await main.execute("query($id: ID!) { groupSession(id: $id) { claims { id } } }", {"id": session["id"]})
    for claim in claims["groupSession"]["claims"]:
        await other.post("mutation($id: ID!) { submitClaim(claimId: $id) { edi837 } }", {"id": claim["id"]})
    await main.execute(
        "mutation($id: ID!, $r: String) { setAttendance(participantId: $id, status: ABSENT, force: true, reason: $r) { id } }",
        {"id": session["roster"][0]["id"], "r": "Left early; chart corrected by the supervisor"},
    )
    await other.post(
        "mutation($id: ID!) { setAttendance(participantId: $id, status: ABSENT) { id } }",
        {"id": session["roster"][0]["id"]},
    )  # locked: 409
    await main.execute(
        'mutation($id: ID!) { disenrollPatient(enrollmentId: $id, reason: "Moved away") { message } }',
        {"id": enrollments[0]},
    )
    await other.execute(
        "query($id: ID!) { node(id: $id) { ... on Patient { name mrn dateOfBirth charges { amount } } } }",
        {"id": patient_ids[1]},
    )
    await main.execute("{ integrationEvents(first: 100) { edges { node { type payload } } } }")
    if watching:
        await asyncio.sleep(0.5)  # let the last updates reach the watcher
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


LIBRARY_LOGGERS = ("sqlalchemy", "asyncpg", "broadcaster", "strawberry", "uvicorn", "websockets", "httpx", "app")


def every_logger_at_debug(caplog) -> None:
    """DEBUG on the root and on every logger a library set a level on (SQLAlchemy sets WARN on its own)."""
    caplog.set_level(logging.DEBUG)
    names = set(LIBRARY_LOGGERS) | {
        n for n, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)
    }
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name)


async def test_no_patient_detail_reaches_any_log_at_debug(gql, ws, caplog):
    every_logger_at_debug(caplog)
    received = []

    async def watch(session_id: str) -> None:
        async with ws() as socket:
            await socket.receive_json()
            await socket.send_json(
                {"id": "1", "type": "subscribe", "payload": {"query": SESSION_UPDATES, "variables": {"id": session_id}}}
            )
            while True:
                received.append(await socket.receive_json())

    await clinic_day([gql], watch=watch)
    assert leaks(str(received)), "the watcher saw the patients' names: they did pass through"
    logged = (
        "\n".join(
            f"{record.name} {record.getMessage()} {record.exc_text or ''} {record.stack_info or ''}"
            for record in caplog.records
        )
        + caplog.text
    )
    assert len(caplog.records) > 0
    assert leaks(logged) == [], [r.getMessage()[:300] for r in caplog.records if leaks(r.getMessage())][:3]


DEBUG_SERVER = (
    "import logging, sys; logging.basicConfig(level=logging.DEBUG, stream=sys.stderr); "
    f"[logging.getLogger(n).setLevel(logging.DEBUG) for n in {LIBRARY_LOGGERS!r}]; "
    "from app.cli import main; main()"
)


async def test_no_patient_detail_reaches_the_output_of_two_server_processes(database_url, tmp_path):
    """Two processes on one database (postgres broadcaster), every logger at DEBUG on stderr, a watcher
    on one while the other writes."""
    env = {"BROADCAST_URL": "postgres://"}
    servers = [ServerProcess(database_url, tmp_path, env, python_code=DEBUG_SERVER) for _ in range(2)]
    token = make_token()
    async with AsyncExitStack() as stack:
        for server in servers:
            await server.start()
            stack.push_async_callback(server.stop)
        clients = [
            GraphQLClient(await stack.enter_async_context(httpx.AsyncClient(base_url=s.base_url, timeout=60)), token)
            for s in servers
        ]

        async def watch(session_id: str) -> None:
            from httpx_ws import aconnect_ws

            async with (
                httpx.AsyncClient(base_url=servers[1].base_url) as client,
                aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as socket,
            ):
                await socket.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
                await socket.receive_json()
                await socket.send_json(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SESSION_UPDATES, "variables": {"id": session_id}},
                    }
                )
                while True:
                    received.append(await socket.receive_json())

        received = []
        await clinic_day(clients, watch=watch)
        assert len(received) > 2 and leaks(str(received)), "updates from one process reached a watcher on the other"
    outputs = [server.log() for server in servers]
    assert all("POST /graphql" in output for output in outputs)  # the processes did log, and served
    for output in outputs:
        lines = [line for line in output.splitlines() if leaks(line)]
        assert lines == [], lines[:3]
