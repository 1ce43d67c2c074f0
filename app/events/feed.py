"""Consumers of the outbox feed, each reading committed events in id (= commit) order, exactly once.

A consumer's handler runs in the same transaction that advances its offset, and the offset row
is locked while it runs, so several processes can drain concurrently without doing work twice.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ConsumerOffset, IntegrationEvent

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, IntegrationEvent, object], Awaitable[None]]
BATCH = 200


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler
    event_types: frozenset[str]


CONSUMERS: dict[str, Consumer] = {}


def consumer(name: str, *event_types: str) -> Callable[[Handler], Handler]:
    """Register `handler(session, event, services)` for the given event types."""

    def register(handler: Handler) -> Handler:
        CONSUMERS[name] = Consumer(name, handler, frozenset(event_types))
        return handler

    return register


async def drain(services, name: str) -> int:
    """Apply every committed event the consumer has not seen yet; returns how many were read."""
    subscriber = CONSUMERS[name]
    total = 0
    while True:
        async with services.sessionmaker() as session, session.begin():
            await session.execute(
                insert(ConsumerOffset).values(consumer=name, last_event_id=0).on_conflict_do_nothing()
            )
            offset = await session.scalar(
                select(ConsumerOffset).where(ConsumerOffset.consumer == name).with_for_update()
            )
            events = (
                await session.scalars(
                    select(IntegrationEvent)
                    .where(IntegrationEvent.id > offset.last_event_id)
                    .order_by(IntegrationEvent.id)
                    .limit(BATCH)
                )
            ).all()
            for event in events:
                if event.type in subscriber.event_types:
                    await subscriber.handler(session, event, services)
            if events:
                offset.last_event_id = events[-1].id
        total += len(events)
        if len(events) < BATCH:
            return total


async def drain_all(services) -> None:
    for name in list(CONSUMERS):
        await drain(services, name)


class FeedRunner:
    """Drains the consumers when told that events were committed, and on a timer as a safety net
    (a process that died between commit and drain leaves events that the next drain picks up)."""

    def __init__(self, services, interval: float = 2.0) -> None:
        self.services = services
        self.interval = interval
        self._lock = asyncio.Lock()

    async def kick(self) -> None:
        async with self._lock:
            await drain_all(self.services)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.kick()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the loop alive; the next tick retries
                log.exception("event feed drain failed")
            await asyncio.sleep(self.interval)
