"""Calendar feed reads: the feeds of the caller's facilities (never their secrets)."""

from __future__ import annotations

import strawberry

from app.ids import decode_id
from app.operations import calendars as ops
from app.rules.scopes import Scope
from app.schema.calendars.types import CalendarFeed
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.pagination import page_args
from app.schema.permissions import scoped


@strawberry.type
class CalendarsQuery:
    @strawberry.field(
        **scoped(Scope.GROUP_SCHEDULE_VIEW), description="Calendar feeds of the caller's facilities, newest first."
    )
    async def calendar_feeds(
        self,
        info: Info,
        group_id: strawberry.ID | None = None,
        staff_id: strawberry.ID | None = None,
        include_revoked: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CalendarFeed]:
        window = page_args(first, after)
        async with info.context.db() as db:
            rows, total = await ops.calendar_feeds(
                db,
                info.context.principal,
                group_id=decode_id(group_id, "GroupDefinition") if group_id else None,
                staff_id=decode_id(staff_id, "Staff") if staff_id else None,
                include_revoked=include_revoked,
                window=window,
            )
        return Connection.from_page(rows, window, total)
