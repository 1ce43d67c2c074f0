"""Live-update subscriptions for room displays and web clients."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.resolvers import live
from app.schema.events import GroupUpdate, SessionUpdate
from app.schema.permissions import scoped


@strawberry.type
class Subscription:
    @strawberry.subscription(
        **scoped("clinical.group-session.read"),
        description="First message: kind SNAPSHOT with the current state. Then one message per change, to every watcher.",
    )
    async def session_updates(self, info: Info, session_id: strawberry.ID) -> AsyncGenerator[SessionUpdate, None]:
        async for update in live.session_updates(info, session_id):
            yield update

    @strawberry.subscription(
        **scoped("pm.group_definitions.view"),
        description="First message: kind SNAPSHOT with the group. Then one message per enrollment, occurrence or group change.",
    )
    async def group_updates(self, info: Info, group_id: strawberry.ID) -> AsyncGenerator[GroupUpdate, None]:
        async for update in live.group_updates(info, group_id):
            yield update
