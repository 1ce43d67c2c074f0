"""Debian's PgBouncer in transaction pooling mode in front of the test database, installed on first
use (tests/support/debian.py) and run as `nobody`, or as the embedded server's own user (it
refuses root)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from tests.support.debian import ensure_package

PGBOUNCER = Path("/usr/sbin/pgbouncer")
STARTUP_SECONDS = 20


def ensure_pgbouncer() -> Path:
    """/usr/sbin/pgbouncer, after `apt-get install pgbouncer` when it is missing."""
    if PGBOUNCER.exists():
        return PGBOUNCER
    ensure_package(PGBOUNCER, "pgbouncer", "the PgBouncer tests")
    # The package starts a system service on port 6432; these tests run their own.
    subprocess.run(["service", "pgbouncer", "stop"], capture_output=True, timeout=60)
    return PGBOUNCER


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def pgbouncer(database_url: str, pool_size: int = 20) -> AsyncIterator[str]:
    """A PgBouncer (pool_mode = transaction) for the database of `database_url`; yields the URL of
    the same database through it."""
    binary = ensure_pgbouncer()
    target = urlsplit(database_url)
    database = target.path.lstrip("/")
    user = target.username or "postgres"
    port = _free_port()
    # The embedded PostgreSQL (no DATABASE_URL, as in CI) listens on a unix socket in its data
    # directory (`?host=/dir`), which only its own user may enter: PgBouncer then runs as that user.
    socket_dir = parse_qs(target.query).get("host", [None])[0] if not target.hostname else None
    backend = f"host={socket_dir}" if socket_dir else f"host={target.hostname or '127.0.0.1'}"
    run_as = _owner(socket_dir) if socket_dir else _nobody()
    with tempfile.TemporaryDirectory(prefix="gs-pgbouncer-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)
        (folder / "users.txt").write_text(f'"{user}" "{target.password or ""}"\n')
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{database} = {backend} port={target.port or 5432} dbname={database}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 500\n"
            "ignore_startup_parameters = extra_float_digits\n"
            f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
        )
        for name in ("users.txt", "pgbouncer.ini"):
            (folder / name).chmod(0o644)
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            os.chown(folder, run_as[1], run_as[2])
        command = [str(binary), str(folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            command[1:1] = ["-u", run_as[0]]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            await _wait_for_port(process, port, folder)
            yield urlunsplit((target.scheme, f"{user}@127.0.0.1:{port}", target.path, "", ""))
        finally:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()


def _nobody() -> tuple[str, int, int]:
    import pwd

    entry = pwd.getpwnam("nobody")
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def _owner(path: str) -> tuple[str, int, int]:
    """The user that owns `path` (the embedded server's data directory)."""
    import pwd

    entry = pwd.getpwuid(os.stat(path).st_uid)
    return entry.pw_name, entry.pw_uid, entry.pw_gid


async def _wait_for_port(process: subprocess.Popen, port: int, folder: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (folder / "pgbouncer.log").read_text(errors="replace") if (folder / "pgbouncer.log").exists() else ""
            raise RuntimeError(
                f"pgbouncer exited with {process.returncode}: {process.stdout.read().decode(errors='replace')}\n{log[-3000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("pgbouncer did not listen in time")
