"""Calendar feed changes: create a feed's secret URL, revoke it."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from app.ids import decode_id
from app.operations import calendars as ops
from app.rules.scopes import Scope
from app.schema.calendars.types import CalendarFeed, CreatedCalendarFeed
from app.schema.context import Info
from app.schema.permissions import scoped

# A feed shows the schedule the creator may already read (no patients): the view scope creates it.
FEED_SCOPE = Scope.GROUP_SCHEDULE_VIEW


@strawberry.type
class CalendarsMutation:
    @strawberry.mutation(
        **scoped(FEED_SCOPE),
        description="A secret calendar URL for a group's occurrences (groupId) or a facilitator's (staffId); give exactly "
        "one. It answers until expiresAt, until revoked, or until its creator calls with a token that no longer names "
        "its facility.",
    )
    async def create_calendar_feed(
        self,
        info: Info,
        group_id: strawberry.ID | None = None,
        staff_id: strawberry.ID | None = None,
        label: str | None = None,
    ) -> CreatedCalendarFeed:
        return await ops.create_calendar_feed(
            await info.context.transaction(),
            info.context.principal,
            group_id=decode_id(group_id, "GroupDefinition") if group_id else None,
            staff_id=decode_id(staff_id, "Staff") if staff_id else None,
            label=label,
            lifetime=timedelta(days=info.context.services.settings.calendar_feed_days),
        )

    @strawberry.mutation(**scoped(FEED_SCOPE), description="The feed's URL answers 404 from now on.")
    async def revoke_calendar_feed(self, info: Info, id: strawberry.ID) -> CalendarFeed:
        return await ops.revoke_calendar_feed(
            await info.context.transaction(), info.context.principal, decode_id(id, "CalendarFeed")
        )
