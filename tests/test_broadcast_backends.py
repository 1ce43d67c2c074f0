"""The broadcaster's known defects, each reproduced against a real connection and shown fixed."""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack

import asyncpg
import pytest
from broadcaster import Broadcast

from app.live.backends import PAUSED, RESYNC, ResilientPostgresBackend, ResilientRedisBackend
from app.live.hub import Hub, WatcherLagged

REDIS_URL = os.environ.get("REDIS_URL")


async def receive(subscriber, timeout: float = 5.0):
    return await asyncio.wait_for(subscriber.get(), timeout)


async def test_postgres_backend_reconnects_after_its_listen_connection_is_killed(database_url):
    backend = ResilientPostgresBackend(database_url, reconnect_delay=0.05)
    async with Broadcast(backend=backend) as broadcast:
        async with broadcast.subscribe("session:kill-test") as subscriber:
            pid = backend.listen_connection().get_server_pid()
            admin = await asyncpg.connect(database_url)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            assert (await receive(subscriber)).message == PAUSED  # watchers learn updates are interrupted
            resync = await receive(subscriber)
            assert resync.message == RESYNC  # the hub rebuilds what may have been missed
            assert backend.reconnects == 1
            await broadcast.publish("session:kill-test", "after")
            assert (await receive(subscriber)).message == "after"


async def test_postgres_backend_publishes_concurrently(database_url):
    """broadcaster#22: one connection for LISTEN and NOTIFY fails with 'another operation is in progress'."""
    async with Broadcast(backend=ResilientPostgresBackend(database_url)) as broadcast:
        async with broadcast.subscribe("burst") as subscriber:
            await asyncio.gather(*(broadcast.publish("burst", str(i)) for i in range(50)))
            got = {(await receive(subscriber)).message for _ in range(50)}
    assert got == {str(i) for i in range(50)}


@pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL not set (CI sets it when a Redis answers on 127.0.0.1:6379)")
@pytest.mark.xdist_group("redis")  # it drops every Redis subscriber: tests/test_live_multiprocess.py's wait their turn
async def test_redis_backend_reconnects_after_its_connection_is_killed():
    from redis import asyncio as redis

    backend = ResilientRedisBackend(REDIS_URL, reconnect_delay=0.05)
    async with Broadcast(backend=backend) as broadcast:
        async with broadcast.subscribe("redis-kill-test") as subscriber:
            await broadcast.publish("redis-kill-test", "before")
            assert (await receive(subscriber)).message == "before"
            admin = redis.Redis.from_url(REDIS_URL)
            try:
                await admin.client_kill_filter(_type="pubsub")
            finally:
                await admin.aclose()
            assert (await receive(subscriber)).message == PAUSED
            assert (await receive(subscriber)).message == RESYNC
            await broadcast.publish("redis-kill-test", "after")
            assert (await receive(subscriber)).message == "after"


async def _echo(channel: str, message: str) -> str:
    return message


async def test_two_watchers_joining_a_new_channel_at_once_both_get_every_event():
    """broadcaster's subscribe() race: both see no subscribers and one queue is dropped."""
    async with Broadcast("memory://") as broadcast:
        hub = Hub(broadcast, {"t": _echo})
        async with hub.watch("t:1") as a, hub.watch("t:1") as b:
            await broadcast.publish("t:1", "hello")
            assert await asyncio.wait_for(a.__anext__(), 2) == "hello"
            assert await asyncio.wait_for(b.__anext__(), 2) == "hello"
        for _ in range(20):  # and under a real race, many times

            async def join():
                async with hub.watch("t:race") as w:
                    await asyncio.sleep(0.01)
                    await broadcast.publish("t:race", "x")
                    return await asyncio.wait_for(w.__anext__(), 2)

            assert await asyncio.gather(join(), join()) == ["x", "x"]
        assert hub.channel_count == 0


async def test_a_slow_watcher_is_closed_without_holding_up_the_others():
    async with Broadcast("memory://") as broadcast:
        hub = Hub(broadcast, {"t": _echo}, queue_size=4)
        async with hub.watch("t:slow") as slow, hub.watch("t:slow") as fast:
            received = []
            for i in range(10):
                await broadcast.publish("t:slow", str(i))
                received.append(await asyncio.wait_for(fast.__anext__(), 2))
            assert received == [str(i) for i in range(10)]
            with pytest.raises(WatcherLagged):
                for _ in range(10):
                    await asyncio.wait_for(slow.__anext__(), 2)


async def test_the_hub_builds_each_message_once_for_all_watchers():
    builds = 0

    async def build(channel, message):
        nonlocal builds
        builds += 1
        return message

    async with Broadcast("memory://") as broadcast:
        hub = Hub(broadcast, {"t": build})
        watchers = []
        async with AsyncExitStack() as stack:
            for _ in range(200):
                watchers.append(await stack.enter_async_context(hub.watch("t:fan")))
            await broadcast.publish("t:fan", "change")
            got = [await asyncio.wait_for(w.__anext__(), 2) for w in watchers]
    assert got == ["change"] * 200 and builds == 1


async def test_a_dead_broadcast_listener_is_restarted():
    """broadcaster's listener task dies silently when next_published raises; the watchdog revives it."""
    from app.live.hub import keep_listener_alive

    async with Broadcast("memory://") as broadcast:
        original = broadcast._backend.next_published
        calls = 0

        async def flaky():
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("backend dropped")
            return await original()

        broadcast._backend.next_published = flaky
        broadcast._listener_task.cancel()
        broadcast._listener_task = asyncio.create_task(broadcast._listener())
        watchdog = asyncio.create_task(keep_listener_alive(broadcast, interval=0.05))
        try:
            async with broadcast.subscribe("revive") as subscriber:
                await asyncio.sleep(0.2)
                await broadcast.publish("revive", "alive")
                assert (await receive(subscriber)).message == "alive"
        finally:
            watchdog.cancel()
