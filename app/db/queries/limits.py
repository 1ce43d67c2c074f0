"""Attempt counters shared by every process: counted in one statement, so concurrent attempts each
get their own number (the row's lock orders them) and none is checked before it is counted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AttemptCounter

Counter = AttemptCounter


async def count_attempt(db: AsyncSession, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
    """This attempt's number in the key's window, and when the window started (a window older than
    `window` starts again at this attempt)."""
    expired = Counter.window_start <= now - window
    statement = (
        insert(Counter)
        .values(key=key, window_start=now, count=1)
        .on_conflict_do_update(
            index_elements=[Counter.key],
            set_={
                "count": case((expired, 1), else_=Counter.count + 1),
                "window_start": case((expired, now), else_=Counter.window_start),
            },
        )
        .returning(Counter.count, Counter.window_start)
    )
    row = (await db.execute(statement)).one()
    return row.count, row.window_start


async def uncount_attempt(db: AsyncSession, key: str) -> None:
    """An attempt that turned out right does not count against the key."""
    await db.execute(update(Counter).where(Counter.key == key, Counter.count > 0).values(count=Counter.count - 1))


async def forget_windows_before(db: AsyncSession, cutoff: datetime) -> None:
    await db.execute(delete(Counter).where(Counter.window_start < cutoff))
