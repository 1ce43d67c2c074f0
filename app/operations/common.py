"""What every area's operations share: who may see a row, and checks on plain input."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from app.auth import Principal
from app.errors import BadInput, Forbidden, NotFound
from app.rules.reference import text_problem
from app.rules.scopes import Scope

RowT = TypeVar("RowT")


def check(problem: str | None) -> None:
    if problem:
        raise BadInput(problem)


def require_text(field: str, value: str, max_length: int = 200) -> str:
    check(text_problem(field, value, max_length))
    return value.strip()


def require_scope(actor: Principal, scope: Scope, what: str | None = None) -> None:
    if not actor.has_scope(scope):
        raise Forbidden(f"{what} needs scope {scope}" if what else f"Missing scope {scope}")


def visible_or_not_found(actor: Principal, row: RowT | None, label: str, facility_id: uuid.UUID | None = None) -> RowT:
    """The row when it exists in one of the caller's facilities; otherwise NOT_FOUND, revealing nothing."""
    if row is None:
        raise NotFound(f"No {label} with that id")
    owner: Any = facility_id or getattr(row, "facility_id", None) or row.id  # a Facility owns itself
    if not actor.sees_facility(owner):
        raise NotFound(f"No {label} with that id")
    return row


def facilities_seen(actor: Principal) -> list[uuid.UUID] | None:
    """The facilities a caller's lists cover: None for an all-facility token."""
    return None if actor.all_facilities else actor.facility_uuids


def camel(name: str) -> str:
    """An input field's API name, for messages: facilitator_id → facilitatorId."""
    head, *rest = name.removesuffix("_id").split("_")
    return head + "".join(p.title() for p in rest) + ("Id" if name.endswith("_id") else "")
