"""Idempotency keys: claimed before a request runs, its response recorded after, purged after a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import IdempotencyKey

Key = IdempotencyKey


async def purge_older_than(db: AsyncSession, cutoff: datetime) -> None:
    await db.execute(delete(Key).where(Key.created_at < cutoff))


async def claim(  # noqa: PLR0917 - one row's columns
    db: AsyncSession,
    subject: str,
    key: str,
    request_hash: str,
    now: datetime,
    ttl: timedelta,
    scopes: Sequence[str],
    facilities: Sequence[str],
) -> bool:
    """True when this request owns the key: new, or its last use is older than `ttl`."""
    caller = {"scopes": list(scopes), "facilities": list(facilities)}
    statement = (
        insert(Key)
        .values(subject=subject, key=key, request_hash=request_hash, created_at=now, **caller)
        .on_conflict_do_update(
            index_elements=[Key.subject, Key.key],
            set_={
                "request_hash": request_hash,
                "created_at": now,
                "status_code": None,
                "sealed_response": None,
                **caller,
            },
            where=Key.created_at < now - ttl,
        )
        .returning(Key.key)
    )
    return (await db.scalar(statement)) is not None


async def find(db: AsyncSession, subject: str, key: str) -> Key | None:
    return await db.scalar(select(Key).where(Key.subject == subject, Key.key == key))


async def lock(db: AsyncSession, subject: str, key: str) -> Key | None:
    return await db.get(Key, (subject, key), with_for_update=True)


async def release_unanswered(db: AsyncSession, subject: str, key: str) -> None:
    """Forget a claim whose request died without a response, so a retry can run it."""
    await db.execute(delete(Key).where(Key.subject == subject, Key.key == key, Key.status_code.is_(None)))
