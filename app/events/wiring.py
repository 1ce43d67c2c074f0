"""Where a unit of work meets the feed: committed events are handed to consumers at once,
and the group changes they describe are staged for live watchers."""
from __future__ import annotations

from app.db.uow import UnitOfWork
from app.live.publish import stage_group_updates_for_events


def unit_of_work(services, actor: str) -> UnitOfWork:
    uow = UnitOfWork(services.sessionmaker, actor=actor, clock=services.clock)
    uow.live = services.extras.get("live_publisher")

    async def deliver() -> None:
        if uow.recorded_events:
            runner = services.extras.get("feed")
            if runner is not None:
                await runner.kick()
            relay = services.extras.get("relay")
            if relay is not None:
                await relay.kick()

    async def announce_group_changes() -> None:
        await stage_group_updates_for_events(uow)

    uow.before_commit(announce_group_changes)
    uow.after_commit(deliver)
    return uow
