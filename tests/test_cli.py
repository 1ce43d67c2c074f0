"""The command line: token minting, schema export, demo loading twice changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

from app.auth import principal_from_token


def run_cli(*args: str, env: dict | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "app.cli_entry", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    ).stdout


def test_token_command_mints_a_verifiable_token():
    secret = "cli-secret-" + "z" * 30
    token = run_cli(
        "token", "--subject", "staff-9", "--scope", "billing.read", "--facility", "*", env={"GS_JWT_SECRET": secret}
    ).strip()
    principal = principal_from_token(secret, token)
    assert principal.subject == "staff-9"
    assert principal.scopes == {"billing.read"}
    assert principal.all_facilities


def test_admin_token_has_every_scope():
    from app.auth import ALL_SCOPES

    secret = "cli-secret-" + "z" * 30
    token = run_cli("token", "--admin", env={"GS_JWT_SECRET": secret}).strip()
    assert principal_from_token(secret, token).scopes == set(ALL_SCOPES)


def test_demo_loads_once_and_again_changes_nothing(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "GS_DATA_DIR": str(tmp_path), "GS_JWT_SECRET": "x" * 40}
    assert "Loaded" in run_cli("demo", env=env)
    assert "already loaded" in run_cli("demo", env=env)


async def test_serve_prints_the_address_and_dev_tokens(database_url):
    from tests.support.server import server_process, start_server

    async with start_server(database_url) as base_url:
        log = server_process(base_url).log_path.read_text()
    port = base_url.rsplit(":", 1)[1]
    assert f"GraphQL endpoint: http://127.0.0.1:{port}/graphql" in log
    assert "Admin token (dev only):" in log and "Facilitator token (dev only):" in log
    assert "Stop with Ctrl+C." in log


def lan_address() -> str:
    """This machine's address on its network (the route a packet to a documentation address would take;
    a UDP "connect" sends nothing), as a wall screen in the clinic would reach it."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.254", 9))
        address = probe.getsockname()[0]
    assert not address.startswith("127."), f"no network address besides loopback on this machine: {address}"
    return address


async def test_serve_on_the_clinics_network_reaches_a_wall_screen(database_url):
    """docs/walkthroughs/room-display.md, "On the clinic's network": `serve --host 0.0.0.0` answers a
    screen that calls the machine's network address, not only 127.0.0.1; without it, it does not."""
    import httpx

    from tests.support.server import server_process, start_server

    address = lan_address()
    async with start_server(database_url, args=("--host", "0.0.0.0")) as base_url:
        port = base_url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(timeout=30) as http:
            page = await http.get(f"http://{address}:{port}/display")
            health = await http.get(f"http://{address}:{port}/healthz")
        log = server_process(base_url).log_path.read_text()
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert health.status_code == 200
    assert f"Room display page: http://0.0.0.0:{port}/display" in log

    async with start_server(database_url) as base_url:  # the default: this machine only
        port = base_url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(timeout=5) as http:
            try:
                await http.get(f"http://{address}:{port}/healthz")
                reached = True
            except httpx.ConnectError:
                reached = False
    assert not reached


async def test_demo_twice_changes_no_row(database_url, tmp_path):
    import asyncpg

    env = {"DATABASE_URL": database_url, "GS_DATA_DIR": str(tmp_path), "GS_JWT_SECRET": "x" * 40}
    counts = (
        "SELECT (SELECT count(*) FROM group_definitions), (SELECT count(*) FROM group_occurrences), "
        "(SELECT count(*) FROM enrollments), (SELECT count(*) FROM group_sessions), (SELECT count(*) FROM claims), "
        "(SELECT count(*) FROM integration_events), (SELECT count(*) FROM audit_entries)"
    )
    run_cli("demo", env=env)
    conn = await asyncpg.connect(database_url)
    try:
        first = tuple(await conn.fetchrow(counts))
        run_cli("demo", env=env)
        assert tuple(await conn.fetchrow(counts)) == first
    finally:
        await conn.close()
    assert first[0] == 7 and first[3] > 30 and first[4] >= 1  # seven groups: IOP Afternoons (Mesa, per diem) too


async def test_bill_due_bills_every_ended_session(gql, clinic, database_url, tmp_path):
    from tests.support.builders_notes import no_note_rule
    from tests.support.builders_sessions import create_session

    patients = [await clinic.add_patient(name) for name in ("First Member", "Second Member")]  # 90853: a group
    for patient in patients:
        await clinic.cover(patient)
    await no_note_rule(gql, clinic)
    await clinic.bands([(1, 4, "90853", "40.00")])
    from datetime import datetime, timedelta, timezone

    started = datetime.now(timezone.utc) - timedelta(hours=3)
    session = await create_session(gql, clinic, patients=patients, starts_at=started)
    for entry in session["roster"]:
        await gql.execute(
            "mutation($id: ID!) { setAttendance(participantId: $id, status: ATTENDED) { id } }", {"id": entry["id"]}
        )
    env = {"DATABASE_URL": database_url, "GS_DATA_DIR": str(tmp_path), "GS_JWT_SECRET": "x" * 40}
    assert run_cli("bill-due", env=env).strip() == "Billed 1 session(s)."
    assert run_cli("bill-due", env=env).strip() == "Billed 0 session(s)."
    data = await gql.execute(
        "query($id: ID!) { groupSession(id: $id) { status charges { amount } } }", {"id": session["id"]}
    )
    assert data["groupSession"] == {"status": "LOCKED", "charges": [{"amount": "40.00"}, {"amount": "40.00"}]}


def test_a_token_names_its_subject_there_is_no_shared_default():
    """Every token minted without --subject was `dev`: one caller for everyone (their Idempotency-Keys too)."""
    secret = "cli-secret-" + "z" * 30
    refused = subprocess.run(
        [sys.executable, "-m", "app.cli_entry", "token", "--scope", "billing.read", "--facility", "*"],
        capture_output=True,
        text=True,
        env={**os.environ, "GS_JWT_SECRET": secret},
        timeout=120,
    )
    assert refused.returncode != 0 and "--subject" in refused.stderr
    admin = run_cli("token", "--admin", env={"GS_JWT_SECRET": secret}).strip()
    assert principal_from_token(secret, admin).subject == "cli-admin"
