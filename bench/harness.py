"""What every benchmark shares: a database of its own, real server processes, a lean HTTP/1.1
keep-alive client, websocket watchers in separate processes, and latency statistics.

The load generator is this process (the orchestrator); servers and watchers are other
processes. On a 2-core machine the client's own CPU counts against the server's, so the HTTP
client is a few dozen lines over asyncio streams rather than a general-purpose library.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-" + "x" * 40
SYSTEM_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
STARTUP_SECONDS = 90


# ------------------------------------------------------------------ database


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


async def _pg_answers(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), 3)
    except Exception:  # noqa: BLE001 - no server there: use the embedded one
        return False
    await conn.close()
    return True


@contextlib.asynccontextmanager
async def bench_database(server_url: str | None) -> AsyncIterator[tuple[str, str]]:
    """A fresh database (migrated) on the given server, the system PostgreSQL, or the embedded one;
    yields (url, description) and drops it afterwards."""
    import asyncpg

    from app.db.migrate import upgrade

    embedded = None
    server_url = server_url or os.environ.get("BENCH_DATABASE_URL")
    if server_url is None:
        if await _pg_answers(SYSTEM_PG):
            server_url = SYSTEM_PG
        else:
            from app.db.embedded import EmbeddedPostgres

            embedded = EmbeddedPostgres(ROOT / ".data" / "bench")
            server_url = await asyncio.to_thread(embedded.start)
    name = f"gs_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server_url)
    version = await admin.fetchval("SHOW server_version")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = _with_database(server_url, name)
    await asyncio.to_thread(upgrade, url)
    kind = "embedded" if embedded else "server"
    try:
        yield url, f"PostgreSQL {version} ({kind})"
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def token(scopes: Sequence[str] | None = None) -> str:
    from app.auth import ALL_SCOPES, mint_token

    return mint_token(SECRET, "bench", list(scopes or ALL_SCOPES), ["*"], 6 * 3600)


# ------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/graphql"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process and every process under it (the workers
        of `serve --workers N`), from /proc/<pid>/stat: what noise from other work moves least."""
        return sum(process_cpu_seconds(pid) for pid in process_tree(self.pid))

    async def metrics(self) -> dict:
        conn = await HttpConn.open(self.host, self.port)
        try:
            status, body = await conn.request("GET", "/_bench/metrics")
        finally:
            conn.close()
        return json.loads(body)


@contextlib.asynccontextmanager
async def start_server(
    database_url: str,
    *,
    mode: str = "app",
    broadcast_url: str = "memory://",
    pool_size: int = 5,
    caches: bool = True,
    extra_env: dict | None = None,
    workers: int | None = None,
) -> AsyncIterator[Server]:
    """`python -m bench.server`: uvicorn serving the real app (or the ceiling app) on a free port.
    With `workers`, the product's own `group-sessions serve --workers N` instead (no metrics route)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gs-bench-") as tmp:
        log_path = Path(tmp) / "server.log"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url,
            GS_JWT_SECRET=SECRET,
            GS_BILLING_SWEEP_SECONDS="0",
            GS_DATA_DIR=tmp,
            GS_DB_POOL_SIZE=str(pool_size),
            BROADCAST_URL=broadcast_url,
            GS_BENCH_CACHES="1" if caches else "0",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})
        with log_path.open("wb") as log:
            command = [sys.executable, "-m", "bench.server", "--mode", mode, "--port", str(port)]
            if workers is not None:
                command = [
                    sys.executable,
                    "-m",
                    "app.cli_entry",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                ]
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server("127.0.0.1", port, process, log_path)
        try:
            await _wait_healthy(server)
            yield server
        finally:
            await _stop(process)


async def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{tail(server.log_path)}")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ConnectionError):
            conn = await HttpConn.open(server.host, server.port)
            try:
                status, _ = await conn.request("GET", "/healthz")
            finally:
                conn.close()
            if status == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"server not healthy after {STARTUP_SECONDS}s:\n{tail(server.log_path)}")


async def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, 15)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after its last ")".
    return raw[raw.rindex(")") + 2 :].split()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (fields 14 and 15 of /proc/<pid>/stat), in seconds; 0 once it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(root: int) -> list[int]:
    """The process and its descendants (ppid is field 4 of /proc/<pid>/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --------------------------------------------------------------- HTTP client


class HttpConn:
    """One keep-alive HTTP/1.1 connection; requests are sent one at a time."""

    def __init__(self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.host, self.port = host, port
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> "HttpConn":
        reader, writer = await asyncio.open_connection(host, port, limit=16 * 1024 * 1024)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(host, port, reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        message = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        try:
            self.writer.write(message)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                raise
            # uvicorn closes a keep-alive connection idle for 5 s before reading anything: reconnect once.
            self.writer.close()
            self.reader, self.writer = (await HttpConn.open(self.host, self.port)).streams
            self.writer.write(message)
            head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked = None, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            return status, b"".join(parts)
        return status, await self.reader.readexactly(length or 0)

    @property
    def streams(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return self.reader, self.writer

    def close(self) -> None:
        self.writer.close()


class GraphQL:
    """GraphQL over one HttpConn with a bearer token."""

    def __init__(self, conn: HttpConn, bearer: str | None) -> None:
        self.conn = conn
        self.headers = {"Content-Type": "application/json"}
        if bearer:
            self.headers["Authorization"] = f"Bearer {bearer}"

    @classmethod
    async def open(cls, server: Server, bearer: str | None) -> "GraphQL":
        return cls(await HttpConn.open(server.host, server.port), bearer)

    async def post(self, query: str, variables: dict | None = None) -> tuple[int, dict]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        status, raw = await self.conn.request("POST", "/graphql", body, self.headers)
        return status, json.loads(raw)

    async def execute(self, query: str, variables: dict | None = None) -> dict:
        status, body = await self.post(query, variables)
        if status != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL {status}: {body.get('errors')}")
        return body["data"]

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------- measurement


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class LoadResult:
    label: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    # Server CPU seconds (user + system) and SQL statements spent during the load; None when not measured.
    cpu: float | None = None
    statements: int | None = None
    load: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def operations(self) -> int:
        """Every request answered, errors included: each cost the server its CPU."""
        return len(self.latencies) + self.errors

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU per operation, in milliseconds."""
        if self.cpu is None or not self.operations:
            return None
        return self.cpu / self.operations * 1000

    @property
    def statements_per_op(self) -> float | None:
        if self.statements is None or not self.operations:
            return None
        return self.statements / self.operations

    def merge(self, other: "LoadResult") -> None:
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error
        if other.cpu is not None:
            self.cpu = (self.cpu or 0.0) + other.cpu
        if other.statements is not None:
            self.statements = (self.statements or 0) + other.statements
        self.load.extend(other.load)

    def summary(self) -> dict:
        return {
            "label": self.label,
            "concurrency": self.concurrency,
            "requests": self.count,
            "seconds": round(self.seconds, 2),
            "rps": round(self.throughput, 1),
            "p50_ms": round(self.p(50), 2),
            "p99_ms": round(self.p(99), 2),
            "errors": self.errors,
            "cpu_ms_per_op": None if self.cpu_ms is None else round(self.cpu_ms, 3),
            "statements_per_op": None if self.statements_per_op is None else round(self.statements_per_op, 2),
            "load_average": self.load,
        }


async def closed_loop(
    label: str,
    clients: Sequence[GraphQL],
    seconds: float,
    make_request,
    check=None,
    server: Server | None = None,
    statements: bool = True,
) -> LoadResult:
    """Each client sends its next request as soon as the last one answered, for `seconds`.
    `make_request(worker_index, iteration) -> (query, variables)`. With `server`, the result also
    holds the server's CPU time over the load and (from its metrics route, unless `statements` is
    False) the SQL statements it sent."""
    result = LoadResult(label, len(clients))
    if server is not None:
        count_statements = statements
        statements_before = (await server.metrics())["statements"] if count_statements else None
        cpu_before = server.cpu_seconds()
    deadline = time.perf_counter() + seconds

    async def worker(index: int, client: GraphQL) -> None:
        iteration = 0
        while time.perf_counter() < deadline:
            query, variables = make_request(index, iteration)
            iteration += 1
            started = time.perf_counter()
            status, body = await client.post(query, variables)
            elapsed = time.perf_counter() - started
            if status != 200 or body.get("errors") or (check is not None and not check(body)):
                result.errors += 1
                result.first_error = result.first_error or json.dumps(body)[:300]
                continue
            result.latencies.append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(clients)))
    result.seconds = time.perf_counter() - started
    if server is not None:
        result.cpu = server.cpu_seconds() - cpu_before
        if count_statements:
            result.statements = (await server.metrics())["statements"] - statements_before
        result.load.append(load_average())
    return result


def cpu_text(result: LoadResult, ceiling: LoadResult | None = None) -> str:
    """`CPU 1.23 ms/op (4.5x the ceiling's 0.27), 13.0 SQL/op, load 2.1`: what a row says beside throughput."""
    parts = []
    if result.cpu_ms is not None:
        text = f"CPU {result.cpu_ms:.2f} ms/op"
        if ceiling is not None and ceiling.cpu_ms:
            text += f" ({result.cpu_ms / ceiling.cpu_ms:.1f}x the ceiling's {ceiling.cpu_ms:.2f})"
        parts.append(text)
    if result.statements_per_op is not None:
        parts.append(f"{result.statements_per_op:.1f} SQL/op")
    if result.load:
        parts.append(f"load {result.load[-1]}")
    return ", ".join(parts)


def cpu_ratio(result: LoadResult, ceiling: LoadResult) -> float | None:
    if result.cpu_ms is None or not ceiling.cpu_ms:
        return None
    return result.cpu_ms / ceiling.cpu_ms


def raise_fd_limit(wanted: int = 65536) -> int:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


_T0 = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr, with the seconds since the run began."""
    print(f"   [{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)
