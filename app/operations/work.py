"""Where a unit of work meets the rest of the running service: live updates are staged in its
transaction, and committed events are handed to the feed consumers and the relay at once."""

from __future__ import annotations

from app.db.uow import UnitOfWork
from app.live.publish import stage_group_updates_for_events
from app.services import Services


def unit_of_work(services: Services, actor: str) -> UnitOfWork:
    uow = UnitOfWork(services.sessionmaker, actor=actor, clock=services.clock)
    uow.live = services.live_publisher
    uow.finalize_hours = services.settings.finalize_hours
    uow.in_transaction, uow.in_transaction_runs = services.in_transaction, services.in_transaction_runs

    async def deliver() -> None:
        if uow.recorded_events:
            if services.feed is not None:
                await services.feed.kick()
            if services.relay is not None:
                await services.relay.kick()

    async def announce_group_changes() -> None:
        await stage_group_updates_for_events(uow)

    uow.before_commit(announce_group_changes)
    uow.after_commit(deliver)
    return uow
