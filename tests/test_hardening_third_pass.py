"""Issue 25, the third pass: each attack the probe found, reproduced through the endpoint, refused or
bounded, while a canary client (tests/support/canary.py) is served beside it."""

from __future__ import annotations

import asyncio
import json

from app.auth import mint_display_token
from tests.conftest import GRAPHQL_ACCEPT, SECRET, make_token
from tests.support.canary import assert_canary_served, canary_during

# ------------------------------------------------------------------ row 1: Idempotency-Key parsing


def huge_mutations() -> dict[str, str]:
    """~255 KB documents of the kinds that cost a parser most: many tokens, and few long ones."""
    many_tokens = "mutation { " + " ".join(f"a{i}: __typename" for i in range(13_000)) + " }"
    long_string = "mutation { __typename @skip(if: false) } # " + "x" * 250_000
    long_names = "mutation { " + " ".join(f"{'n' * 2000}{i}: __typename" for i in range(120)) + " }"
    return {"many tokens": many_tokens, "a long comment": long_string, "long names": long_names}


async def keyed_post(http, token: str, query: str, key: str):
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": GRAPHQL_ACCEPT,
        "Idempotency-Key": key,
    }
    return await http.post("/graphql", content=json.dumps({"query": query}), headers=headers)


async def test_idempotency_key_documents_are_parsed_within_the_token_limit_off_the_loop(http, gql, clinic):
    tokens = {
        "no scopes": make_token(scopes=(), subject="nobody"),
        "a display's credential": mint_display_token(SECRET, "display-1", clinic.facility_id, 1, 600),
        "an admin": make_token(subject="admin"),
    }
    for who, token in tokens.items():
        for kind, query in huge_mutations().items():
            assert 200_000 < len(query) < 251_000

            async def attack(token=token, query=query, kind=kind, who=who):
                # each one new to the server (a cached parse would hide the cost)
                return await asyncio.gather(
                    *(keyed_post(http, token, f"# {who} {i}\n{query}", f"{kind}-{i}") for i in range(8))
                )

            measured = await canary_during(attack(), gql)
            for response in measured.result:
                assert response.status_code < 500, response.text
                codes = {e["extensions"]["code"] for e in response.json().get("errors", [])}
                assert "INTERNAL" not in codes
                if kind == "many tokens":
                    assert codes == {"QUERY_TOO_COMPLEX"}, response.text
            assert_canary_served(measured, f"8 keyed {kind} documents of {who}")


# ------------------------------------------------------------------ row 2: rules that never meet

NEVER_MEETS = "FREQ=DAILY;INTERVAL=7;BYDAY=TU"  # from a Monday, every 7th day is a Monday
MONDAY = "2026-01-05T09:00:00-07:00"


async def test_a_rule_that_can_never_produce_a_date_is_refused_naming_it_without_stalling_others(gql, clinic):
    from tests.support.builders_scheduling import GROUP

    def create(i: int, rule: str):
        data = {
            "name": f"Never {i}",
            "groupType": "IOP",
            "facilityId": clinic.facility_id,
            "facilitatorId": clinic.staff[0],
            "maxCapacity": 8,
            "durationMinutes": 180,
            "recurrenceRule": rule,
            "recurrenceStart": MONDAY,
        }
        return gql.post(GROUP, {"input": data})

    async def attack():
        return await asyncio.gather(*(create(i, f"{NEVER_MEETS};COUNT={5 + i}") for i in range(10)))

    measured = await canary_during(attack(), gql)
    for i, response in enumerate(measured.result):
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert f"{NEVER_MEETS};COUNT={5 + i}" in error["message"] and "30 years" in error["message"]
    assert_canary_served(measured, "10 creates with a rule that never meets")
    groups = await gql.execute("{ groups(first: 100) { totalCount } }")
    assert groups["groups"]["totalCount"] == 0  # nothing half-written


async def test_compliance_over_a_stored_rule_that_never_meets_is_bounded(gql, clinic, services):
    """A rule stored before the check: each of 30 weeks used to walk to year 9999 (23 s of CPU)."""
    from sqlalchemy import update

    from app.db import models
    from app.ids import split_id
    from tests.support.builders_scheduling import create_group
    from tests.test_event_loop_fairness import compliance_of_thirty_weeks

    group = await create_group(gql, clinic, recurrenceRule="FREQ=WEEKLY;BYDAY=MO", recurrenceStart=MONDAY)
    async with services.sessionmaker() as db, db.begin():
        await db.execute(
            update(models.GroupDefinition)
            .where(models.GroupDefinition.id == split_id(group)[1])
            .values(recurrence_rule=NEVER_MEETS)
        )
    measured = await canary_during(gql.post(compliance_of_thirty_weeks(), {"id": group}), gql)
    body = measured.result.json()
    assert "errors" not in body, body
    assert {c["hoursPerWeek"] for c in body["data"]["group"].values()} == {0.0}
    assert_canary_served(measured, "30 weeks of compliance over a rule that never meets")


# ------------------------------------------------------------------ row 3 (and 12): pairing guesses


async def second_process(settings):
    """Another server process on the same database: its own memory, the same PostgreSQL."""
    import httpx

    from app.main import create_app
    from tests.conftest import GraphQLClient

    application = create_app(settings, background=False)
    lifespan = application.router.lifespan_context(application)
    await lifespan.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test")
    return GraphQLClient(client, make_token()), lifespan


def pair_vars(code: str, facility: str) -> dict:
    from tests.support.builders_displays import ROOM

    return {"code": code, "facilityId": facility, "location": ROOM, "label": "x"}


async def test_a_burst_of_guesses_is_counted_before_any_is_checked_and_locks_one_caller_only(http, gql, clinic):
    from tests.support.builders_displays import PAIR, start_pairing

    pairing = await start_pairing(http)
    guesser = gql.as_(subject="guesser")
    answers = await asyncio.gather(
        *(guesser.post(PAIR, pair_vars(f"ZZZ-{i:03d}", clinic.facility_id)) for i in range(60))
    )
    codes = [a.json()["errors"][0]["extensions"]["code"] for a in answers]
    assert codes.count("NOT_FOUND") == 5 and codes.count("FORBIDDEN") == 55, codes
    # the right code from the guesser is refused too; pairing stays open to everyone else
    _, code, _ = await guesser.error(PAIR, pair_vars(pairing["code"], clinic.facility_id))
    assert code == "FORBIDDEN"
    await gql.as_(subject="colleague").execute(PAIR, pair_vars(pairing["code"], clinic.facility_id))


async def test_many_guessers_close_pairing_for_their_facility_only(http, gql, clinic):
    from tests.support.builders_displays import PAIR, start_pairing

    other = await clinic.facility(name="Elsewhere")
    for n in range(10):  # ten callers, five wrong codes each: the facility's fifty
        guesser = gql.as_(subject=f"guesser-{n}")
        answers = await asyncio.gather(
            *(guesser.post(PAIR, pair_vars(f"ZZZ-{i:03d}", clinic.facility_id)) for i in range(5))
        )
        assert {a.json()["errors"][0]["extensions"]["code"] for a in answers} == {"NOT_FOUND"}
    pairing = await start_pairing(http)
    _, code, _ = await gql.as_(subject="colleague").error(PAIR, pair_vars(pairing["code"], clinic.facility_id))
    assert code == "FORBIDDEN"
    await gql.as_(subject="colleague").execute(PAIR, pair_vars(pairing["code"], other))


async def test_the_guess_limit_holds_across_processes(http, gql, clinic, settings):
    from tests.support.builders_displays import PAIR

    elsewhere, lifespan = await second_process(settings)
    try:
        here, there = gql.as_(subject="guesser"), elsewhere.as_(subject="guesser")
        answers = await asyncio.gather(
            *((here if i % 2 else there).post(PAIR, pair_vars(f"ZZZ-{i:03d}", clinic.facility_id)) for i in range(20))
        )
        codes = [a.json()["errors"][0]["extensions"]["code"] for a in answers]
        assert codes.count("NOT_FOUND") == 5 and codes.count("FORBIDDEN") == 15, codes
    finally:
        await lifespan.__aexit__(None, None, None)


# ------------------------------------------------------------------ row 5: the access log


async def test_the_access_log_shows_path_and_operation_name_never_a_search_or_its_variables(database_url):
    import hashlib
    import urllib.parse

    import httpx

    from tests.support.server import server_process, start_server

    search = "query FindPatient($name: String) { patients(search: $name) { totalCount } }"
    inline = '{ patients(search: "Montgomery-Whitaker") { totalCount } }'
    async with start_server(database_url) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        headers = {"Authorization": f"Bearer {make_token()}", "Accept": GRAPHQL_ACCEPT}
        by_variables = {"query": search, "variables": json.dumps({"name": "Montgomery-Whitaker"})}
        assert (await client.get("/graphql", params=by_variables, headers=headers)).status_code == 200
        assert (await client.get("/graphql", params={"query": inline}, headers=headers)).status_code == 200
        persisted = {  # what Apollo's persisted-query link sends by GET once the hash is known
            "operationName": "FindPatient",
            "variables": json.dumps({"name": "Montgomery-Whitaker"}),
            "extensions": json.dumps(
                {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(search.encode()).hexdigest()}}
            ),
        }
        await client.get("/graphql", params=persisted, headers=headers)
        await client.get("/fhir/R4/Patient", params={"name": "Montgomery-Whitaker"}, headers=headers)
        log_path = server_process(base_url).log_path
        await asyncio.sleep(0.5)
        log = log_path.read_text()
    lines = [line for line in log.splitlines() if '"GET /' in line]
    assert len(lines) >= 4, log
    assert "Montgomery" not in log and "Whitaker" not in log and urllib.parse.quote("Montgomery") not in log
    assert sum('"GET /graphql?operationName=FindPatient HTTP/1.1"' in line for line in lines) == 2, lines
    assert any('"GET /graphql HTTP/1.1" 200' in line for line in lines), lines
    assert any('"GET /fhir/R4/Patient HTTP/1.1"' in line for line in lines), lines
