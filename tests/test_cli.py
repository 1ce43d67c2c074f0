"""The command line: token minting, schema export, demo loading twice changes nothing."""
from __future__ import annotations

import os
import subprocess
import sys

from app.auth import principal_from_token


def run_cli(*args: str, env: dict | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "app.cli_entry", *args],
        capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}, timeout=120,
    ).stdout


def test_token_command_mints_a_verifiable_token():
    secret = "cli-secret-" + "z" * 30
    token = run_cli("token", "--subject", "staff-9", "--scope", "billing.read", "--facility", "*", env={"GS_JWT_SECRET": secret}).strip()
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
