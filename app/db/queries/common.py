"""What every area's queries share: one page of a query with its total, literal text search."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


async def page(db: AsyncSession, query: Select, *order_by: Any, window: Page) -> tuple[list[Any], int]:
    """One page of `query` in `order_by` order, and how many rows the whole query has."""
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await db.scalars(query.order_by(*order_by).offset(window.offset).limit(window.limit))).all()
    return list(rows), int(total or 0)


async def rows_by_id(db: AsyncSession, model: type, keys: Sequence[Any]) -> list[Any]:
    """The rows with these primary keys, one per key in order (None for a missing one)."""
    found = {row.id: row for row in (await db.scalars(select(model).where(model.id.in_(keys)))).all()}
    return [found.get(key) for key in keys]


async def rows_by_column(db: AsyncSession, column: Any, keys: Sequence[Any], *order_by: Any, where: Any = None) -> list[list[Any]]:
    """The rows whose `column` equals each key, one list per key in order."""
    query = select(column.class_).where(column.in_(keys)).order_by(*order_by)
    if where is not None:
        query = query.where(where)
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in (await db.scalars(query)).all():
        grouped[getattr(row, column.key)].append(row)
    return [grouped.get(key, []) for key in keys]


def contains_pattern(search: str) -> str:
    """An ILIKE pattern (escape '\\') matching `search` literally anywhere: % and _ are not wildcards."""
    text = search.strip()[:100].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


async def insert_missing(db: AsyncSession, model: type, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose keys are not there yet (fixed-id seed data, loaded again harmlessly)."""
    if rows:
        await db.execute(upsert(model).values(rows).on_conflict_do_nothing())
