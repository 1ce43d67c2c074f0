"""Publishes committed outbox events to the broadcaster, each once, whichever process gets there first.

A pass claims unpublished rows with FOR UPDATE SKIP LOCKED, publishes them and marks them
published in the same transaction: two processes never claim one row, and a row whose pass
failed (or whose process died after commit) stays unpublished for the next pass.
With the postgres broadcaster on the application's own database the NOTIFY is issued inside that
transaction and PostgreSQL delivers it at commit, together with `published_at`: exactly once, even
when the process dies mid-batch. With another broadcaster delivery is at least once: a process that
dies between publishing and committing publishes that batch again on the next pass.
"""

from __future__ import annotations

import asyncio
import json
import logging

from broadcaster import Broadcast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.db.models import IntegrationEvent
from app.db.queries import events as queries

log = logging.getLogger(__name__)

CHANNEL = "integration-events"
BATCH = 200


# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; one oversized event must not stop the relay.
MAX_MESSAGE_BYTES = 7500


def event_message(event: IntegrationEvent) -> str:
    """The event as published; too large for the broadcaster, it names the event and the reader
    fetches it from `integrationEvents`."""
    head = {"id": str(event.id), "type": event.type, "occurredAt": event.occurred_at.isoformat()}
    message = json.dumps({**head, "payload": event.payload})
    if len(message.encode()) > MAX_MESSAGE_BYTES:
        message = json.dumps({**head, "payloadOmitted": True})
    return message


async def publish_pending(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, broadcast: Broadcast, *, notify_in_transaction: bool
) -> int:
    """Publish every committed, unpublished event not claimed by another pass; returns how many."""
    total = 0
    while True:
        async with sessionmaker() as db, db.begin():
            events = await queries.claim_unpublished(db, BATCH)
            for event in events:
                if notify_in_transaction:
                    await queries.notify(db, CHANNEL, event_message(event))
                else:
                    await broadcast.publish(CHANNEL, event_message(event))
            if events:
                await queries.mark_published(db, [e.id for e in events], clock.now())
        total += len(events)
        if len(events) < BATCH:
            return total


class Relay:
    """Runs a pass when told that events were committed, and on a timer as the safety net.
    `notify_in_transaction`: the broadcaster is PostgreSQL on the application's own database."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        broadcast: Broadcast,
        *,
        notify_in_transaction: bool,
        interval: float = 2.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.broadcast = broadcast
        self.notify_in_transaction = notify_in_transaction
        self.interval = interval
        self._lock = asyncio.Lock()

    async def kick(self) -> int:
        """One pass; a failure is logged, not raised: the caller's change is already committed."""
        try:
            async with self._lock:
                return await publish_pending(
                    self.sessionmaker, self.clock, self.broadcast, notify_in_transaction=self.notify_in_transaction
                )
        except Exception:
            log.exception("event relay pass failed")
            return 0

    async def run_forever(self) -> None:
        while True:
            await self.kick()
            await asyncio.sleep(self.interval)
