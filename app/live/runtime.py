"""A process's live updates, whole from their constructor: the publisher that units of work stage
on, the session states, and the hub that fans each change out to the process's watchers. They take
only what they use: the broadcaster, the database's sessionmaker and the clock."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from broadcaster import Broadcast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.db.uow import UnitOfWork
from app.live.cluster import ClusterBuilds, ClusterShapes, Renderer, node_id
from app.live.envelopes import (
    GroupStates,
    SessionStates,
    build_billing_change,
    build_schedule_change,
    display_builder,
)
from app.live.hub import Hub, keep_listener_alive
from app.live.publish import LivePublisher, notifies_in_transaction


class Live:
    def __init__(
        self,
        broadcast: Broadcast,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        broadcast_url: str,
        database_url: str,
    ) -> None:
        self.broadcast = broadcast
        self._broadcast_url = broadcast_url
        self.publisher = LivePublisher(
            broadcast,
            notify_in_transaction=notifies_in_transaction(broadcast_url, database_url),
            prepare=self._prepare,
        )
        self.session_states = SessionStates(sessionmaker, clock)
        self.group_states = GroupStates(sessionmaker, clock)
        self.hub = Hub(
            broadcast,
            {
                "session": self.session_states.build,
                "group": self.group_states.build,
                "display": display_builder(sessionmaker),
                "schedule": build_schedule_change,
                "billing": build_billing_change,
            },
        )
        self._watchdog: asyncio.Task | None = None

    def watched(self, channel: str) -> bool:
        """Whether a change on this session or group channel is read by this process: it has watchers
        of it, or it builds the change for the cluster's (sessions only)."""
        if self.hub.watching(channel):
            return True
        shapes = self.hub.shapes
        return self.publisher.cluster is not None and shapes is not None and bool(shapes.shapes_for(channel))

    async def _prepare(self, uow: UnitOfWork, channel: str, message: dict) -> str | None:
        """A watched session or group change read in its writing transaction (SessionStates.prepare,
        GroupStates.prepare); an unwatched one costs the writer nothing."""
        if not self.watched(channel):
            return None
        kind, _, pk = channel.partition(":")
        states = self.group_states if kind == "group" else self.session_states
        return await states.prepare(uow.db, uuid.UUID(pk), message)

    @property
    def shapes(self) -> ClusterShapes | None:
        """What the cluster's watchers ask for, while this process builds changes once per cluster."""
        return self.hub.shapes

    async def start(self, renderer: Renderer | None = None) -> None:
        """Connect the broadcaster. Given the schema's renderer and a broadcaster that processes share
        (postgres, redis), the process takes part in building each session change once per cluster
        (app.live.cluster): it announces its watchers' shapes and builds the changes it commits."""
        await self.broadcast.connect()
        if renderer is not None and not self._broadcast_url.startswith("memory"):
            shapes = ClusterShapes(self.broadcast, node_id())
            await shapes.start()
            self.hub.shapes = shapes
            self.publisher.cluster = ClusterBuilds(
                self.broadcast,
                shapes,
                self.session_states.build,
                renderer,
                notify_limit=self._broadcast_url.startswith("postgres"),
            )
        self._watchdog = asyncio.create_task(keep_listener_alive(self.broadcast))

    async def stop(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        shapes, self.hub.shapes, self.publisher.cluster = self.hub.shapes, None, None
        if shapes:
            await shapes.stop()
        await self.hub.close()
        await self.broadcast.disconnect()
