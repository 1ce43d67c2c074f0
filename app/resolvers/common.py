"""Small helpers every area's operations share: visible rows, input checks."""
from __future__ import annotations

import uuid
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadInput, NotFound
from app.ids import decode_id
from app.rules.reference import text_problem

RowT = TypeVar("RowT")


def check(problem: str | None) -> None:
    if problem:
        raise BadInput(problem)


def require_text(field: str, value: str, max_length: int = 200) -> str:
    check(text_problem(field, value, max_length))
    return value.strip()


def visible_or_not_found(ctx: Any, row: RowT | None, label: str, facility_id: uuid.UUID | None = None) -> RowT:
    """The row when it exists in one of the caller's facilities; otherwise NOT_FOUND, revealing nothing."""
    if row is None:
        raise NotFound(f"No {label} with that id")
    owner = facility_id or getattr(row, "facility_id", None) or row.id  # a Facility owns itself
    if not ctx.principal.sees_facility(owner):
        raise NotFound(f"No {label} with that id")
    return row


async def get_visible(
    ctx: Any, session: AsyncSession, model: type[RowT], global_id: str, type_name: str, *, for_update: bool = False
) -> RowT:
    pk = decode_id(global_id, type_name)
    row = await session.get(model, pk, with_for_update=for_update)
    return visible_or_not_found(ctx, row, type_name)


def contains_pattern(search: str) -> str:
    """An ILIKE pattern (escape '\\') matching `search` literally anywhere: % and _ are not wildcards."""
    text = search.strip()[:100].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


def given_fields(data: Any) -> dict[str, Any]:
    """The fields an update input actually carries ("only the fields given change"); None is a given value."""
    return {name: value for name, value in vars(data).items() if value is not strawberry.UNSET}
