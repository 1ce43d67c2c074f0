"""Calendar feed types: a feed wraps its row; the secret appears once, in the creation's answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.db import models
from app.ids import encode_id
from app.operations.calendars import CreatedFeed, feed_kind
from app.rules import calendar as rules
from app.schema.context import Info
from app.schema.loaders import reference, scheduling
from app.schema.node import global_id

GroupDefinitionType = Annotated["GroupDefinition", strawberry.lazy("app.schema.scheduling.types")]  # noqa: F821 - resolved lazily
StaffType = Annotated["Staff", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily

CalendarFeedKind = strawberry.enum(
    rules.FeedKind, name="CalendarFeedKind", description="Whose schedule a feed shows: a group's, or a facilitator's."
)


def path_of(feed: models.CalendarFeed) -> str:
    kind = feed_kind(feed)
    subject = (
        encode_id("GroupDefinition", feed.group_id)
        if kind == rules.FeedKind.GROUP
        else encode_id("Staff", feed.staff_id)
    )
    return rules.feed_path(kind, subject)


@strawberry.type(
    description="A secret calendar URL (RFC 5545) for a group's or a facilitator's occurrences; no patient data."
)
class CalendarFeed:
    id: strawberry.ID = global_id("CalendarFeed")
    label: str | None
    created_by: str = strawberry.field(description="The subject of the token that created it.")
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = strawberry.field(
        description="When its URL stops answering (GS_CALENDAR_FEED_DAYS after it was made); make a new one then."
    )

    @strawberry.field
    def kind(feed: strawberry.Parent[models.CalendarFeed]) -> CalendarFeedKind:
        return feed_kind(feed)

    @strawberry.field(description="The feed's address without its secret (the secret is shown once, when created).")
    def path(feed: strawberry.Parent[models.CalendarFeed]) -> str:
        return path_of(feed)

    @strawberry.field(description="The group of a GROUP feed (a deleted group still shows here).")
    async def group(feed: strawberry.Parent[models.CalendarFeed], info: Info) -> GroupDefinitionType | None:
        return await scheduling.groups(info).load(feed.group_id) if feed.group_id else None

    @strawberry.field(description="The facilitator of a STAFF feed.")
    async def staff(feed: strawberry.Parent[models.CalendarFeed], info: Info) -> StaffType | None:
        return await reference.staff(info).load(feed.staff_id) if feed.staff_id else None


@strawberry.type
class CreatedCalendarFeed:
    """The new feed and its secret URL: shown this once; only a hash of the secret is kept."""

    feed: CalendarFeed

    @strawberry.field(description="The secret alone (the `token` query parameter of the URL).")
    def token(created: strawberry.Parent[CreatedFeed]) -> str:
        return created.token

    @strawberry.field(description="The address to subscribe to in Google Calendar, Outlook or Apple Calendar.")
    def url(created: strawberry.Parent[CreatedFeed], info: Info) -> str:
        base = str(info.context.request.base_url).rstrip("/")
        return f"{base}{path_of(created.feed)}?token={created.token}"
