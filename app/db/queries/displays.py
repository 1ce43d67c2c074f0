"""Room displays: pending pairings by code or claim, the displays of a facility, and the sessions of a room."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page, page

Display = models.RoomDisplay
GS = models.GroupSession
Group = models.GroupDefinition


async def pending_codes(db: AsyncSession, codes: Sequence[str], now: datetime) -> set[str]:
    """Which of these codes an unexpired, unpaired display is showing now."""
    rows = await db.scalars(
        select(Display.pairing_code).where(
            Display.pairing_code.in_(codes), Display.paired_at.is_(None), Display.pairing_expires_at > now
        )
    )
    return set(rows)


async def pending_count(db: AsyncSession, now: datetime) -> int:
    return int(
        await db.scalar(select(func.count()).where(Display.paired_at.is_(None), Display.pairing_expires_at > now)) or 0
    )


async def forget_stale_pairings(db: AsyncSession, before: datetime) -> None:
    """Unpaired displays whose code expired before `before`: nobody can pair or claim them."""
    await db.execute(delete(Display).where(Display.paired_at.is_(None), Display.pairing_expires_at < before))


async def lock_pending_by_code(db: AsyncSession, code: str, now: datetime) -> Display | None:
    return await db.scalar(
        select(Display)
        .where(
            Display.pairing_code == code,
            Display.paired_at.is_(None),
            Display.pairing_expires_at > now,
            Display.revoked_at.is_(None),
        )
        .order_by(Display.created_at.desc())
        .limit(1)
        .with_for_update()
    )


async def lock_by_claim(db: AsyncSession, claim_hash: str) -> Display | None:
    return await db.scalar(select(Display).where(Display.claim_hash == claim_hash).with_for_update())


async def displays_page(
    db: AsyncSession, *, facility_ids: Sequence[uuid.UUID] | None, include_revoked: bool, window: Page
) -> tuple[list[Display], int]:
    query = select(Display).where(Display.paired_at.is_not(None))
    if facility_ids is not None:
        query = query.where(Display.facility_id.in_(facility_ids))
    if not include_revoked:
        query = query.where(Display.revoked_at.is_(None))
    return await page(db, query, Display.paired_at.desc(), Display.id, window=window)


def _in_room(facility_id: uuid.UUID, location: str):
    """Sessions of the room's live groups (ad-hoc sessions have no room)."""
    room_groups = select(Group.id).where(
        Group.facility_id == facility_id, Group.location == location, Group.deleted_at.is_(None)
    )
    return GS.facility_id == facility_id, GS.group_id.in_(room_groups), GS.cancelled_at.is_(None)


async def room_sessions(
    db: AsyncSession, facility_id: uuid.UUID, location: str, start: datetime, end: datetime
) -> list[GS]:
    """The room's sessions that overlap [start, end), not cancelled, in start order."""
    rows = await db.scalars(
        select(GS)
        .where(*_in_room(facility_id, location), GS.ends_at > start, GS.starts_at < end)
        .order_by(GS.starts_at, GS.id)
    )
    return list(rows)


async def next_room_session_start(
    db: AsyncSession, facility_id: uuid.UUID, location: str, after: datetime
) -> datetime | None:
    return await db.scalar(
        select(func.min(GS.starts_at)).where(*_in_room(facility_id, location), GS.starts_at >= after)
    )
