"""Calendar feeds: their tokens' hashes, the feeds of a facility, and the occurrences a feed shows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page, page

Feed = models.CalendarFeed
Occurrence = models.GroupOccurrence
Group = models.GroupDefinition


async def live_feed(db: AsyncSession, token_hash: str, now: datetime) -> Feed | None:
    """The feed whose secret hashes to this, unless revoked or expired."""
    return await db.scalar(
        select(Feed).where(
            Feed.token_hash == token_hash,
            Feed.revoked_at.is_(None),
            or_(Feed.expires_at.is_(None), Feed.expires_at > now),
        )
    )


async def feeds_page(
    db: AsyncSession,
    *,
    facility_ids: Sequence[uuid.UUID] | None,
    group_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    include_revoked: bool,
    window: Page,
) -> tuple[list[Feed], int]:
    query = select(Feed)
    if facility_ids is not None:
        query = query.where(Feed.facility_id.in_(facility_ids))
    if group_id is not None:
        query = query.where(Feed.group_id == group_id)
    if staff_id is not None:
        query = query.where(Feed.staff_id == staff_id)
    if not include_revoked:
        query = query.where(Feed.revoked_at.is_(None))
    return await page(db, query, Feed.created_at.desc(), Feed.id, window=window)


async def group_feed_occurrences(
    db: AsyncSession, group_id: uuid.UUID, since: datetime, limit: int
) -> list[tuple[Occurrence, Group]]:
    """The group's occurrences starting from `since`, cancelled ones included, in time order."""
    rows = await db.execute(
        select(Occurrence, Group)
        .join(Group, Group.id == Occurrence.group_id)
        .where(Occurrence.group_id == group_id, Occurrence.starts_at >= since)
        .order_by(Occurrence.starts_at, Occurrence.id)
        .limit(limit)
    )
    return [tuple(row) for row in rows.all()]


async def staff_feed_occurrences(
    db: AsyncSession, staff_id: uuid.UUID, since: datetime, limit: int
) -> list[tuple[Occurrence, Group]]:
    """The occurrences a staff member facilitates (as the occurrence's facilitator, or as the
    co-facilitator of its group) starting from `since`, of groups not deleted, in time order."""
    co_facilitated = select(Group.id).where(Group.co_facilitator_id == staff_id)
    rows = await db.execute(
        select(Occurrence, Group)
        .join(Group, Group.id == Occurrence.group_id)
        .where(
            or_(Occurrence.facilitator_id == staff_id, Occurrence.group_id.in_(co_facilitated)),
            Occurrence.starts_at >= since,
            Group.deleted_at.is_(None),
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
        .limit(limit)
    )
    return [tuple(row) for row in rows.all()]
