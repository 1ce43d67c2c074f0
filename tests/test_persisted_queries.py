"""Automatic persisted queries: an unknown hash is PERSISTED_QUERY_NOT_FOUND, a document sent with
its hash is checked and kept, later requests carry the hash alone (POST or GET), and the store
stays within its byte budget."""

from __future__ import annotations

import hashlib
import json

import pytest

from app.http.persisted_queries import PersistedQueries
from tests.conftest import GRAPHQL_ACCEPT
from tests.support.builders_sessions import CREATE_SESSION, at

VIEWER = "query PersistedViewer { viewer { subject } }"


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def extension(document: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}


async def post(gql, payload: dict, accept: str = GRAPHQL_ACCEPT, headers: dict | None = None):
    return await gql.http.post(
        "/graphql", json=payload, headers={"Authorization": f"Bearer {gql.token}", "Accept": accept, **(headers or {})}
    )


async def test_an_unknown_hash_is_persisted_query_not_found(gql):
    document = VIEWER + " # unknown"
    response = await post(gql, {"extensions": extension(document)})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    as_json = await post(gql, {"extensions": extension(document)}, accept="*/*")
    assert as_json.status_code == 200 and as_json.json() == response.json()


async def test_a_document_sent_with_its_hash_is_kept_for_hash_only_requests(gql):
    document = VIEWER + " # kept"
    registered = await post(gql, {"query": document, "extensions": extension(document)})
    assert registered.json()["data"] == {"viewer": {"subject": "tester"}}
    by_hash = await post(gql, {"extensions": extension(document)})
    assert by_hash.json()["data"] == {"viewer": {"subject": "tester"}}
    over_get = await gql.http.get(
        "/graphql",
        params={"extensions": json.dumps(extension(document))},
        headers={"Authorization": f"Bearer {gql.token}", "Accept": "*/*"},
    )
    assert over_get.status_code == 200 and over_get.json()["data"] == {"viewer": {"subject": "tester"}}


async def test_a_hash_that_is_not_the_documents_is_refused_and_not_kept(gql):
    document = VIEWER + " # mismatched"
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha256("{ viewer { scopes } }")}}
    response = await post(gql, {"query": document, "extensions": wrong})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    again = await post(gql, {"extensions": wrong})
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "persisted",
    [{"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "xyz"}, {"version": 1}, "v1"],
    ids=["version-2", "not-hex", "no-hash", "not-an-object"],
)
async def test_a_malformed_persisted_query_extension_is_bad_user_input(gql, persisted):
    response = await post(gql, {"extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_persisted_mutation_keeps_its_idempotency_key(gql, clinic):
    document = CREATE_SESSION
    variables = {
        "input": {
            "facilityId": clinic.facility_id,
            "groupType": "SUPPORT",
            "title": "Walk-in group",
            "startsAt": at(9).isoformat(),
            "endsAt": at(10).isoformat(),
            "patientIds": [],
        }
    }
    first = await post(
        gql,
        {"query": document, "variables": variables, "extensions": extension(document)},
        headers={"Idempotency-Key": "apq-1"},
    )
    retry = await post(
        gql, {"variables": variables, "extensions": extension(document)}, headers={"Idempotency-Key": "apq-1"}
    )
    assert first.status_code == retry.status_code == 200
    assert retry.headers.get("idempotent-replayed") == "true"
    assert retry.json() == first.json()
    count = await gql.execute('{ groupSessions(filter: {from: "2026-03-01", to: "2026-03-31"}) { totalCount } }')
    assert count["groupSessions"]["totalCount"] == 1


def test_the_store_keeps_the_most_recently_used_documents_within_its_byte_budget():
    import sys

    from app.http.persisted_queries import ENTRY_OVERHEAD_BYTES, TEXT_OVERHEAD_BYTES

    def cost(key: str, text: str) -> int:  # an entry's memory: its key and slot, and its text's object
        return (
            ENTRY_OVERHEAD_BYTES + sys.getsizeof("me") + sys.getsizeof(key) + TEXT_OVERHEAD_BYTES + sys.getsizeof(text)
        )

    one = cost("a", "x" * 40)
    store = PersistedQueries(max_bytes=2 * one + 10)
    store.put("me", "a", "x" * 40)
    store.put("me", "b", "y" * 40)
    assert store.get("me", "a") == "x" * 40  # a is now the most recently used
    store.put("me", "c", "z" * 40)
    assert (store.get("me", "a"), store.get("me", "b"), store.get("me", "c")) == ("x" * 40, None, "z" * 40)
    assert store.stored_bytes == 2 * one and len(store) == 2
    store.put("me", "huge", "h" * (2 * one))
    assert store.get("me", "huge") is None and store.stored_bytes == 2 * one
