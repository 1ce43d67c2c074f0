"""The integration-event feed for integrators, in commit order, limited to the caller's facilities."""
from __future__ import annotations

import base64
from typing import Any

import strawberry
from sqlalchemy import func, select

from app.db import models
from app.errors import BadInput
from app.schema.connection import Connection, Edge, PageInfo
from app.schema.pagination import page_args

CURSOR_PREFIX = "e:"


def encode_event_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{event_id}".encode()).decode()


def decode_event_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError(cursor)
        event_id = int(text[len(CURSOR_PREFIX):])
    except (ValueError, UnicodeDecodeError):
        raise BadInput("Malformed cursor") from None
    if event_id < 0:
        raise BadInput("Malformed cursor")
    return event_id


async def list_events(ctx, after: str | None, first: int | None) -> Connection:
    """Keyset pages over the outbox: ids are handed out in commit order, so `after` never skips a
    commit that lands later with a smaller id."""
    from app.schema.events import IntegrationEvent

    limit = page_args(first, None).limit
    after_id = decode_event_cursor(after) if after else 0
    event = models.IntegrationEvent
    visible = _visible_to(ctx.principal)
    page_query = select(event).where(event.id > after_id).order_by(event.id).limit(limit + 1)
    count_query = select(func.count()).select_from(event)
    if visible is not None:
        page_query, count_query = page_query.where(visible), count_query.where(visible)
    async with ctx.db() as session:
        rows = (await session.scalars(page_query)).all()
        total = int(await session.scalar(count_query) or 0)
    edges = [
        Edge(
            cursor=encode_event_cursor(row.id),
            node=IntegrationEvent(
                id=strawberry.ID(str(row.id)), type=row.type, occurred_at=row.occurred_at, payload=row.payload
            ),
        )
        for row in rows[:limit]
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=after_id > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


def _visible_to(principal) -> Any:
    """None for an all-facility caller; otherwise events of the caller's facilities only
    (events that name no facility are for all-facility callers)."""
    if principal.all_facilities:
        return None
    facility_of = models.IntegrationEvent.payload["facilityId"].astext
    return facility_of.in_([str(pk) for pk in principal.facility_uuids])
