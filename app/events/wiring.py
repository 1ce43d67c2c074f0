"""Where a unit of work meets the feed: committed events are handed to consumers at once."""
from __future__ import annotations

from app.db.uow import UnitOfWork


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

    uow.after_commit(deliver)
    return uow
