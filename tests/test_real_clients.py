"""The clients integrators run, against a live server process (tests/clients/*.test.mjs): Apollo
Client 4 and 3, urql, a graphql-ws room display, graphql-sse, and the official GraphQL-over-HTTP audit.

Each test arranges a clinic through the API, hands the ids to one Node script and fails with
everything the client printed. One server serves the whole module.
"""

from __future__ import annotations

import pytest

from app.auth import ALL_SCOPES
from tests.conftest import ROOT, SECRET
from tests.support.builders_sessions import create_session, lock_session
from tests.support.node import ensure_node_packages, place_snippet, run_node_test
from tests.support.server import start_server

# The module's tests share one server process: they run in one worker (pytest-xdist).
pytestmark = pytest.mark.xdist_group("real_clients")

DISPLAY = ROOT / "examples" / "room-display" / "display.mjs"


@pytest.fixture(scope="module")
async def live_url(database_url):
    ensure_node_packages()
    async with start_server(database_url) as base_url:
        yield f"{base_url}/graphql"


@pytest.fixture
async def scenario(live_url, gql, clinic, services) -> dict:
    """A session with three patients on its roster, and a locked one with one."""
    patients = [await clinic.add_patient() for _ in range(3)]
    session = await create_session(gql, clinic, patients=patients)
    locked = await create_session(gql, clinic, patients=[await clinic.add_patient()], title="Billed group")
    await lock_session(services, locked["id"])
    return {
        "url": live_url,
        "secret": SECRET,
        "scopes": list(ALL_SCOPES),
        "sessionId": session["id"],
        "sessionTitle": session["title"],
        "participantId": session["roster"][0]["id"],
        "watchedParticipantId": session["roster"][1]["id"],
        "spareParticipantId": session["roster"][2]["id"],
        "lockedParticipantId": locked["roster"][0]["id"],
    }


async def test_apollo_client_4(scenario):
    await run_node_test("apollo4.test.mjs", scenario)


async def test_apollo_client_3(scenario):
    await run_node_test("apollo3.test.mjs", scenario)


async def test_urql(scenario):
    await run_node_test("urql.test.mjs", scenario)


async def test_graphql_ws_room_display(scenario):
    await run_node_test(
        "graphql_ws.test.mjs", {**scenario, "displayModule": str(place_snippet("display.mjs", DISPLAY.read_text()))}
    )


async def test_graphql_sse(scenario):
    await run_node_test("graphql_sse.test.mjs", scenario)


async def test_graphql_over_http_audit_has_no_error_and_no_warning(scenario):
    output = await run_node_test("audit.test.mjs", scenario)
    assert "warnings: 0, errors: 0" in output, output
