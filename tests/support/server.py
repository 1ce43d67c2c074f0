"""Real server processes for end-to-end tests: `group-sessions serve` on a free port, over TCP.

    async with start_server(database_url) as base_url:
        client = GraphQLClient(httpx.AsyncClient(base_url=base_url), make_token())

`start_servers(database_url, 2)` runs several processes on one database (multi-process tests).
Each process migrates on start, serves until the block ends, then gets SIGTERM (SIGKILL if it
lingers). A process that fails to come up raises with the tail of its output.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import uvicorn

from tests.conftest import ROOT, SECRET

STARTUP_SECONDS = 60
RUNNING: dict[str, subprocess.Popen] = {}
STOP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(database_url: str, data_dir: Path, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a test server: the test database and signing key, no billing sweep, no
    webhook calls, a small pool (several engineers share one PostgreSQL)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        GS_JWT_SECRET=SECRET,
        GS_BILLING_SWEEP_SECONDS="0",
        GS_DATA_DIR=str(data_dir),
        GS_DB_POOL_SIZE="5",
        GS_WEBHOOK_DELIVERY="0",  # no test server calls out; the webhook tests turn it on for their receivers
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides or {})
    return env


@asynccontextmanager
async def start_server(
    database_url: str,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    args: tuple[str, ...] = (),
    bench: bool = False,
) -> AsyncIterator[str]:
    """Run one server process (`args` added to `serve`'s); yields its base URL
    (http://127.0.0.1:<port>). Give `port` to start a server again where its clients expect it (a restart).
    `bench`: the benchmark's server (`python -m bench.server`: the same app, plus its /_bench/metrics
    route; it does not migrate, the test database is migrated already)."""
    port = port or free_port()
    command = ["bench.server", "--mode", "app"] if bench else ["app.cli_entry", "serve"]
    with tempfile.TemporaryDirectory(prefix="gs-server-") as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", *command, "--host", "127.0.0.1", "--port", str(port), *args],
                cwd=ROOT,
                env=server_env(database_url, Path(tmp), env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        process.log_path = log_path  # type: ignore[attr-defined]
        RUNNING[base_url] = process
        try:
            await wait_until_healthy(process, base_url, log_path)
            yield base_url
        finally:
            RUNNING.pop(base_url, None)
            await _stop(process)


@asynccontextmanager
async def serve_in_process(app) -> AsyncIterator[str]:
    """The test app (its lifespan already entered, its clock the test clock) over real TCP in this
    process, for a browser; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def server_process(base_url: str) -> subprocess.Popen:
    """The process behind a running test server (to signal or kill it)."""
    return RUNNING[base_url]


@asynccontextmanager
async def start_servers(
    database_url: str, count: int, env: Mapping[str, str] | None = None
) -> AsyncIterator[list[str]]:
    """Run `count` server processes on one database; yields their base URLs."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(start_server(database_url, env)) for _ in range(count)]


async def wait_until_healthy(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{_tail(log_path)}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server not healthy after {STARTUP_SECONDS}s:\n{_tail(log_path)}")


async def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait)


def _tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
