"""Websocket watchers in their own processes: many `sessionUpdates` subscriptions multiplexed on
each graphql-transport-ws socket (Strawberry allows 100 per connection by default), receive
times taken with time.time() (one machine, one clock for every process).

The parent drives each process through a Pipe:
    ("subscribe", ws_url, bearer, session_ids, per_socket) -> ("ready", count, seconds)
    ("expect", sequence, timeout)  -> ("got", [receive times], missing)
    ("counts",)                    -> ("counts", {session_id: updates received}, errors)
    ("reset",)                     -> ("reset",)   (closes every socket, forgets every count)
    ("close",)                     -> ("closed",)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Sequence

SUBSCRIPTION = """
subscription($id: ID!) {
  sessionUpdates(sessionId: $id) {
    kind sequence at changedParticipantIds
    session { id status attendance { scheduled attended late absent total terminal } roster { id status } }
    billingPreview { billableCount readyToBill band { procedureCode } }
  }
}"""


class _State:
    def __init__(self) -> None:
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.total = 0
        self.snapshots = 0
        self.errors: list[str] = []
        self.changed = asyncio.Event()


async def _socket(
    ws_url: str, bearer: str, subs: Sequence[tuple[str, str]], state: _State, ready: asyncio.Event
) -> None:
    from websockets.asyncio.client import connect

    async with connect(
        ws_url, subprotocols=["graphql-transport-ws"], max_size=None, open_timeout=60, ping_interval=None
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {bearer}"}}))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no ack: {ack}")
        session_of = {}
        for op_id, session_id in subs:
            session_of[op_id] = session_id
            await ws.send(
                json.dumps(
                    {
                        "id": op_id,
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIPTION, "variables": {"id": session_id}},
                    }
                )
            )
        pending_snapshots = len(subs)
        ready_set = False
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            if kind != "next":
                if kind == "error" or kind == "complete":
                    state.errors.append(str(message)[:300])
                continue
            payload = message["payload"]
            if payload.get("errors"):
                state.errors.append(str(payload["errors"])[:300])
                continue
            update = payload["data"]["sessionUpdates"]
            if update["kind"] == "SNAPSHOT":
                pending_snapshots -= 1
                state.snapshots += 1
                if pending_snapshots == 0 and not ready_set:
                    ready_set = True
                    ready.set()
                continue
            state.arrivals[update["sequence"]].append(now)
            state.counts[session_of[message["id"]]] += 1
            state.total += 1
            state.changed.set()


_SOCKETS = itertools.count()  # sockets this watcher process opened, over every subscribe command


def _socket_caller(bearer: str, index: int) -> str:
    """Each socket its own caller, as each room display and each watching browser is: a token like
    `bearer` (its scopes and facilities) for a subject of its own. The server caps subscriptions per
    caller (GS_SUBSCRIPTIONS_PER_CALLER, 100), which a thousand watchers sharing one subject would hit."""
    import jwt

    from app.auth import mint_token
    from bench.harness import SECRET

    claims = jwt.decode(bearer, options={"verify_signature": False})
    subject = f"{claims.get('sub', 'bench')}-watcher-{os.getpid()}-{index}"
    return mint_token(SECRET, subject, claims.get("scopes", []), claims.get("facilities", ["*"]), 6 * 3600)


async def _serve(conn) -> None:
    state = _State()
    tasks: list[asyncio.Task] = []
    expected = 0
    while True:
        command = await asyncio.to_thread(conn.recv)
        name = command[0]
        if name == "subscribe":
            _, ws_url, bearer, session_ids, per_socket = command
            started = time.perf_counter()
            subs = [(str(i + 1), sid) for i, sid in enumerate(session_ids)]
            expected += len(subs)
            readies = []
            for i in range(0, len(subs), per_socket):
                ready = asyncio.Event()
                readies.append(ready)
                caller = _socket_caller(bearer, next(_SOCKETS))
                tasks.append(asyncio.create_task(_socket(ws_url, caller, subs[i : i + per_socket], state, ready)))
                await asyncio.sleep(0)
            waiting = {asyncio.create_task(r.wait()) for r in readies}
            deadline = time.monotonic() + 180
            while waiting and not any(t.done() for t in tasks) and time.monotonic() < deadline:
                done, waiting = await asyncio.wait(
                    waiting | set(tasks), return_when=asyncio.FIRST_COMPLETED, timeout=deadline - time.monotonic()
                )
                waiting -= set(tasks)
            failed = [t for t in tasks if t.done() and (t.cancelled() or t.exception() is not None)]
            if failed or state.snapshots < expected:
                errors = [repr(t.exception()) for t in failed][:3] + state.errors[:3]
                conn.send(("error", f"{state.snapshots}/{expected} snapshots; {errors}"))
                continue
            for w in waiting:
                w.cancel()
            conn.send(("ready", state.snapshots, time.perf_counter() - started))
        elif name == "expect":
            _, sequence, timeout = command
            deadline = time.monotonic() + timeout
            while len(state.arrivals.get(sequence, ())) < expected and time.monotonic() < deadline:
                state.changed.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(state.changed.wait(), max(0.0, deadline - time.monotonic()))
            times = state.arrivals.get(sequence, [])
            conn.send(("got", list(times), expected - len(times)))
        elif name == "counts":
            conn.send(("counts", dict(state.counts), state.errors[:3]))
        elif name == "reset":
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            tasks, state, expected = [], _State(), 0
            conn.send(("reset",))
        elif name == "close":
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            conn.send(("closed",))
            return


def _main(conn) -> None:
    from bench.harness import raise_fd_limit

    raise_fd_limit()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(conn))


class WatcherProcess:
    """One child process holding some of the watchers."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_main, args=(child,), daemon=True)
        self.process.start()

    async def call(self, *command, timeout: float = 240):
        self.conn.send(command)
        if not await asyncio.to_thread(self.conn.poll, timeout):
            raise RuntimeError(f"watcher process did not answer {command[0]}")
        reply = self.conn.recv()
        if reply[0] == "error":
            raise RuntimeError(f"watchers: {reply[1]}")
        return reply

    async def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(Exception):
                await self.call("close", timeout=30)
        await asyncio.to_thread(self.process.join, 10)
        if self.process.is_alive():
            self.process.kill()


class Watchers:
    """`count` subscriptions spread over `processes` child processes."""

    def __init__(self, processes: int) -> None:
        self.procs = [WatcherProcess() for _ in range(processes)]

    async def subscribe(self, ws_url: str, bearer: str, session_ids: Sequence[str], per_socket: int = 100) -> float:
        """Subscribe to every session id in the list (repeat ids for many watchers of one session)."""
        shares = [list(session_ids[i :: len(self.procs)]) for i in range(len(self.procs))]
        started = time.perf_counter()
        await asyncio.gather(
            *(
                p.call("subscribe", ws_url, bearer, share, per_socket)
                for p, share in zip(self.procs, shares, strict=False)
                if share
            )
        )
        return time.perf_counter() - started

    async def expect(self, sequence: int, timeout: float = 30) -> tuple[list[float], int]:
        replies = await asyncio.gather(*(p.call("expect", sequence, timeout, timeout=timeout + 30) for p in self.procs))
        times = [t for reply in replies for t in reply[1]]
        return times, sum(reply[2] for reply in replies)

    async def counts(self) -> tuple[dict[str, int], list[str]]:
        total: dict[str, int] = defaultdict(int)
        errors: list[str] = []
        for reply in await asyncio.gather(*(p.call("counts") for p in self.procs)):
            for key, value in reply[1].items():
                total[key] += value
            errors.extend(reply[2])
        return dict(total), errors

    async def reset(self) -> None:
        await asyncio.gather(*(p.call("reset") for p in self.procs))

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.procs))
