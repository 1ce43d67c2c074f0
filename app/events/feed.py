"""Consumers of the outbox feed, each reading committed events in id (= commit) order, exactly once.

A consumer's handlers run in the same unit of work that advances its offset, and the offset row is
locked while they run, so several processes can drain concurrently without doing work twice. Each
event is applied under a savepoint: a malformed event is logged by id and skipped rather than
blocking every later event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.db.queries import events as queries
from app.db.uow import UnitOfWork
from app.operations.work import unit_of_work
from app.services import Services

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, dict[str, Any], datetime], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, Sequence[tuple[dict[str, Any], datetime]]], Awaitable[None]]
BATCH = 200


@dataclass(frozen=True)
class Consumer:
    name: str
    handlers: Mapping[str, Handler]  # event type -> handler(uow, payload, occurred at)
    # event type -> handler(uow, [(payload, occurred at), ...]) for a run of consecutive events of
    # that type, doing in a few statements what the one-event handler does per event.
    batch_handlers: Mapping[str, BatchHandler] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"feed:{self.name}"


async def drain(services: Services, consumer: Consumer) -> int:
    """Apply every committed event the consumer has not seen yet; returns how many were read."""
    total = 0
    while True:
        async with unit_of_work(services, consumer.actor) as uow:
            offset = await queries.lock_offset(uow.db, consumer.name)
            events = await queries.events_from(uow.db, offset.last_event_id, BATCH)
            for run in _runs(events):
                if len(run) > 1 and run[0].type in consumer.batch_handlers:
                    try:
                        async with uow.savepoint():
                            await consumer.batch_handlers[run[0].type](uow, [(e.payload, e.occurred_at) for e in run])
                        continue
                    except Exception as error:  # noqa: BLE001 - then one by one, skipping only the bad ones
                        log.warning(
                            "batch of %d %s events failed (%s); applying them one by one",
                            len(run),
                            run[0].type,
                            type(error).__name__,
                        )
                for event in run:
                    await _apply(uow, consumer, event)
            if events:
                offset.last_event_id = events[-1].id
        total += len(events)
        if len(events) < BATCH:
            return total


def _runs(events: Sequence[Any]) -> list[list[Any]]:
    """The events in order, cut into runs of consecutive events of one type."""
    runs: list[list[Any]] = []
    for event in events:
        if runs and runs[-1][0].type == event.type:
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


async def _apply(uow: UnitOfWork, consumer: Consumer, event: Any) -> None:
    handler = consumer.handlers.get(event.type)
    if handler is None:
        return
    try:
        async with uow.savepoint():
            # As of the change, not of this drain: an event read late (after a crash)
            # still puts an enrollment made at 08:59 on the 09:00 session.
            await handler(uow, event.payload, event.occurred_at)
    except Exception as error:  # noqa: BLE001 - one bad event must not stop the feed
        log.error("skipped event id=%s type=%s: %s", event.id, event.type, type(error).__name__)


class FeedRunner:
    """Drains the consumers when told that events were committed, and on a timer as a safety net
    (a process that died between commit and drain leaves events that the next drain picks up)."""

    def __init__(self, services: Services, consumers: Sequence[Consumer], interval: float = 2.0) -> None:
        self.services = services
        self.consumers = tuple(consumers)
        self.interval = interval
        self._lock = asyncio.Lock()
        self._draining: asyncio.Task | None = None
        self._again = False

    async def kick(self) -> None:
        """Drain every consumer; a caller who finds a drain running waits for it and drains after it.
        A consumer whose own unit of work records events (an absence alert when a session is
        cancelled) kicks from inside the drain: the lock is not re-entrant, so the running drain
        just goes round once more instead."""
        if self._lock.locked() and self._draining is asyncio.current_task():
            self._again = True
            return
        async with self._lock:
            self._draining = asyncio.current_task()
            try:
                self._again = True
                while self._again:
                    self._again = False
                    for consumer in self.consumers:
                        await drain(self.services, consumer)
            finally:
                self._draining = None

    async def run_forever(self) -> None:
        while True:
            try:
                await self.kick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event feed drain failed")
            await asyncio.sleep(self.interval)
