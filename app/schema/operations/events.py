"""The integration-event feed for integrators."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.resolvers import events as ops
from app.schema.connection import Connection
from app.schema.events import IntegrationEvent
from app.schema.permissions import scoped


@strawberry.type
class EventsQuery:
    @strawberry.field(**scoped("events.read"), description="Integration events in commit order.")
    async def integration_events(
        self, info: Info, after: str | None = None, first: int | None = None
    ) -> Connection[IntegrationEvent]:
        return await ops.list_events(info.context, after, first)
