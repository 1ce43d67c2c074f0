"""What a running process holds, as the operations and the layers above see it: `Services`, built
once by app.main; and where a unit of work meets it: live updates are staged in its transaction, and
committed events are handed to the feed consumers and the relay at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from broadcaster import Broadcast
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.clock import Clock
from app.config import Settings
from app.db.uow import EventHandler, EventsHandler, UnitOfWork
from app.live.envelopes import SessionStates
from app.live.hub import Hub
from app.live.publish import LivePublisher, stage_group_updates_for_events
from app.live.runtime import Live
from app.operations.callers import CallerLimits
from app.operations.displays import PairingAttempts, RecentAttempts
from app.rules.recurrence import FIRST_START_YEARS


class Runner(Protocol):
    """After-commit work (app.events: the feed runner, the relay): a pass now, or passes on a timer."""

    async def kick(self) -> object: ...

    async def run_forever(self) -> None: ...


@dataclass(frozen=True)
class UnitsOfWork:
    """Opens units of work on the process's database and clock. Each stages its live updates on
    `live` (None where nobody watches: the command line) and, once it committed events, kicks each
    of `runners` in order."""

    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    finalize_hours: float
    live: LivePublisher | None = None
    runners: tuple[Runner, ...] = ()
    # Consumers' handlers that also run in the transaction recording their event (UnitOfWork.in_transaction).
    in_transaction: Mapping[str, EventHandler] = field(default_factory=dict)
    in_transaction_runs: Mapping[str, EventsHandler] = field(default_factory=dict)
    # GS_RECURRENCE_FIRST_START_YEARS: how far a new recurrence rule's first start is looked for.
    first_start_years: int = FIRST_START_YEARS

    def __call__(self, actor: str) -> UnitOfWork:
        uow = UnitOfWork(
            self.sessionmaker,
            actor,
            clock=self.clock,
            live=self.live,
            finalize_hours=self.finalize_hours,
            in_transaction=self.in_transaction,
            in_transaction_runs=self.in_transaction_runs,
            first_start_years=self.first_start_years,
        )

        async def announce_group_changes() -> None:
            await stage_group_updates_for_events(uow)

        async def deliver() -> None:
            if uow.recorded_events:
                for runner in self.runners:
                    await runner.kick()

        uow.before_commit(announce_group_changes)
        uow.after_commit(deliver)
        return uow


@dataclass(frozen=True)
class Services:
    """Every dependency of a process, built once by app.main.open_services. The server starts `live`,
    `feed` and `relay` in its lifespan; the command line's units of work neither stage live updates
    nor kick the relay (its committed events are published by the server's relay)."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    database_url: str
    live: Live
    feed: Runner
    relay: Runner
    units: UnitsOfWork
    pairing_attempts: PairingAttempts
    caller_limits: CallerLimits  # what one token subject may run at once in this process
    code_requests: RecentAttempts  # pairing codes asked for, per client address
    # Sends a 270 and answers with the payer's 271 (app.operations.eligibility); None: eligibility is not asked.
    eligibility: Callable[[str], Awaitable[str]] | None = None

    @property
    def broadcast(self) -> Broadcast:
        return self.live.broadcast

    @property
    def hub(self) -> Hub:
        return self.live.hub

    @property
    def session_states(self) -> SessionStates:
        return self.live.session_states


def unit_of_work(services: Services, actor: str) -> UnitOfWork:
    return services.units(actor)
