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
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from broadcaster import Broadcast

log = logging.getLogger(__name__)

Builder = Callable[[str, str], Awaitable[Any]]


class WatcherLagged(Exception):
    """The watcher's queue overflowed; it must resubscribe for a fresh snapshot."""


class Watcher:
    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=size)
        self.lagged = False

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


class Hub:
    def __init__(self, broadcast: Broadcast, builders: dict[str, Builder], queue_size: int = 64) -> None:
        self.broadcast = broadcast
        self.builders = builders  # channel prefix ("session", "group") -> payload builder
        self.queue_size = queue_size
        self._channels: dict[str, _Channel] = {}
        self._lock = asyncio.Lock()
        self.builds = 0  # payloads built: one per change per process, whatever the watcher count

    @property
    def channel_count(self) -> int:
        return len(self._channels)

    @property
    def watcher_count(self) -> int:
        return sum(len(c.watchers) for c in self._channels.values())

    @contextlib.asynccontextmanager
    async def watch(self, channel: str) -> AsyncIterator[Watcher]:
        watcher = Watcher(self.queue_size)
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

    async def _pump(self, channel: str, entry: _Channel) -> None:
        builder = self.builders[channel.partition(":")[0]]
        async with self.broadcast.subscribe(channel) as subscriber:
            entry.ready.set()
            async for event in subscriber:
                if event is None:
                    return
                try:
                    payload = await builder(channel, event.message)
                    self.builds += 1
                except Exception:  # noqa: BLE001 - one bad message must not end the channel
                    log.exception("live update build failed channel=%s", channel)
                    continue
                if payload is None:
                    continue
                for watcher in list(entry.watchers):
                    watcher.offer(payload)

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
