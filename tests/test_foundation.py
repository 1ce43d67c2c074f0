"""The foundation: auth, error codes and HTTP statuses, health, limits, schema export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

from app.schema.root import schema
from tests.conftest import make_token

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "contract" / "api.graphql"


def test_exported_schema_file_is_current():
    assert (ROOT / "schema.graphql").read_text() == str(schema) + "\n", "schema.graphql is stale: run `make schema`"


def test_export_schema_command_prints_the_schema():
    out = subprocess.run(
        [sys.executable, "-m", "app.cli_entry", "export-schema"], capture_output=True, text=True, check=True
    ).stdout
    assert out == (ROOT / "schema.graphql").read_text()


@pytest.mark.skipif(not CONTRACT.exists(), reason="shared/contract is not beside this checkout")
def test_schema_has_no_breaking_change_against_the_contract():
    contract = build_schema(CONTRACT.read_text())
    ours = build_schema(str(schema))
    assert [c.description for c in find_breaking_changes(contract, ours)] == []


async def test_healthz_reports_the_database(http):
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


async def test_missing_token_answers_401_unauthenticated(http):
    response = await http.post("/graphql", json={"query": "{ viewer { subject } }"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        f"Bearer {make_token(secret='another-secret-' + 'y' * 32)}",
        f"Bearer {make_token(ttl=-60)}",
    ],
    ids=["garbage", "wrong-scheme", "wrong-signature", "expired"],
)
async def test_bad_token_answers_401(http, header):
    response = await http.post("/graphql", json={"query": "{ viewer { subject } }"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer_shows_subject_scopes_and_facilities(gql, clinic):
    token_client = gql.as_(scopes=["clinical.group-session.read"], facilities=[clinic.facility_id], subject="staff-7")
    data = await token_client.execute("{ viewer { subject scopes facilities { id name timezone } } }")
    assert data["viewer"]["subject"] == "staff-7"
    assert data["viewer"]["scopes"] == ["clinical.group-session.read"]
    assert [f["id"] for f in data["viewer"]["facilities"]] == [clinic.facility_id]


async def test_unparseable_document_answers_400_bad_user_input(gql):
    response = await gql.post("{ viewer { subject ")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_invalid_document_answers_400_bad_user_input(gql):
    response = await gql.post("{ viewer { noSuchField } }")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_too_deep_query_answers_query_too_complex(gql):
    deep = '{ node(id: "x") { ... on Patient { facility { id } } } }'
    nested = (
        "{ groups { edges { node { facility { id } facilitator { facility { id } } "
        + "enrollments { edges { node { group { enrollments { edges { node { group { enrollments { edges { node { id } } } } } } } } } } } } } } }"
    )
    response = await gql.post(nested)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert (await gql.post(deep)).status_code != 400


async def test_too_many_aliases_answers_query_too_complex(gql):
    document = "{ " + " ".join(f"a{i}: viewer {{ subject }}" for i in range(40)) + " }"
    status, code, _ = await gql.error(document)
    assert (status, code) == (400, "QUERY_TOO_COMPLEX")


async def test_too_many_tokens_answers_query_too_complex(gql):
    document = "{ viewer { " + " ".join("subject" for _ in range(6000)) + " } }"
    status, code, _ = await gql.error(document)
    assert (status, code) == (400, "QUERY_TOO_COMPLEX")


async def test_first_over_100_is_bad_user_input(gql):
    status, code, _ = await gql.error("{ patients(first: 101) { totalCount } }")
    assert code == "BAD_USER_INPUT"


async def test_oversized_body_is_refused(gql):
    response = await gql.post("{ viewer { subject } }", {"pad": "x" * 300_000})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unexpected_fault_is_masked_as_internal(gql, monkeypatch, caplog):
    from app.db.queries import reference

    async def explode(*args, **kwargs):
        raise RuntimeError("secret detail Jane Doe 1980-05-17")

    monkeypatch.setattr(reference, "patients_page", explode)
    status, code, body = await gql.error("{ patients { totalCount } }")
    assert code == "INTERNAL"
    assert body["errors"][0]["message"] == "Internal server error"
    assert "Jane Doe" not in caplog.text and "1980-05-17" not in caplog.text
    assert "RuntimeError" in caplog.text


async def test_graphiql_page_is_served_in_dev(http):
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_websocket_without_valid_token_closes_4401(ws):
    from httpx_ws import WebSocketDisconnect

    async with ws(token="nope") as socket:
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive_json()
    assert closed.value.code == 4401


async def test_websocket_with_token_is_acknowledged(ws):
    async with ws() as socket:
        assert (await socket.receive_json())["type"] == "connection_ack"


async def _handshake(app, origin: str) -> str:
    """Drive one websocket handshake through the ASGI app; the type of the app's first answer."""
    import asyncio

    sent: list[dict] = []
    incoming = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    scope = {
        "type": "websocket",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"origin", origin.encode()), (b"host", b"test")],
        "subprotocols": ["graphql-transport-ws"],
        "scheme": "ws",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "asgi": {"version": "3.0"},
    }

    async def send(message):
        sent.append(message)
        if message["type"] == "websocket.accept":
            await incoming.put({"type": "websocket.disconnect", "code": 1000})

    await asyncio.wait_for(app(scope, incoming.get, send), 5)
    return sent[0]["type"]


async def test_cross_origin_websocket_and_cors_follow_the_allowed_origins(settings):
    from dataclasses import replace

    import httpx

    from app.main import create_app

    app = create_app(replace(settings, allowed_origins=("https://clinic.example",)), background=False)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    try:
        assert await _handshake(app, "https://evil.example") == "websocket.close"
        assert await _handshake(app, "https://clinic.example") == "websocket.accept"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            preflight = await client.options(
                "/graphql",
                headers={
                    "Origin": "https://clinic.example",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
                },
            )
            assert preflight.headers["access-control-allow-origin"] == "https://clinic.example"
            refused = await client.options(
                "/graphql", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
            )
            assert "access-control-allow-origin" not in refused.headers
    finally:
        await lifespan.__aexit__(None, None, None)
