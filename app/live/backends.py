"""Broadcaster backends that survive a dropped connection (broadcaster 0.3.1's do not).

broadcaster's own backends have known defects: the postgres one LISTENs and NOTIFYs on one
asyncpg connection with no reconnect (concurrent publishes fail with "another operation is in
progress", encode/broadcaster#22), and when any backend's connection drops, `next_published`
raises inside Broadcast's listener task, which dies silently and leaves every subscriber hanging
(#66, #130, #144). These backends keep the `BroadcastBackend` interface but never raise from
`next_published`: they emit a PAUSED event per channel when the connection drops, reconnect,
resubscribe, and then emit a RESYNC event per channel so the hub can rebuild state that may have
been missed while disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlparse

import asyncpg
from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend

log = logging.getLogger(__name__)

RESYNC = "\x00resync"
# Sent per channel when the connection drops, so watchers learn that updates are paused
# (the next RESYNC brings a fresh snapshot) instead of waiting in silence.
PAUSED = "\x00paused"


class ResilientPostgresBackend(BroadcastBackend):
    """LISTEN on a dedicated connection that reconnects; NOTIFY from a small separate pool."""

    def __init__(self, url: str, reconnect_delay: float = 0.2, max_delay: float = 5.0) -> None:
        self._url = url.replace("postgres://", "postgresql://", 1).replace("postgresql+asyncpg://", "postgresql://", 1)
        self._reconnect_delay = reconnect_delay
        self._max_delay = max_delay
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listen: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._reconnecting: asyncio.Task | None = None
        self._closed = False
        self.reconnects = 0

    async def connect(self) -> None:
        self._closed = False
        self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=4)
        await self._open_listen_connection()

    async def disconnect(self) -> None:
        self._closed = True
        if self._reconnecting:
            self._reconnecting.cancel()
        if self._listen is not None:
            with contextlib.suppress(Exception):
                await self._listen.close()
        if self._pool is not None:
            await self._pool.close()

    async def _open_listen_connection(self) -> None:
        conn = await asyncpg.connect(self._url)
        conn.add_termination_listener(self._on_terminated)
        for channel in self._channels:
            await conn.add_listener(channel, self._on_notify)
        self._listen = conn

    def _on_terminated(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection is not self._listen:
            return
        log.warning("broadcast LISTEN connection lost; reconnecting")
        for channel in self._channels:
            self._queue.put_nowait(Event(channel, PAUSED))
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = self._reconnect_delay
        while not self._closed:
            try:
                async with self._lock:
                    await self._open_listen_connection()
            except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_delay)
                continue
            self.reconnects += 1
            for channel in self._channels:
                self._queue.put_nowait(Event(channel, RESYNC))
            return

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self._queue.put_nowait(Event(channel, payload))

    async def subscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.add(channel)
            if self._listen is not None and not self._listen.is_closed():
                with contextlib.suppress(asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                    await self._listen.add_listener(channel, self._on_notify)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            if self._listen is not None and not self._listen.is_closed():
                with contextlib.suppress(asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                    await self._listen.remove_listener(channel, self._on_notify)

    async def publish(self, channel: str, message: Any) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_notify($1, $2)", channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    def listen_connection(self) -> asyncpg.Connection | None:
        """For tests that kill the connection."""
        return self._listen


class ResilientRedisBackend(BroadcastBackend):
    """Redis pub/sub whose reader reconnects and resubscribes instead of dying."""

    def __init__(self, url: str, reconnect_delay: float = 0.2, max_delay: float = 5.0) -> None:
        from redis import asyncio as redis

        self._redis_module = redis
        self._url = url
        self._reconnect_delay = reconnect_delay
        self._max_delay = max_delay
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._publisher = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._has_channels = asyncio.Event()
        self._lock = asyncio.Lock()
        self.reconnects = 0

    async def connect(self) -> None:
        self._publisher = self._redis_module.Redis.from_url(self._url)
        self._pubsub = self._redis_module.Redis.from_url(self._url).pubsub()
        self._reader = asyncio.create_task(self._read_forever())

    async def disconnect(self) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.add(channel)
            with contextlib.suppress(Exception):
                await self._pubsub.subscribe(channel)
            self._has_channels.set()

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _read_forever(self) -> None:
        delay = self._reconnect_delay
        while True:
            await self._has_channels.wait()
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                delay = self._reconnect_delay
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - connection lost: rebuild the pubsub and resubscribe
                if delay == self._reconnect_delay:  # the first failure of this outage
                    log.warning("broadcast redis connection lost; reconnecting")
                    for channel in self._channels:
                        self._queue.put_nowait(Event(channel, PAUSED))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_delay)
                await self._resubscribe()
                continue
            if message and message.get("type") == "message":
                channel, data = message["channel"], message["data"]
                self._queue.put_nowait(
                    Event(
                        channel.decode() if isinstance(channel, bytes) else channel,
                        data.decode() if isinstance(data, bytes) else data,
                    )
                )

    async def _resubscribe(self) -> None:
        async with self._lock:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = self._redis_module.Redis.from_url(self._url).pubsub()
            try:
                if self._channels:
                    await self._pubsub.subscribe(*self._channels)
            except Exception:  # noqa: BLE001 - still down; the reader retries
                return
            self.reconnects += 1
            for channel in self._channels:
                self._queue.put_nowait(Event(channel, RESYNC))


def broadcast_url(setting: str, database_url: str) -> str:
    """BROADCAST_URL, with the bare `postgres://` shorthand read as the application's own database."""
    if setting.startswith("postgres") and setting.rstrip("/").endswith(("postgres:", "postgresql:")):
        return database_url
    return setting


def make_broadcast(url: str) -> Broadcast:
    """The one place a Broadcast is built: our resilient backends for postgres and redis."""
    scheme = urlparse(url).scheme
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return Broadcast(backend=ResilientPostgresBackend(url))
    if scheme in ("redis", "rediss"):
        return Broadcast(backend=ResilientRedisBackend(url))
    if scheme == "memory":
        return Broadcast("memory://")
    raise ValueError(f"Unsupported BROADCAST_URL scheme {scheme!r}: use memory://, postgres:// or redis://")
