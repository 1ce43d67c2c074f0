"""What a running process holds: settings, database, and the background machinery built in the
lifespan (the feed runner, the relay, live updates, idempotency keys)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from broadcaster import Broadcast
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.clock import Clock
from app.config import Settings
from app.db.uow import EventHandler, EventsHandler
from app.live.hub import Hub
from app.live.publish import LivePublisher


class Runner(Protocol):
    """The feed runner and the relay, as a committed unit of work sees them: told to run a pass now."""

    async def kick(self) -> Any: ...


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    database_url: str = ""
    feed: Runner | None = None  # app.events.feed.FeedRunner
    # Consumers' handlers that also run in the transaction that records their event (UnitOfWork.in_transaction).
    in_transaction: Mapping[str, EventHandler] = field(default_factory=dict)
    in_transaction_runs: Mapping[str, EventsHandler] = field(default_factory=dict)
    relay: Any = None  # app.events.relay.Relay
    broadcast: Broadcast | None = None
    broadcast_watchdog: asyncio.Task | None = None
    live_publisher: LivePublisher | None = None
    hub: Hub | None = None
    session_states: Any = None  # app.live.envelopes.SessionStates
    # Executes a built change for one shape (app.schema.live.cluster), when changes are built once per cluster.
    live_render: Any = None
    live_shapes: Any = None  # app.live.cluster.ClusterShapes
    pairing_attempts: Any = None  # app.operations.displays.PairingAttempts, made with the services
    code_requests: Any = None  # app.operations.displays.RecentAttempts: pairing codes asked for, per client address
    idempotency_keys: Any = None  # app.idempotency.IdempotencyKeys, made by the endpoint on first use
