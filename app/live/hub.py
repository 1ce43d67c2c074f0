"""The per-process hub: one upstream subscription per channel, built once, fanned out to every watcher.

broadcaster's own `Broadcast.subscribe` gives each caller an unbounded queue and races when two
callers subscribe to a new channel at once (both see no subscribers; one queue is lost). The hub
takes one upstream subscription per channel under a lock, reference-counts its watchers, builds
each message's payload once (one set of queries per change, whatever the number of watchers),
and hands it to bounded per-watcher queues: a watcher that falls too far behind is closed rather
than allowed to slow the others or the writer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from broadcaster import Broadcast
from broadcaster._base import Unsubscribed

from app.live.backends import PAUSED, RESYNC
from app.live.cluster import ClusterShapes, EncodedData, Prebuilt, Shape, committer_builds, is_built
from app.rules.updates import SessionUpdateKind

log = logging.getLogger(__name__)

Builder = Callable[[str, str], Awaitable[Any]]


class WatcherLagged(Exception):
    """The watcher's queue overflowed; it must resubscribe for a fresh snapshot."""


class Watcher:
    def __init__(self, size: int, shape: str | None = None) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=size)
        self.lagged = False
        self.shape = shape  # what it asks for, when changes may arrive built (app.live.cluster)

    def offer(self, payload: Any) -> None:
        if self.lagged:
            return
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.lagged = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(_LAGGED)

    def __aiter__(self) -> "Watcher":
        return self

    async def __anext__(self) -> Any:
        item = await self._queue.get()
        if item is _LAGGED:
            raise WatcherLagged("Too far behind: subscribe again for a fresh snapshot")
        return item


_LAGGED = object()


@dataclass
class _Channel:
    watchers: set[Watcher] = field(default_factory=set)
    task: asyncio.Task | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Held:
    """A change whose built results are awaited (or that waits behind one, to keep the order)."""

    message: str
    sequence: int
    deadline: float
    results: dict[str, str] | None = None
    local: bool = False  # built here whatever arrives


class Hub:
    def __init__(
        self,
        broadcast: Broadcast,
        builders: dict[str, Builder],
        queue_size: int = 64,
        shapes: ClusterShapes | None = None,
        wait: float = 3.0,
    ) -> None:
        self.broadcast = broadcast
        self.shapes = shapes  # set when changes are built once per cluster
        self.wait = wait
        self.forwarded = 0  # changes delivered from results built elsewhere, without a build here
        self.builders = builders  # channel prefix ("session", "group") -> payload builder
        self.queue_size = queue_size
        self._channels: dict[str, _Channel] = {}
        self._lock = asyncio.Lock()
        self.builds = 0  # payloads built: one per change per process, whatever the watcher count

    @property
    def channel_count(self) -> int:
        return len(self._channels)

    def watching(self, channel: str) -> bool:
        """Whether this process has watchers of the channel."""
        return channel in self._channels

    @property
    def watcher_count(self) -> int:
        return sum(len(c.watchers) for c in self._channels.values())

    @contextlib.asynccontextmanager
    async def watch(self, channel: str, shape: Shape | None = None) -> AsyncIterator[Watcher]:
        """`shape`: what the watcher asks for, announced to the cluster."""
        if self.shapes is None:
            shape = None
        watcher = Watcher(self.queue_size, shape.key if shape else None)
        if shape:
            await self.shapes.add_local(channel, shape)
        async with self._lock:
            entry = self._channels.get(channel)
            if entry is None:
                entry = self._channels[channel] = _Channel()
                entry.task = asyncio.create_task(self._pump(channel, entry))
            entry.watchers.add(watcher)
        await entry.ready.wait()
        try:
            yield watcher
        finally:
            async with self._lock:
                entry.watchers.discard(watcher)
                if not entry.watchers and self._channels.get(channel) is entry:
                    del self._channels[channel]
                    entry.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await entry.task
            if shape:
                with contextlib.suppress(Exception):
                    await self.shapes.remove_local(channel, shape.key)

    async def _build(self, channel: str, message: str) -> Any:
        try:
            payload = await self.builders[channel.partition(":")[0]](channel, message)
            self.builds += 1
            return payload
        except Exception:
            log.exception("live update build failed channel=%s", channel)
            return None

    async def _deliver(self, channel: str, entry: _Channel, message: str) -> None:
        payload = await self._build(channel, message)
        if payload is None:
            return
        for watcher in list(entry.watchers):
            watcher.offer(payload)

    async def _pump(self, channel: str, entry: _Channel) -> None:
        async with self.broadcast.subscribe(channel) as subscriber:
            entry.ready.set()
            if self.shapes is None:
                async for event in subscriber:
                    if event is None:
                        return
                    await self._deliver(channel, entry, event.message)
                return
            await self._pump_built(channel, entry, subscriber)

    async def _pump_built(self, channel: str, entry: _Channel, subscriber: Any) -> None:
        """Changes marked as built by their committer wait for their results (app.live.cluster)."""
        loop = asyncio.get_running_loop()
        held: collections.deque[_Held] = collections.deque()
        early: dict[int, dict[str, str]] = {}
        while True:
            timeout = max(0.0, held[0].deadline - loop.time()) if held else None
            try:
                event = await asyncio.wait_for(subscriber.get(), timeout)
            except asyncio.TimeoutError:
                held[0].local = True  # its results did not come: build it here
                event = None
            except Unsubscribed:
                return
            if event is not None:
                message = event.message
                if message in (RESYNC, PAUSED):
                    for change in held:
                        change.local = True
                    await self._release(channel, entry, held)
                    await self._deliver(channel, entry, message)
                    continue
                if is_built(message):
                    try:
                        built = json.loads(message)
                        sequence, results = int(built["built"]), dict(built["r"])
                    except (ValueError, KeyError, TypeError):
                        log.warning("malformed built results ignored channel=%s", channel)
                        continue
                    waiting = next(
                        (change for change in held if change.sequence == sequence and change.results is None), None
                    )
                    if waiting is not None:
                        waiting.results = results
                    else:
                        early[sequence] = results
                        while len(early) > 64:
                            del early[next(iter(early))]
                else:
                    try:
                        sequence = int(json.loads(message).get("sequence", 0))
                    except (ValueError, TypeError, AttributeError):
                        sequence = 0
                    change = _Held(message, sequence, loop.time() + self.wait, early.pop(sequence, None))
                    # Built here at once when no watcher of this channel can take a built result
                    # (a room display's session watch has no shape): nothing to wait for.
                    change.local = not committer_builds(message) or not any(w.shape for w in entry.watchers)
                    # Two writers' messages can arrive out of order (each publishes after its own
                    # commit): a change that arrives while a later one still waits for its results
                    # goes before it, rather than being dropped as already seen by the watchers.
                    index = len(held)
                    while index > 0 and sequence and 0 < sequence < held[index - 1].sequence:
                        index -= 1
                    held.insert(index, change)
            await self._release(channel, entry, held)

    async def _release(self, channel: str, entry: _Channel, held: collections.deque[_Held]) -> None:
        while held and (held[0].local or held[0].results is not None):
            change = held.popleft()
            if change.local:
                await self._deliver(channel, entry, change.message)
                continue
            await self._forward(channel, entry, change)

    async def _forward(self, channel: str, entry: _Channel, change: _Held) -> None:
        data = json.loads(change.message)
        kind, sequence = SessionUpdateKind(data["kind"]), int(data["sequence"])
        decoded: dict[str, Prebuilt] = {}
        missing: list[Watcher] = []
        for watcher in list(entry.watchers):
            text = change.results.get(watcher.shape) if watcher.shape else None
            if text is None:
                missing.append(watcher)
                continue
            update = decoded.get(watcher.shape)
            if update is None:
                body = EncodedData(json.loads(text))
                body.text = text
                update = decoded[watcher.shape] = Prebuilt(kind, sequence, body)
            watcher.offer(update)
        if decoded:
            self.forwarded += 1
        if missing:
            payload = await self._build(channel, change.message)
            if payload is not None:
                for watcher in missing:
                    watcher.offer(payload)
            for key in {w.shape for w in missing if w.shape}:
                await self.shapes.announce(channel, key)

    async def close(self) -> None:
        async with self._lock:
            for entry in self._channels.values():
                if entry.task:
                    entry.task.cancel()
            self._channels.clear()


async def keep_listener_alive(broadcast: Broadcast, interval: float = 1.0) -> None:
    """Restart broadcaster's listener task if it ever dies (its failure is otherwise silent)."""
    while True:
        await asyncio.sleep(interval)
        task = getattr(broadcast, "_listener_task", None)
        if task is not None and task.done():
            if not task.cancelled() and task.exception() is not None:
                log.error("broadcast listener died: %r; restarting it", task.exception())
            broadcast._listener_task = asyncio.create_task(broadcast._listener())  # noqa: SLF001
