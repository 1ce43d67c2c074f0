"""Idempotency-Key on mutation requests (rules.md §7): replay within 24 h, CONFLICT on another
body, one run under concurrency, per-subject keys, expiry and purge."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select

from app.db import models
from app.http.idempotency import IdempotencyKeys
from tests.conftest import GRAPHQL_ACCEPT, SECRET, make_token
from tests.support.builders_sessions import CREATE_SESSION, SET_ATTENDANCE, at, create_session

SESSIONS = '{ groupSessions(filter: {from: "2026-03-01", to: "2026-03-31"}) { totalCount } }'


def create_body(clinic, title: str = "Walk-in group") -> dict:
    return {
        "query": CREATE_SESSION,
        "variables": {
            "input": {
                "facilityId": clinic.facility_id,
                "groupType": "SUPPORT",
                "title": title,
                "startsAt": at(9).isoformat(),
                "endsAt": at(10).isoformat(),
                "patientIds": [],
            }
        },
    }


async def post(http, body, key: str | None, token: str | None = None, raw: bytes | None = None):
    headers = {
        "Authorization": f"Bearer {token or make_token()}",
        "Content-Type": "application/json",
        "Accept": GRAPHQL_ACCEPT,
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    return await http.post("/graphql", content=raw if raw is not None else json.dumps(body), headers=headers)


async def session_count(gql) -> int:
    return (await gql.execute(SESSIONS))["groupSessions"]["totalCount"]


async def key_rows(services) -> list[models.IdempotencyKey]:
    async with services.sessionmaker() as session:
        return list((await session.scalars(select(models.IdempotencyKey))).all())


async def test_same_key_and_body_replays_the_first_response(http, gql, clinic):
    first = await post(http, create_body(clinic), "key-1")
    again = await post(http, create_body(clinic), "key-1")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    assert await session_count(gql) == 1


async def test_same_json_written_differently_is_the_same_request(http, gql, clinic):
    body = create_body(clinic)
    await post(http, body, "key-1")
    reordered = json.dumps({"variables": body["variables"], "query": body["query"]}, indent=2).encode()
    again = await post(http, None, "key-1", raw=reordered)
    assert again.headers.get("idempotent-replayed") == "true"
    assert await session_count(gql) == 1


async def test_same_key_with_another_body_is_a_conflict(http, gql, clinic):
    await post(http, create_body(clinic, "First"), "key-1")
    response = await post(http, create_body(clinic, "Second"), "key-1")
    assert response.status_code == 409
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await session_count(gql) == 1


async def test_a_refused_mutation_is_replayed_too_without_running_again(http, gql, clinic, services):
    patient = await clinic.add_patient()
    session = await create_session(gql, clinic, patients=[patient])
    participant = session["roster"][0]["id"]
    await gql.execute(SET_ATTENDANCE, {"participantId": participant, "status": "ATTENDED"})
    body = {"query": SET_ATTENDANCE, "variables": {"participantId": participant, "status": "ATTENDED"}}
    first = await post(http, body, "tablet-7")
    again = await post(http, body, "tablet-7")
    assert first.status_code == again.status_code == 409
    assert again.content == first.content
    assert again.headers.get("idempotent-replayed") == "true"


async def test_a_retried_attendance_change_is_applied_once(http, gql, clinic, services):
    patient = await clinic.add_patient()
    session = await create_session(gql, clinic, patients=[patient])
    body = {"query": SET_ATTENDANCE, "variables": {"participantId": session["roster"][0]["id"], "status": "LATE"}}
    responses = [await post(http, body, "mark-late") for _ in range(3)]
    assert {r.status_code for r in responses} == {200}
    async with services.sessionmaker() as db:
        changes = await db.scalar(select(func.count()).where(models.AuditEntry.action == "attendance.set"))
    assert changes == 1


async def test_two_concurrent_requests_with_one_key_run_once(http, gql, clinic):
    body = create_body(clinic)
    responses = await asyncio.gather(*(post(http, body, "double-tap") for _ in range(4)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert await session_count(gql) == 1


async def test_keys_belong_to_the_token_subject(http, gql, clinic):
    await post(http, create_body(clinic), "shared", token=make_token(subject="nurse-a"))
    response = await post(http, create_body(clinic), "shared", token=make_token(subject="nurse-b"))
    assert "idempotent-replayed" not in response.headers
    assert await session_count(gql) == 2


async def test_a_key_expires_after_24_hours_and_is_purged(http, gql, clinic, services, test_clock, app):
    await post(http, create_body(clinic), "daily")
    test_clock.advance(timedelta(hours=23))
    assert (await post(http, create_body(clinic), "daily")).headers.get("idempotent-replayed") == "true"
    test_clock.advance(timedelta(hours=2))
    # A fresh process: it purges on its first keyed request.
    app.state.graphql.idempotency_keys = IdempotencyKeys(
        services.sessionmaker, services.clock, SECRET, app.state.graphql.schema.documents
    )
    await post(http, create_body(clinic, "Other"), "another-key")
    assert {row.key for row in await key_rows(services)} == {"another-key"}
    response = await post(http, create_body(clinic), "daily")
    assert "idempotent-replayed" not in response.headers
    assert await session_count(gql) == 3


async def test_queries_are_not_recorded(http, gql, clinic, services):
    response = await post(http, {"query": SESSIONS}, "reading")
    assert response.status_code == 200 and await key_rows(services) == []


async def test_requests_without_a_key_run_every_time(http, gql, clinic):
    await post(http, create_body(clinic), None)
    await post(http, create_body(clinic), None)
    assert await session_count(gql) == 2


async def test_an_overlong_key_is_bad_input(http, gql, clinic):
    response = await post(http, create_body(clinic), "k" * 201)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await session_count(gql) == 0


async def test_a_bad_token_is_refused_before_the_key_is_looked_at(http, services, clinic):
    response = await http.post(
        "/graphql", json=create_body(clinic), headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert await key_rows(services) == []


CREATE_PATIENT = """mutation($input: PatientInput!) { createPatient(input: $input) { id name mrn dateOfBirth } }"""


def patient_body(clinic) -> dict:
    return {
        "query": CREATE_PATIENT,
        "variables": {
            "input": {
                "mrn": "MRN-REPLAY-7",
                "name": "Rosalind Vega",
                "dateOfBirth": "1971-04-09",
                "facilityId": clinic.facility_id,
            }
        },
    }


async def test_a_replay_goes_only_to_a_token_with_the_first_callers_scopes_and_facilities(http, gql, clinic):
    """Same subject, same key, same body: a token with no scopes and another facility used to get the
    stored response, patient name and MRN included."""
    from app.auth import ALL_SCOPES
    from app.ids import split_id

    home = split_id(clinic.facility_id)[1]
    other = await clinic.facility(name="Elsewhere")
    first = await post(
        http, patient_body(clinic), "new-patient", token=make_token(subject="nurse-a", facilities=[home])
    )
    assert first.status_code == 200 and "Rosalind Vega" in first.text

    lesser = {
        "no scopes, another facility": make_token(subject="nurse-a", scopes=[], facilities=[other]),
        "every scope, another facility": make_token(subject="nurse-a", facilities=[other]),
        "one scope fewer": make_token(
            subject="nurse-a", scopes=[s for s in ALL_SCOPES if s != "billing.read"], facilities=[home]
        ),
    }
    for label, token in lesser.items():
        response = await post(http, patient_body(clinic), "new-patient", token=token)
        # A token without scopes can run no mutation: its key is not looked at (issue 25), and the
        # mutation itself is FORBIDDEN.
        expected = (200, "FORBIDDEN") if label.startswith("no scopes") else (409, "CONFLICT")
        assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == expected, (
            label,
            response.text,
        )
        assert (
            "Rosalind" not in response.text and "MRN-REPLAY-7" not in response.text and "1971" not in response.text
        ), label

    for label, token in {
        "the same rights": make_token(subject="nurse-a", facilities=[home]),
        "more facilities": make_token(subject="nurse-a", facilities=[home, other]),
        "every facility": make_token(subject="nurse-a"),
    }.items():
        again = await post(http, patient_body(clinic), "new-patient", token=token)
        assert again.headers.get("idempotent-replayed") == "true", label
        assert again.content == first.content, label


async def test_a_stored_response_is_encrypted_at_rest(http, clinic, database_url):
    import asyncpg

    from app.http.idempotency import ResponseSeal
    from tests.conftest import SECRET, asyncpg_dsn

    first = await post(http, patient_body(clinic), "sealed", token=make_token(subject="nurse-b"))
    assert "Rosalind Vega" in first.text
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        row = dict(await conn.fetchrow("SELECT * FROM idempotency_keys WHERE key = 'sealed'"))
    finally:
        await conn.close()
    stored = " ".join(str(value) for value in row.values())
    assert "Rosalind" not in stored and "MRN-REPLAY-7" not in stored and "1971-04-09" not in stored
    assert ResponseSeal(SECRET).open("nurse-b", "sealed", row["sealed_response"]) == first.text
    assert ResponseSeal("another-secret-" + "y" * 30).open("nurse-b", "sealed", row["sealed_response"]) is None
    assert ResponseSeal(SECRET).open("nurse-c", "sealed", row["sealed_response"]) is None  # bound to its row
