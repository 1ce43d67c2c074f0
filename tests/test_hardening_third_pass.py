"""Issue 25, the third pass: each attack the probe found, reproduced through the endpoint, refused or
bounded, while a canary client (tests/support/canary.py) is served beside it."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.auth import mint_display_token
from tests.conftest import GRAPHQL_ACCEPT, SECRET, make_token
from tests.support.canary import served_during

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

            trials = iter(range(100))

            async def attack(token=token, query=query, kind=kind, who=who, trials=trials):
                # each one new to the server, in every trial (a cached parse or a replayed key would
                # hide the cost)
                trial = next(trials)
                return await asyncio.gather(
                    *(keyed_post(http, token, f"# {who} {trial} {i}\n{query}", f"{kind}-{trial}-{i}") for i in range(8))
                )

            measured = await served_during(attack, gql, f"8 keyed {kind} documents of {who}")
            for response in measured.result:
                assert response.status_code < 500, response.text
                codes = {e["extensions"]["code"] for e in response.json().get("errors", [])}
                assert "INTERNAL" not in codes
                if kind == "many tokens":
                    assert codes == {"QUERY_TOO_COMPLEX"}, response.text


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

    # Sent once unmeasured, so the measurement is of the rules, not of the process's first ten
    # concurrent createGroups (the pool's new connections, the statements' first compilation: 200-400
    # ms on a busy machine, once)
    await attack()
    measured = await served_during(attack, gql, "10 creates with a rule that never meets")
    for i, response in enumerate(measured.result):
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert f"{NEVER_MEETS};COUNT={5 + i}" in error["message"] and "30 years" in error["message"]
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
    measured = await served_during(
        lambda: gql.post(compliance_of_thirty_weeks(), {"id": group}),
        gql,
        "30 weeks of compliance over a rule that never meets",
    )
    body = measured.result.json()
    assert "errors" not in body, body
    assert {c["hoursPerWeek"] for c in body["data"]["group"].values()} == {0.0}


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


# ------------------------------------------------------------------ rows 6, 7, 14: audit reads

GROUP_AUDIT = """query($id: ID!) { group(id: $id) {
  auditLog(first: 100) { totalCount edges { node { entityType action after } } } } }"""


async def test_a_groups_audit_log_shows_enrollment_history_only_to_who_may_read_enrollments(gql, clinic):
    from app.ids import split_id
    from app.rules.scopes import Scope
    from tests.support.builders_enrollment import disenroll, enroll, make_group

    group = await make_group(gql, clinic)
    patient = await clinic.add_patient()
    patient_raw = split_id(patient)[1]
    enrolled = await enroll(gql, group, patient)
    await disenroll(gql, enrolled["enrollment"]["id"], reason="Moved to Flagstaff to live with her sister")
    full = (await gql.execute(GROUP_AUDIT, {"id": group}))["group"]["auditLog"]
    assert "Enrollment" in {e["node"]["entityType"] for e in full["edges"]}

    definitions_only = gql.as_(scopes=[Scope.GROUP_DEFINITIONS_VIEW])
    response = await definitions_only.post(GROUP_AUDIT, {"id": group})
    body = response.json()
    assert "errors" not in body, body
    log = body["data"]["group"]["auditLog"]
    assert "Enrollment" not in {e["node"]["entityType"] for e in log["edges"]}
    assert log["totalCount"] == len(log["edges"]) == sum(e["node"]["entityType"] != "Enrollment" for e in full["edges"])
    assert "Flagstaff" not in response.text and patient not in response.text and patient_raw not in response.text
    with_enrollments = gql.as_(scopes=[Scope.GROUP_DEFINITIONS_VIEW, Scope.ENROLLMENTS_VIEW])
    assert (await with_enrollments.execute(GROUP_AUDIT, {"id": group}))["group"]["auditLog"] == full


async def add_audit_entries(services, session_id: str, count: int, **columns) -> None:
    from sqlalchemy import insert

    from app.db import models
    from app.ids import split_id

    raw = split_id(session_id)[1]
    rows = [
        {
            "actor": "inflater",
            "action": columns.get("action", "attendance.set"),
            "entity_type": columns.get("entity_type", "RosterEntry"),
            "entity_id": raw,
            "session_id": raw,
            "after": columns.get("after", {"status": "PRESENT", "padding": "x" * 300}),
        }
        for _ in range(count)
    ]
    async with services.sessionmaker() as db, db.begin():
        await db.execute(insert(models.AuditEntry), rows)


async def test_a_sessions_audit_log_is_paged_and_costed_by_its_page(gql, clinic, services):
    from tests.support.builders_sessions import create_session

    sessions = [await create_session(gql, clinic, title=f"Group {i}") for i in range(10)]
    for session in sessions:
        await add_audit_entries(services, session["id"], 5_001)
    # The issue's read: ten sessions' audit logs (cost 510) returned 50,010 entries, 19 MB.
    document = """{ groupSessions(first: 10, filter: {from: "2026-03-01", to: "2026-03-31"}) {
      edges { node { auditLog { id action after } } } } }"""
    measured = await served_during(lambda: gql.post(document), gql, "ten sessions' audit logs of 5,001 entries each")
    body = measured.result.json()
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requested"] <= 600  # what it returns: 10 + 10 × 50
    logs = [edge["node"]["auditLog"] for edge in body["data"]["groupSessions"]["edges"]]
    assert len(logs) == 10 and {len(log) for log in logs} == {50}
    assert len(measured.result.content) < 2_000_000

    paged = """query($id: ID!, $after: String) { node(id: $id) { ... on GroupSession {
      auditLogPage(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } } }"""
    first = (await gql.execute(paged, {"id": sessions[0]["id"]}))["node"]["auditLogPage"]
    assert first["totalCount"] == 5_001 + 1 and len(first["edges"]) == 100 and first["pageInfo"]["hasNextPage"]
    second = (await gql.execute(paged, {"id": sessions[0]["id"], "after": first["pageInfo"]["endCursor"]}))["node"]
    assert not {e["node"]["id"] for e in first["edges"]} & {e["node"]["id"] for e in second["auditLogPage"]["edges"]}
    response = await gql.post(
        "{ groupSessions(first: 100) { edges { node { auditLogPage(first: 100) { edges { node { id } } } } } } }"
    )
    assert response.json()["extensions"]["cost"]["requested"] >= 100 * 100  # counted by its page size


async def test_claim_numbers_in_a_sessions_audit_log_only_with_billing_read(gql, clinic, services):
    from app.rules.scopes import ALL_SCOPES
    from tests.support.builders_sessions import create_session

    session = await create_session(gql, clinic)
    after = {"status": "SUBMITTED", "frequency": "1", "claimNumber": "GS-000417-A", "payerClaimNumber": "ICN7788"}
    await add_audit_entries(services, session["id"], 1, action="claim.submit", entity_type="Claim", after=after)
    document = """query($id: ID!) { node(id: $id) { ... on GroupSession {
      auditLog { action after } auditLogPage(first: 10) { edges { node { action before after } } } } } }"""
    reader = gql.as_(scopes=[s for s in ALL_SCOPES if s != "billing.read"])
    response = await reader.post(document, {"id": session["id"]})
    assert "errors" not in response.json(), response.text
    assert "GS-000417-A" not in response.text and "ICN7788" not in response.text
    node = response.json()["data"]["node"]
    assert [e["after"] for e in node["auditLog"] if e["action"] == "claim.submit"] == [{"status": "SUBMITTED"}]
    billing = await gql.execute(document, {"id": session["id"]})
    assert [e["after"] for e in billing["node"]["auditLog"] if e["action"] == "claim.submit"] == [after]


# ------------------------------------------------------------------ rows 11, 12: persisted queries, cache memory


async def test_a_persisted_query_hash_is_known_only_to_the_caller_that_sent_it(http, gql, clinic):
    import hashlib

    secret_search = '{ patients(search: "Montgomery-Whitaker") { totalCount } }'
    digest = hashlib.sha256(secret_search.encode()).hexdigest()

    def body(query: str | None, sha: str) -> dict:
        request = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
        if query is not None:
            request["query"] = query
        return request

    async def send(token: str, request: dict):
        headers = {"Authorization": f"Bearer {token}", "Accept": GRAPHQL_ACCEPT}
        return await http.post("/graphql", json=request, headers=headers)

    author = make_token(subject="clinician")
    assert (await send(author, body(secret_search, digest))).status_code == 200
    assert (await send(author, body(None, digest))).json()["data"]["patients"]["totalCount"] == 0
    for prober in (
        make_token(subject="prober", scopes=()),  # once: FORBIDDEN, telling the hash was known
        make_token(subject="prober"),
        make_token(subject="clinician", facilities=[clinic.facility_id]),  # the same subject, another tenant
    ):
        known = await send(prober, body(None, digest))
        unknown = await send(prober, body(None, hashlib.sha256(b"never sent").hexdigest()))
        assert known.status_code == unknown.status_code
        assert known.json() == unknown.json()
        assert known.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def held_memory(build) -> tuple[object, int]:
    """What `build()` returns and the bytes it still holds once built (tracemalloc)."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        built = build()
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return built, held


def test_the_persisted_query_budget_counts_every_entrys_memory():
    from app.http.persisted_queries import PersistedQueries

    budget = 256 * 1024

    def flood():
        store = PersistedQueries(max_bytes=budget)
        for i in range(8_000):  # tiny documents from many callers: their text was all that was counted
            store.put(f'["caller-{i % 97}", []]', f"{i:064x}", f"{{a{i}}}")
        return store

    store, held = held_memory(flood)
    assert store.stored_bytes <= budget
    assert held <= budget * 1.1, f"the store holds {held} bytes within a budget of {budget}"
    assert len(store) > 200  # and it still keeps what fits


def test_the_parser_cache_budget_counts_what_parsed_documents_hold():
    from app.schema.parsing import ParsedDocuments, document_cost

    budget = 4 * 1024 * 1024

    def documents(i: int) -> str:
        return "query Q%d { " % i + " ".join(f"a{j}: __typename" for j in range(300)) + " }"

    def parse_many():
        cache = ParsedDocuments(max_tokens=5000, max_bytes=budget)
        for i in range(30):  # 97 MB grew in the parser cache after 200 large documents
            text = documents(i)
            cache._keep(text, cache._parse(text))
        return cache

    cache, held = held_memory(parse_many)
    assert cache.stored_bytes <= budget and len(cache) >= 3
    assert held <= budget * 1.1, f"the parser cache holds {held} bytes within a budget of {budget}"
    for text in (documents(0), "{ viewer { subject } }", "{ a: __typename } # " + "x" * 100_000):
        from graphql import parse

        document, memory = held_memory(lambda text=text: parse(text))
        assert document_cost(text, document) >= memory, (text[:30], memory)


# ------------------------------------------------------------------ rows 9, 8: per socket and per caller


class PeakConnections:
    """The most database connections checked out of the pool at once while it is entered."""

    def __init__(self, engine) -> None:
        self.pool = engine.sync_engine.pool
        self.out = self.peak = 0

    def _checkout(self, *_):
        self.out += 1
        self.peak = max(self.peak, self.out)

    def _checkin(self, *_):
        self.out -= 1

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.pool, "checkout", self._checkout)
        event.listen(self.pool, "checkin", self._checkin)
        return self

    def __exit__(self, *_):
        from sqlalchemy import event

        event.remove(self.pool, "checkout", self._checkout)
        event.remove(self.pool, "checkin", self._checkin)


TEN_LISTS = "{ " + " ".join(f"g{i}: groups(first: 5) {{ totalCount }}" for i in range(10)) + " }"


async def test_one_socket_of_a_hundred_queries_holds_the_sockets_three_connections(ws, gql, clinic, services):
    caller = make_token(subject="busy-socket")

    async def attack():
        async with ws(caller) as socket:
            assert (await socket.receive_json())["type"] == "connection_ack"
            for i in range(100):
                await socket.send_json({"id": f"q{i}", "type": "subscribe", "payload": {"query": TEN_LISTS}})
            done, answers = set(), 0
            while len(done) < 100:
                message = await asyncio.wait_for(socket.receive_json(), 60)
                if message["type"] == "next":
                    assert "errors" not in message["payload"], message
                    answers += 1
                elif message["type"] == "complete":
                    done.add(message["id"])
                else:
                    raise AssertionError(message)
            return answers

    with PeakConnections(services.engine) as connections:
        assert await attack() == 100
    # the socket's 3 for its reads and a few its loads share: never the whole pool (it was: 100 × 3).
    # Another client then finds a connection free; the time it waits for the loop behind 1,000 list
    # reads is CPU, not connections, and is not what this bounds.
    assert connections.peak <= 6, connections.peak


async def test_one_callers_concurrent_requests_share_its_connections(gql, services, clinic):
    caller = gql.as_(subject="busy-caller")
    with PeakConnections(services.engine) as connections:
        answers = await asyncio.gather(*(caller.post(TEN_LISTS) for _ in range(30)))
    assert all("errors" not in r.json() for r in answers)
    # its reads' six and a few of its batched loads' (without the cap: the whole pool, 20); the loop's
    # own share of 300 list reads is CPU, not connections, and is not what this bounds
    assert connections.peak <= services.settings.db_connections_per_caller + 3, connections.peak


async def test_one_callers_open_websockets_are_capped(ws, services):
    from contextlib import AsyncExitStack

    limit = services.settings.websockets_per_caller
    token = make_token(subject="many-sockets")
    async with AsyncExitStack() as stack:
        for _ in range(limit):
            socket = await stack.enter_async_context(ws(token))
            assert (await socket.receive_json())["type"] == "connection_ack"
        extra = await stack.enter_async_context(ws(token))
        from httpx_ws import WebSocketDisconnect

        try:
            message = await asyncio.wait_for(extra.receive_json(), 5)
            raise AssertionError(message)
        except WebSocketDisconnect as closed:
            assert closed.code == 4429
        other = await stack.enter_async_context(ws(make_token(subject="someone-else")))
        assert (await other.receive_json())["type"] == "connection_ack"


async def test_one_callers_subscriptions_and_distinct_documents_are_capped(ws, gql, clinic, services):
    from tests.support.builders_sessions import create_session

    session = await create_session(gql, clinic)
    documents = services.settings.subscription_documents_per_caller
    token = make_token(subject="watcher")

    def watch(n: int) -> str:  # distinct documents: each field list differs
        return f"subscription W{n}($id: ID!) {{ sessionUpdates(sessionId: $id) {{ kind sequence }} }}"

    async with ws(token) as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        for n in range(documents):
            payload = {"query": watch(n), "variables": {"id": session["id"]}}
            await socket.send_json({"id": f"s{n}", "type": "subscribe", "payload": payload})
            assert (await asyncio.wait_for(socket.receive_json(), 10))["payload"]["data"]["sessionUpdates"]["kind"] == (
                "SNAPSHOT"
            )
        payload = {"query": watch(documents), "variables": {"id": session["id"]}}
        await socket.send_json({"id": "one-too-many", "type": "subscribe", "payload": payload})
        refused = await asyncio.wait_for(socket.receive_json(), 10)
        assert refused["id"] == "one-too-many", refused
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX" and "distinct" in errors[0]["message"]
        # the same document again, with other variables, is no new document
        payload = {"query": watch(0), "variables": {"id": session["id"]}}
        await socket.send_json({"id": "same-again", "type": "subscribe", "payload": payload})
        again = await asyncio.wait_for(socket.receive_json(), 10)
        while again["type"] == "complete" and again["id"] == "one-too-many":
            again = await asyncio.wait_for(socket.receive_json(), 10)
        assert again["id"] == "same-again" and again["payload"]["data"]["sessionUpdates"]["kind"] == "SNAPSHOT"
    # once the socket is gone, its subscriptions no longer count
    async with ws(token) as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"
        payload = {"query": watch(documents), "variables": {"id": session["id"]}}
        await socket.send_json({"id": "later", "type": "subscribe", "payload": payload})
        later = await asyncio.wait_for(socket.receive_json(), 10)
        assert later["payload"]["data"]["sessionUpdates"]["kind"] == "SNAPSHOT", later


# ------------------------------------------------------------------ row 10: X-Forwarded-For


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
async def test_x_forwarded_for_names_the_client_only_from_a_configured_proxy(database_url, trusted):
    import httpx

    from tests.support.server import start_server

    env = {"GS_DISPLAY_CODES_PER_CLIENT": "3", "GS_TRUSTED_PROXIES": trusted}
    async with start_server(database_url, env) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        statuses = [
            (await client.post("/display/pairings", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
            for i in range(5)
        ]
    if trusted:  # a proxy we were told about: each forwarded address is a client of its own
        assert statuses == [201] * 5, statuses
    else:  # from the same host, or through a proxy that passes the header on: one client, 3 codes
        assert statuses == [201, 201, 201, 429, 429], statuses


# ------------------------------------------------------------------ row 14: names, calendar feeds

INVISIBLE = {
    "right-to-left override": "Ana\u202eztneM",
    "line separator": "Ana\u2028Mendez",
    "byte order mark": "\ufeffAna Mendez",
    "zero-width space": "Ana\u200bMendez",
    "first strong isolate": "Ana \u2068Mendez\u2069",
    "left-to-right mark": "Ana\u200e Mendez",
}


@pytest.mark.parametrize("label", sorted(INVISIBLE))
async def test_names_refuse_invisible_direction_and_spacing_characters(gql, clinic, label):
    from tests.support.builders_scheduling import GROUP

    name = INVISIBLE[label]
    patient = {"mrn": "MRN-BIDI", "name": name, "dateOfBirth": "1980-05-17", "facilityId": clinic.facility_id}
    staff = {"name": name, "facilityId": clinic.facility_id, "npi": "1234567893"}
    facility = {"name": name, "state": "AZ", "timezone": "America/Phoenix", "npi": "1234567893"}
    group = {
        "name": name,
        "groupType": "IOP",
        "facilityId": clinic.facility_id,
        "facilitatorId": clinic.staff[0],
        "maxCapacity": 8,
        "durationMinutes": 180,
    }
    calls = {
        "createPatient": ("mutation($input: PatientInput!) { createPatient(input: $input) { id } }", patient),
        "createStaff": ("mutation($input: StaffInput!) { createStaff(input: $input) { id } }", staff),
        "createFacility": ("mutation($input: FacilityInput!) { createFacility(input: $input) { id } }", facility),
        "createGroup": (GROUP, group),
    }
    before = await gql.execute("{ patients(first: 100) { totalCount } groups(first: 100) { totalCount } }")
    for mutation, (document, data) in calls.items():
        _, code, body = await gql.error(document, {"input": data})
        assert code == "BAD_USER_INPUT", (mutation, body)
        assert "invisible" in body["errors"][0]["message"], (mutation, body)
    after = await gql.execute("{ patients(first: 100) { totalCount } groups(first: 100) { totalCount } }")
    assert after == before


async def test_names_keep_the_joiners_that_scripts_need(gql, clinic):
    patient = await clinic.add_patient(name="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Rahimi")  # ZWNJ
    assert patient


async def test_a_calendar_feed_expires_and_a_creators_other_tokens_change_nothing(
    gql, http, clinic, test_clock, services
):
    from datetime import timedelta

    from app.rules.scopes import ALL_SCOPES
    from tests.support.builders_enrollment import make_group

    group = await make_group(gql, clinic)
    create = """mutation($group: ID!) { createCalendarFeed(groupId: $group) { url feed { id expiresAt } } }"""
    creator = gql.as_(subject="scheduler", facilities=[clinic.facility_id])

    async def new_feed() -> tuple[str, str]:
        made = (await creator.execute(create, {"group": group}))["createCalendarFeed"]
        return made["url"].split("://", 1)[-1].partition("/")[2], made["feed"]["expiresAt"]

    path, expires_at = await new_feed()
    assert (await http.get("/" + path)).status_code == 200
    days = services.settings.calendar_feed_days
    assert expires_at is not None
    test_clock.advance(timedelta(days=days, minutes=1))
    assert (await http.get("/" + path)).status_code == 404  # expired
    test_clock.reset()

    path, _ = await new_feed()
    assert (await http.get("/" + path)).status_code == 200
    await gql.as_(subject="someone-else", scopes=()).post("{ viewer { subject } }")  # others change nothing
    assert (await http.get("/" + path)).status_code == 200
    # a narrower token of the creator (an app asking for fewer scopes) is no lost access
    narrower = gql.as_(subject="scheduler", facilities=[clinic.facility_id], scopes=["pm.group_definitions.view"])
    await narrower.post("{ viewer { subject } }")
    assert (await http.get("/" + path)).status_code == 200
    # nor is a token of the creator for another facility: a scheduler of two clinics uses one token per
    # clinic, and a call with one says nothing of their access to the other (calls about another
    # facility's records write nothing: tests/test_access_control.py). Lost access ends with the expiry
    # or a revocation.
    other = await clinic.facility(name="Elsewhere")
    elsewhere = gql.as_(subject="scheduler", facilities=[other], scopes=ALL_SCOPES)
    await elsewhere.post("{ viewer { subject } }")
    assert (await http.get("/" + path)).status_code == 200
    feeds = await gql.execute("{ calendarFeeds(includeRevoked: true) { edges { node { revokedAt } } } }")
    assert not any(edge["node"]["revokedAt"] for edge in feeds["calendarFeeds"]["edges"][-1:])
