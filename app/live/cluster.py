"""Each session change built once in the whole cluster (`GS_LIVE_BUILD_ONCE=1`, a shared broadcaster).

Without it every server process that has watchers of a session reads the change and executes it
for its watchers' audiences. With it:

- Every process announces on `live:shapes` what its watchers of a session ask for: a *shape* is
  the subscription document, its variables and the audience (the caller's scopes and facilities,
  all a resolver may check). Every process keeps the cluster's shapes per session channel.
- The process that commits a change stages it as today, marked `"b": 1` (built by its committer),
  reads the change once in its writing transaction (app.live.publish: the state after exactly that
  change), and after the commit executes it once per shape the cluster has, and publishes the encoded
  results on the session's channel: `{"built": <sequence>, "r": {shape: json}}`.
- Every process (the committer's too) holds a marked change until its built results arrive and
  forwards the bytes to watchers of those shapes. A watcher whose shape is missing (announced too
  late, too large for a NOTIFY, an execution with errors) gets a change this process builds
  itself, as without this setting, and its shape is announced again. Results that do not arrive
  within `wait` seconds (a committer that died after its commit), a broadcaster outage (PAUSED)
  or a resync: the held changes are built here. Order by sequence is kept: changes are delivered
  in the order they arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from broadcaster import Broadcast

from app.live.backends import PAUSED, RESYNC
from app.live.envelopes import SessionEnvelope
from app.rules.updates import SessionUpdateKind

log = logging.getLogger(__name__)

SHAPES_CHANNEL = "live:shapes"
# pg_notify takes payloads under 8,000 bytes; results that would not fit are left out (built where watched).
NOTIFY_LIMIT = 7800
OTHER_LIMIT = 1_000_000


def shape_key(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Shape:
    """What a watcher of a session asks for: `spec` holds the subscription document, its variables and
    the audience (the caller's scopes and facilities), as the cluster is told; `key` names it."""

    key: str
    spec: dict[str, Any]

    @classmethod
    def of(cls, spec: dict[str, Any]) -> Shape:
        return cls(shape_key(spec), spec)


class Renderer(Protocol):
    """Executes a committed session change for one shape, as a watcher's own process would, and
    encodes its data; None when the execution had errors (those are formatted per caller, where the
    watcher is). Declared here and implemented once, by the schema (app.schema.live.cluster):
    app/live never imports GraphQL."""

    async def render(self, change: SessionEnvelope, spec: dict[str, Any]) -> str | None: ...


class EncodedData(dict):
    """A result's data decoded once per shape per change, with the text it was published as:
    the websocket handler sends `text` without encoding again."""

    text: str


@dataclass(frozen=True)
class Prebuilt:
    """A change built by another process (or this one's commit): only its encoded result is here."""

    kind: SessionUpdateKind
    sequence: int
    data: EncodedData


def is_built(message: str) -> bool:
    return message.startswith('{"built":')


def committer_builds(message: str) -> bool:
    return message.endswith(',"b":1}')


class ClusterShapes:
    """What the cluster's watchers ask for, per session channel, and this process's part of it."""

    def __init__(self, broadcast: Broadcast, node: str) -> None:
        self.broadcast = broadcast
        self.node = node
        self._cluster: dict[str, dict[str, tuple[dict, set[str]]]] = {}
        self._local: dict[tuple[str, str], tuple[dict, int]] = {}
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def shapes_for(self, channel: str) -> dict[str, dict]:
        return {key: spec for key, (spec, nodes) in self._cluster.get(channel, {}).items() if nodes}

    @property
    def count(self) -> int:
        return sum(len(self.shapes_for(channel)) for channel in self._cluster)

    async def add_local(self, channel: str, shape: Shape) -> None:
        spec, count = self._local.get((channel, shape.key), (shape.spec, 0))
        self._local[(channel, shape.key)] = (spec, count + 1)
        if count == 0:
            await self.announce(channel, shape.key, shape.spec)

    async def remove_local(self, channel: str, key: str) -> None:
        spec, count = self._local.get((channel, key), (None, 0))
        if count <= 1:
            self._local.pop((channel, key), None)
            if count == 1:
                await self._publish({"op": "del", "node": self.node, "channel": channel, "key": key})
        else:
            self._local[(channel, key)] = (spec, count - 1)

    async def announce(self, channel: str, key: str, spec: dict | None = None) -> None:
        if spec is None:
            spec = self._local.get((channel, key), (None, 0))[0]
            if spec is None:
                return
        await self._publish({"op": "add", "node": self.node, "channel": channel, "key": key, "spec": spec})

    async def _publish(self, message: dict) -> None:
        body = json.dumps(message, separators=(",", ":"))
        if len(body.encode()) > NOTIFY_LIMIT:
            return  # too large to announce: its watchers' changes are built where they are watched
        try:
            await self.broadcast.publish(SHAPES_CHANNEL, body)
        except Exception:  # noqa: BLE001 - the shape is announced again at its next miss
            log.warning("live shape announcement failed channel=%s", message.get("channel"))

    def _apply(self, message: dict) -> None:
        channel, key, node = message["channel"], message["key"], message["node"]
        shapes = self._cluster.setdefault(channel, {})
        if message["op"] == "add":
            spec, nodes = shapes.get(key, (message["spec"], set()))
            nodes.add(node)
            shapes[key] = (spec, nodes)
        else:
            entry = shapes.get(key)
            if entry is not None:
                entry[1].discard(node)
                if not entry[1]:
                    del shapes[key]
            if not shapes:
                self._cluster.pop(channel, None)

    async def _listen(self) -> None:
        async with self.broadcast.subscribe(SHAPES_CHANNEL) as subscriber:
            self._ready.set()
            async for event in subscriber:
                if event is None:
                    return
                if event.message == RESYNC:  # announcements may have been missed: everyone says it again
                    for (channel, key), (spec, _) in list(self._local.items()):
                        await self.announce(channel, key, spec)
                    continue
                if event.message == PAUSED:
                    continue
                try:
                    self._apply(json.loads(event.message))
                except (ValueError, KeyError, TypeError):
                    log.warning("malformed live shape announcement ignored")


class ClusterBuilds:
    """The committing process's side: read a committed change once, execute it once per shape the
    cluster watches it with, publish the encoded results."""

    def __init__(
        self,
        broadcast: Broadcast,
        shapes: ClusterShapes,
        read: Callable[[str, str], Awaitable[SessionEnvelope | None]],
        renderer: Renderer,
        notify_limit: bool,
    ) -> None:
        self.broadcast = broadcast
        self.shapes = shapes
        self._read = read
        self._renderer = renderer
        self._limit = NOTIFY_LIMIT if notify_limit else OTHER_LIMIT
        self._tasks: set[asyncio.Task] = set()
        self._last: dict[str, asyncio.Task] = {}
        self._slots = asyncio.Semaphore(2)  # builds at once across sessions: leave connections to requests
        self.builds = 0  # changes read and executed here for the cluster

    def after_commit(self, channel: str, body: str) -> None:
        """One build at a time per session, in commit order (as a hub builds a channel's changes):
        a burst of writes to one session does not take a connection per change."""
        previous = self._last.get(channel)
        task = asyncio.get_running_loop().create_task(self._build_after(previous, channel, body))
        self._last[channel] = task
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            if self._last.get(channel) is finished:
                del self._last[channel]

        task.add_done_callback(done)

    async def _build_after(self, previous: asyncio.Task | None, channel: str, body: str) -> None:
        if previous is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(previous)
        async with self._slots:
            await self._build(channel, body)

    async def _build(self, channel: str, body: str) -> None:
        sequence = json.loads(body)["sequence"]
        results: dict[str, str] = {}
        size = 40
        shapes = self.shapes.shapes_for(channel)
        try:
            if shapes:
                envelope = await self._read(channel, body)
                self.builds += 1
                if envelope is not None:
                    for key, spec in shapes.items():
                        text = await self._renderer.render(envelope, spec)
                        if text is None:
                            continue
                        cost = len(json.dumps(text)) + len(key) + 4
                        if size + cost > self._limit:
                            continue
                        size += cost
                        results[key] = text
        except Exception:
            log.exception("live cluster build failed channel=%s", channel)
            results = {}
        with contextlib.suppress(Exception):
            await self.broadcast.publish(channel, json.dumps({"built": sequence, "r": results}, separators=(",", ":")))


def node_id() -> str:
    return uuid.uuid4().hex
