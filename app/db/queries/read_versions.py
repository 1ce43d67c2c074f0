"""The read versions a cached answer is checked against (migration 0021_read_versions, app/http/read_cache.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ReadVersion

GLOBAL = "global"


async def read_versions(db: AsyncSession, facility_ids: Sequence[uuid.UUID] | None) -> tuple[tuple[str, int], ...]:
    """The numbers of what a read of these facilities (None: of every facility) can show, in one
    statement and in `db`'s snapshot: the facilities' keys and the global one. Numbers are never
    reused (one sequence hands them out at commits), so the same answer means nothing it covers
    was written since."""
    query = select(ReadVersion.key, ReadVersion.version).order_by(ReadVersion.key)
    if facility_ids is not None:
        query = query.where(ReadVersion.key.in_([GLOBAL, *(str(f) for f in facility_ids)]))
    return tuple((key, version) for key, version in (await db.execute(query)).all())
