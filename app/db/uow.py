"""One transaction: writes, audit entries and outbox events commit together (a GraphQL request's
mutation fields share one; the billing sweep and the feed consumers open their own)."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.db.models import AuditEntry, IntegrationEvent
from app.ids import with_global_ids
from app.rules.recurrence import FIRST_START_YEARS

log = logging.getLogger(__name__)

# Outbox ids must follow commit order: writers take this lock just before inserting their
# events and hold it to commit, so a later id can never commit before an earlier one.
OUTBOX_LOCK_KEY = 0x6753_4F42  # "gSOB"

AfterCommit = Callable[[], Awaitable[None]]
# What a feed consumer does with one event, and with a run of events of one type (app.events.feed).
EventHandler = Callable[["UnitOfWork", dict[str, Any], datetime], Awaitable[None]]
EventsHandler = Callable[["UnitOfWork", Sequence[tuple[dict[str, Any], datetime]]], Awaitable[None]]


class LiveStaging(Protocol):
    """Where a unit of work stages its live messages, to be sent only if it commits
    (app.live.publish.LivePublisher)."""

    async def stage(self, uow: UnitOfWork, channel: str, message: dict[str, Any]) -> None: ...


class UnitOfWork:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        actor: str,
        *,
        clock: Clock,
        live: LiveStaging | None,
        finalize_hours: float,
        in_transaction: Mapping[str, EventHandler] | None = None,
        in_transaction_runs: Mapping[str, EventsHandler] | None = None,
        first_start_years: int = FIRST_START_YEARS,
    ) -> None:
        """`live`: None where nobody watches (the command line); `finalize_hours` (GS_FINALIZE_HOURS):
        how long an ended session with a BLOCKING billing issue waits before it is billed anyway;
        `first_start_years` (GS_RECURRENCE_FIRST_START_YEARS): how far a new recurrence rule's first
        start is looked for."""
        self._sessionmaker = sessionmaker
        self.actor = actor
        self.clock = clock
        self.live = live
        self.finalize_hours = finalize_hours
        self.first_start_years = first_start_years
        self.db: AsyncSession
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._after_commit: list[AfterCommit] = []
        self._before_commit: list[AfterCommit] = []
        self.announced: set[str] = set()  # live channels this transaction has already announced a change on
        # Event type -> a consumer's handler that also runs in the transaction recording the event
        # (apply_recorded_events); the feed applies the event again later and finds it done.
        self.in_transaction: Mapping[str, EventHandler] = in_transaction or {}
        self.in_transaction_runs: Mapping[str, EventsHandler] = in_transaction_runs or {}
        self._applied = 0  # recorded events handed to them so far

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the transaction that can fail alone: on an error its writes are rolled back, and
        the events and after-commit steps it recorded are dropped with them."""
        events, after = len(self._events), len(self._after_commit)
        try:
            async with self.db.begin_nested():
                yield
        except BaseException:
            del self._events[events:]
            del self._after_commit[after:]
            raise

    async def begin(self) -> "UnitOfWork":
        self.db = self._sessionmaker()
        await self.db.begin()
        return self

    async def commit(self) -> None:
        """Write the recorded events and commit; then run the after-commit steps."""
        try:
            for hook in self._before_commit:
                await hook()
            await self._write_events()
            await self.db.commit()
        except BaseException:
            await self.db.rollback()
            raise
        finally:
            await self.db.close()
        for callback in self._after_commit:
            try:
                await callback()
            except Exception as error:  # noqa: BLE001 - committed is committed: each step has its own retry
                # (relay and feed timers, watchers' resync), and an error here would tell the caller a
                # committed change failed, inviting a second one.
                log.warning(
                    "after-commit step %s failed: %s", getattr(callback, "__qualname__", callback), type(error).__name__
                )

    async def rollback(self) -> None:
        try:
            await self.db.rollback()
        finally:
            await self.db.close()

    async def __aenter__(self) -> "UnitOfWork":
        return await self.begin()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            await self.rollback()
        else:
            await self.commit()

    def record_event(self, event_type: str, payload: dict[str, Any]) -> None:
        self._events.append((event_type, with_global_ids(payload)))

    @property
    def recorded_events(self) -> list[tuple[str, dict[str, Any]]]:
        return self._events

    async def apply_recorded_events(self) -> None:
        """Apply the events recorded since the last call that have an in-transaction handler, in order
        (a run of one type at once where a run handler exists): a scheduling change's answer then
        shows the sessions it moved, made or cancelled. Events their handlers record are applied too."""
        self._applied = min(self._applied, len(self._events))  # a savepoint may have dropped some
        while self._applied < len(self._events):
            event_type = self._events[self._applied][0]
            run_end = self._applied
            while run_end < len(self._events) and self._events[run_end][0] == event_type:
                run_end += 1
            run = [payload for _, payload in self._events[self._applied : run_end]]
            self._applied = run_end
            now = self.clock.now()
            if len(run) > 1 and event_type in self.in_transaction_runs:
                await self.in_transaction_runs[event_type](self, [(payload, now) for payload in run])
            elif event_type in self.in_transaction:
                for payload in run:
                    await self.in_transaction[event_type](self, payload, now)

    def before_commit(self, callback: AfterCommit) -> None:
        """Run inside the transaction, after the operation's own writes, before its events are written."""
        self._before_commit.append(callback)

    def after_commit(self, callback: AfterCommit) -> None:
        self._after_commit.append(callback)

    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID,
        *,
        before: dict | None = None,
        after: dict | None = None,
        reason: str | None = None,
        session_id: uuid.UUID | None = None,
        group_id: uuid.UUID | None = None,
    ) -> None:
        self.db.add(
            AuditEntry(
                **self.audit_values(
                    action,
                    entity_type,
                    entity_id,
                    before=before,
                    after=after,
                    reason=reason,
                    session_id=session_id,
                    group_id=group_id,
                )
            )
        )

    def audit_values(
        self,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID,
        *,
        before: dict | None = None,
        after: dict | None = None,
        reason: str | None = None,
        session_id: uuid.UUID | None = None,
        group_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        """An audit entry's columns, for a query that writes it in the same statement as its change."""
        return {
            "actor": self.actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "before": before,
            "after": after,
            "reason": reason,
            "session_id": session_id,
            "group_id": group_id,
        }

    async def _write_events(self) -> None:
        if not self._events:
            return
        await self.db.flush()
        await self.db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK_KEY})
        now = self.clock.now()  # the one clock: consumers judge "not started yet" as of the change
        # One multi-row INSERT, whatever the number of events (a year of occurrences records ~150):
        # with RETURNING, SQLAlchemy's insertmanyvalues sends the rows as one statement, compiled once.
        events = IntegrationEvent.__table__
        await self.db.execute(
            insert(events).returning(events.c.id),
            [{"type": event_type, "payload": payload, "occurred_at": now} for event_type, payload in self._events],
        )
