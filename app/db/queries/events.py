"""The integration-event outbox: integrators' pages, consumer offsets, the relay's claims."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models

Event = models.IntegrationEvent


async def events_after(
    db: AsyncSession,
    after_id: int,
    limit: int,
    facility_ids: Sequence[uuid.UUID] | None,
    hidden_types: Sequence[str] = (),
) -> tuple[list[Event], int]:
    """Up to `limit` events after `after_id` and how many there are in all, limited to events of the
    facilities named (None: every event; events that name no facility are for all-facility callers)
    and leaving out the types named hidden (those the caller's scopes may not read)."""
    page_query = select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    count_query = select(func.count()).select_from(Event)
    if hidden_types:
        page_query = page_query.where(Event.type.not_in(hidden_types))
        count_query = count_query.where(Event.type.not_in(hidden_types))
    if facility_ids is not None:
        visible = Event.payload["facilityId"].astext.in_([str(pk) for pk in facility_ids])
        page_query, count_query = page_query.where(visible), count_query.where(visible)
    rows = (await db.scalars(page_query)).all()
    return list(rows), int(await db.scalar(count_query) or 0)


async def lock_offset(db: AsyncSession, consumer: str) -> models.ConsumerOffset:
    """The consumer's offset row (created at 0 the first time), locked: one drain at a time."""
    await db.execute(upsert(models.ConsumerOffset).values(consumer=consumer, last_event_id=0).on_conflict_do_nothing())
    return await db.scalar(
        select(models.ConsumerOffset).where(models.ConsumerOffset.consumer == consumer).with_for_update()
    )


async def events_from(db: AsyncSession, after_id: int, limit: int) -> list[Event]:
    """Committed events after `after_id`, in id (= commit) order."""
    return list((await db.scalars(select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit))).all())


async def claim_unpublished(db: AsyncSession, limit: int) -> list[Event]:
    """Unpublished events no other relay pass holds, locked until this transaction ends."""
    rows = await db.scalars(
        select(Event)
        .where(Event.published_at.is_(None))
        .order_by(Event.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def mark_published(db: AsyncSession, event_ids: Sequence[int], at: datetime) -> None:
    await db.execute(update(Event).where(Event.id.in_(event_ids)).values(published_at=at))


async def notify(db: AsyncSession, channel: str, body: str) -> None:
    """A NOTIFY that PostgreSQL delivers when this transaction commits (never on rollback)."""
    await db.execute(text("SELECT pg_notify(:channel, :body)"), {"channel": channel, "body": body})
