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
from app.operations.work import UnitsOfWork

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, dict[str, Any], datetime], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, Sequence[tuple[dict[str, Any], datetime]]], Awaitable[None]]
RowsHandler = Callable[[UnitOfWork, Sequence[Any]], Awaitable[None]]
BATCH = 200


@dataclass(frozen=True)
class Consumer:
    name: str
    handlers: Mapping[str, Handler]  # event type -> handler(uow, payload, occurred at)
    # event type -> handler(uow, [(payload, occurred at), ...]) for a run of consecutive events of
    # that type, doing in a few statements what the one-event handler does per event.
    batch_handlers: Mapping[str, BatchHandler] = field(default_factory=dict)
    # Every event of each batch read, as outbox rows (id, type, occurred_at, payload), whatever its type
    # (webhooks fan out by id). A failure leaves the offset where it was: the batch is read again.
    every_event: RowsHandler | None = None

    @property
    def actor(self) -> str:
        return f"feed:{self.name}"


async def drain(units: UnitsOfWork, consumer: Consumer) -> bool:
    """Apply every committed event the consumer has not seen yet; True when its handlers recorded
    events of their own (an absence alert when a session is cancelled), which a consumer may read."""
    recorded = False
    while True:
        async with units(consumer.actor) as uow:
            offset = await queries.lock_offset(uow.db, consumer.name)
            events = await queries.events_from(uow.db, offset.last_event_id, BATCH)
            if consumer.every_event is not None and events:
                await consumer.every_event(uow, events)
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
        recorded = recorded or bool(uow.recorded_events)
        if len(events) < BATCH:
            return recorded


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

    def __init__(self, units: UnitsOfWork, consumers: Sequence[Consumer], interval: float = 2.0) -> None:
        """`units`: the consumers' units of work; they hand committed events to the relay, not back
        to this runner (a drain that recorded events goes round once more instead)."""
        self.units = units
        self.consumers = tuple(consumers)
        self.interval = interval
        self._lock = asyncio.Lock()

    async def kick(self) -> None:
        """Drain every consumer; a caller who finds a drain running waits for it and drains after it.
        While a round records events (an absence alert when a session is cancelled), every consumer
        is drained again."""
        async with self._lock:
            again = True
            while again:
                again = False
                for consumer in self.consumers:
                    again = await drain(self.units, consumer) or again

    async def run_forever(self) -> None:
        while True:
            try:
                await self.kick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event feed drain failed")
            await asyncio.sleep(self.interval)
