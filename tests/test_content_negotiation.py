"""GraphQL over HTTP by the spec (rules.md §3): the answer's media type follows Accept; a client of
application/graphql-response+json gets 400/409/401 when there is no data, an application/json client
gets 200 for every well-formed request with the code in the body. Also the request parameters the
spec checks, request ids, caching and CORS."""

from __future__ import annotations

import pytest

from app.http.negotiation import GRAPHQL_RESPONSE_JSON, JSON, response_media_type
from tests.conftest import make_token
from tests.support.builders_sessions import SET_ATTENDANCE, create_session, lock_session

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON_ACCEPTS = ["application/json", "*/*", None]


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("text/html", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json;q=0.5", JSON),
        ("application/graphql-response+json;q=0", JSON),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_response_media_type_follows_accept(accept, chosen):
    assert response_media_type(accept) == chosen


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, *JSON_ACCEPTS])
async def test_a_successful_query_is_200_in_the_accepted_media_type(gql, accept):
    response = await gql.accepting(accept).post("{ viewer { subject } }")
    assert response.status_code == 200
    expected = GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else "application/json"
    assert response.headers["content-type"].startswith(expected)
    assert response.json()["data"] == {"viewer": {"subject": "tester"}}


@pytest.mark.parametrize(
    "document, variables",
    [
        ("{ viewer { subject ", None),
        ("{ viewer { noSuchField } }", None),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": None}),
        ("{ " + " ".join(f"a{i}: viewer {{ subject }}" for i in range(40)) + " }", None),
    ],
    ids=["does-not-parse", "does-not-validate", "variables-do-not-coerce", "too-complex"],
)
async def test_a_request_error_is_400_without_data_for_the_graphql_response_type(gql, document, variables):
    response = await gql.accepting(GRAPHQL_RESPONSE).post(document, variables)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] in {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"}

    for accept in JSON_ACCEPTS:
        response = await gql.accepting(accept).post(document, variables)
        assert (response.status_code, response.headers["content-type"]) == (200, "application/json"), accept
        assert response.json() == body


async def test_a_locked_session_edit_is_409_for_the_graphql_response_type_and_200_for_json(gql, clinic, services):
    session = await create_session(gql, clinic, patients=[await clinic.add_patient()])
    await lock_session(services, session["id"])
    variables = {"participantId": session["roster"][0]["id"], "status": "ABSENT"}

    response = await gql.accepting(GRAPHQL_RESPONSE).post(SET_ATTENDANCE, variables)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    locked = response.json()
    assert locked["data"] is None and locked["errors"][0]["extensions"]["code"] == "LOCKED"

    for accept in JSON_ACCEPTS:
        response = await gql.accepting(accept).post(SET_ATTENDANCE, variables)
        assert (response.status_code, response.headers["content-type"]) == (200, "application/json"), accept
        assert response.json() == locked


async def test_a_field_error_with_data_is_200_for_both(gql, clinic):
    document = (
        '{ viewer { subject } node(id: "R3JvdXBTZXNzaW9uOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA") { id } }'
    )
    for accept in [GRAPHQL_RESPONSE, "application/json"]:
        response = await gql.accepting(accept).post(document)
        assert response.status_code == 200, accept
        assert response.json()["data"]["viewer"] == {"subject": "tester"}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, *JSON_ACCEPTS])
async def test_a_missing_token_is_401_in_the_accepted_media_type(http, accept):
    request = http.build_request(
        "POST", "/graphql", json={"query": "{ viewer { subject } }"}, headers={"Accept": accept or ""}
    )
    if accept is None:
        del request.headers["Accept"]
    response = await http.send(request)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    expected = GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else "application/json"
    assert response.headers["content-type"].startswith(expected)
    assert response.json() == {
        "errors": [{"message": "Missing bearer token", "extensions": {"code": "UNAUTHENTICATED"}}]
    }


async def test_several_operations_without_operation_name_are_refused(gql):
    document = "query First { viewer { subject } } query Second { viewer { scopes } }"
    status, code, body = await gql.error(document)
    assert (status, code) == (400, "BAD_USER_INPUT") and "data" not in body
    assert "operationName" in body["errors"][0]["message"]
    named = await gql.http.post(
        "/graphql",
        json={"query": document, "operationName": "Second"},
        headers={"Authorization": f"Bearer {gql.token}", "Accept": GRAPHQL_RESPONSE},
    )
    assert named.status_code == 200 and list(named.json()["data"]["viewer"]) == ["scopes"]


async def test_an_unknown_operation_name_is_a_request_error(gql):
    payload = {"query": "query First { viewer { subject } }", "operationName": "Other"}
    for accept, status in [(GRAPHQL_RESPONSE, 400), ("application/json", 200)]:
        response = await gql.http.post(
            "/graphql", json=payload, headers={"Authorization": f"Bearer {gql.token}", "Accept": accept}
        )
        assert response.status_code == status
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("operation_name", [{"obj": "ect"}, 0, False, ["array"]])
async def test_an_operation_name_that_is_not_a_string_is_400(gql, operation_name):
    payload = {"query": "{ viewer { subject } }", "operationName": operation_name}
    response = await gql.http.post("/graphql", json=payload, headers={"Authorization": f"Bearer {gql.token}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_mutation_over_get_is_405_allowing_post(gql):
    response = await gql.http.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"Authorization": f"Bearer {gql.token}"}
    )
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_query_over_get_is_answered(gql):
    response = await gql.http.get(
        "/graphql",
        params={"query": "{ viewer { subject } }"},
        headers={"Authorization": f"Bearer {gql.token}", "Accept": "*/*"},
    )
    assert response.status_code == 200 and response.json()["data"] == {"viewer": {"subject": "tester"}}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, *JSON_ACCEPTS])
async def test_a_subscription_without_a_streaming_accept_is_406_with_a_code(gql, accept, clinic):
    session = await create_session(gql, clinic)
    document = "subscription($id: ID!) { sessionUpdates(sessionId: $id) { kind } }"
    response = await gql.accepting(accept).post(document, {"id": session["id"]})
    assert response.status_code == 406
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "text/event-stream" in error["message"] and "multipart/mixed" in error["message"]


async def test_every_answer_names_its_request_id_and_is_not_cached(gql, http):
    chosen = await gql.post("{ viewer { subject } }", headers={"X-Request-Id": "tablet-7.req-42"})
    assert chosen.headers["x-request-id"] == "tablet-7.req-42"
    assert chosen.headers["cache-control"] == "no-store"
    hostile = await gql.post("{ viewer { subject } }", headers={"X-Request-Id": "x" * 300})
    assert hostile.headers["x-request-id"] != "x" * 300 and len(hostile.headers["x-request-id"]) == 16
    refused = await http.post("/graphql", json={"query": "{ viewer { subject } }"})
    assert refused.status_code == 401 and len(refused.headers["x-request-id"]) == 16
    assert refused.headers["cache-control"] == "no-store"


async def test_an_internal_error_names_the_request_id_the_answer_carries(gql, monkeypatch):
    from app.db.queries import reference

    async def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(reference, "patients_page", explode)
    response = await gql.post("{ patients { totalCount } }", headers={"X-Request-Id": "req-internal-1"})
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL", "requestId": "req-internal-1"}
    assert response.headers["x-request-id"] == "req-internal-1"


async def test_cors_allows_the_tracing_headers_and_exposes_replay_and_request_id(http):
    tracing = (
        "authorization, content-type, idempotency-key, traceparent, tracestate, x-request-id, sentry-trace, baggage"
    )
    preflight = await http.options(
        "/graphql",
        headers={
            "Origin": "https://clinic.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": tracing,
        },
    )
    assert preflight.status_code == 200, preflight.text
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert set(tracing.split(", ")) <= allowed
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { subject } }"},
        headers={"Origin": "https://clinic.example", "Authorization": f"Bearer {make_token()}"},
    )
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"idempotent-replayed", "x-request-id"} <= exposed
