"""Webhook endpoints, their deliveries and the delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page, page, rows_by_column
from app.rules.webhooks import DeliveryStatus

Endpoint = models.WebhookEndpoint
Delivery = models.WebhookDelivery
Event = models.IntegrationEvent


def _visible(facility_ids: Sequence[uuid.UUID] | None) -> Any:
    """Endpoints whose whole facility filter is among the caller's facilities (None: every endpoint)."""
    if facility_ids is None:
        return True
    return and_(Endpoint.facility_ids.is_not(None), Endpoint.facility_ids.contained_by([str(f) for f in facility_ids]))


async def endpoints_page(
    db: AsyncSession, facility_ids: Sequence[uuid.UUID] | None, window: Page
) -> tuple[list[Endpoint], int]:
    query = select(Endpoint).where(Endpoint.deleted_at.is_(None), _visible(facility_ids))
    return await page(db, query, Endpoint.created_at.desc(), Endpoint.id, window=window)


async def endpoint(db: AsyncSession, endpoint_id: uuid.UUID, *, lock: bool = False) -> Endpoint | None:
    query = select(Endpoint).where(Endpoint.id == endpoint_id, Endpoint.deleted_at.is_(None))
    return await db.scalar(query.with_for_update() if lock else query)


async def receiving_endpoints(db: AsyncSession) -> list[Endpoint]:
    """Endpoints that take new events: not deleted, not disabled."""
    query = select(Endpoint).where(Endpoint.deleted_at.is_(None), Endpoint.disabled_at.is_(None))
    return list((await db.scalars(query)).all())


async def last_event_id(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)


async def add_deliveries(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """New deliveries; one an endpoint already has for the event is left as it is."""
    if rows:
        await db.execute(
            upsert(Delivery).values(rows).on_conflict_do_nothing(constraint="uq_webhook_deliveries_endpoint_event")
        )


async def claim_due(
    db: AsyncSession, now: datetime, busy_until: datetime, skip: Sequence[uuid.UUID], limit: int
) -> list[tuple[Delivery, Endpoint]]:
    """For up to `limit` endpoints that no process is calling (and not in `skip`), the oldest due
    delivery; each endpoint is marked busy until `busy_until` in this transaction. An endpoint whose
    process died mid-attempt is free again once its mark expires, and its delivery is due again."""
    due = (
        select(Delivery.id)
        .where(
            Delivery.endpoint_id == Endpoint.id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.next_attempt_at, Delivery.event_id)
        .limit(1)
        .correlate(Endpoint)
        .scalar_subquery()
    )
    query = (
        select(Endpoint, due.label("delivery_id"))
        .where(
            Endpoint.deleted_at.is_(None),
            Endpoint.disabled_at.is_(None),
            or_(Endpoint.busy_until.is_(None), Endpoint.busy_until < now),
            due.is_not(None),
        )
        .limit(limit)
        .with_for_update(of=Endpoint, skip_locked=True)
    )
    if skip:
        query = query.where(Endpoint.id.not_in(skip))
    found = (await db.execute(query)).all()
    if not found:
        return []
    await db.execute(update(Endpoint).where(Endpoint.id.in_([e.id for e, _ in found])).values(busy_until=busy_until))
    deliveries = {
        d.id: d for d in (await db.scalars(select(Delivery).where(Delivery.id.in_([d for _, d in found])))).all()
    }
    return [(deliveries[delivery_id], endpoint) for endpoint, delivery_id in found]


async def lock_delivery(db: AsyncSession, delivery_id: uuid.UUID) -> Delivery | None:
    return await db.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())


async def event(db: AsyncSession, event_id: int) -> Event | None:
    return await db.get(Event, event_id)


async def events_between(db: AsyncSession, since: datetime, until: datetime, event_types: Sequence[str]) -> list[Event]:
    """Outbox events of these types that occurred in [since, until), in commit order."""
    query = (
        select(Event)
        .where(Event.occurred_at >= since, Event.occurred_at < until, Event.type.in_(event_types))
        .order_by(Event.id)
    )
    return list((await db.scalars(query)).all())


async def requeue(db: AsyncSession, endpoint_id: uuid.UUID, event_ids: Sequence[int], now: datetime) -> int:
    """The endpoint's deliveries of these events due now, on a fresh retry schedule; how many."""
    if not event_ids:
        return 0
    result = await db.execute(
        update(Delivery)
        .where(Delivery.endpoint_id == endpoint_id, Delivery.event_id.in_(event_ids))
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, delivered_at=None)
    )
    return result.rowcount or 0


async def deliveries_page(
    db: AsyncSession, endpoint_id: uuid.UUID, status: str | None, window: Page
) -> tuple[list[Delivery], int]:
    query = select(Delivery).where(Delivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    return await page(db, query, Delivery.event_id.desc(), window=window)


async def attempts_by_delivery(
    db: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> list[list[models.WebhookAttempt]]:
    Attempt = models.WebhookAttempt
    return await rows_by_column(db, Attempt.delivery_id, delivery_ids, Attempt.id)


async def release(db: AsyncSession, endpoint_id: uuid.UUID) -> None:
    """The endpoint may be called again (its attempt is recorded)."""
    await db.execute(update(Endpoint).where(Endpoint.id == endpoint_id).values(busy_until=None))


async def pending_count(db: AsyncSession) -> int:
    return int(
        await db.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.PENDING))
        or 0
    )
