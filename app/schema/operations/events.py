"""The integration-event feed and the live-update subscriptions."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.resolvers import events as ops
from app.schema.connection import Connection
from app.schema.events import GroupUpdate, IntegrationEvent, SessionUpdate
from app.schema.permissions import scoped


@strawberry.type
class EventsQuery:
    @strawberry.field(**scoped("events.read"), description="Integration events in commit order.")
    async def integration_events(
        self, info: Info, after: str | None = None, first: int | None = None
    ) -> Connection[IntegrationEvent]:
        return await ops.list_events(info.context, after, first)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        **scoped("clinical.group-session.read"),
        description="First message: kind SNAPSHOT with the current state. Then one message per change.",
    )
    async def session_updates(self, info: Info, session_id: strawberry.ID) -> AsyncGenerator[SessionUpdate, None]:
        async for update in ops.session_updates(info, session_id):
            yield update

    @strawberry.subscription(**scoped("pm.group_definitions.view"))
    async def group_updates(self, info: Info, group_id: strawberry.ID) -> AsyncGenerator[GroupUpdate, None]:
        async for update in ops.group_updates(info, group_id):
            yield update
