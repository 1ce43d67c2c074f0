"""One place that clamps and decodes every list's paging arguments (rules.md §11)."""

from __future__ import annotations

import base64

from app.db.queries.common import Page
from app.errors import BadInput

MAX_PAGE = 100
DEFAULT_PAGE = 50


def page_args(first: int | None, after: str | None) -> Page:
    if first is None:
        first = DEFAULT_PAGE
    if first < 0:
        raise BadInput("first must not be negative")
    if first > MAX_PAGE:
        raise BadInput(f"first must be at most {MAX_PAGE}")
    offset = decode_cursor(after) + 1 if after else 0
    return Page(offset=offset, limit=first)


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"o:{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        position = int(value)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("Malformed cursor") from None
    if kind != "o" or position < 0:
        raise BadInput("Malformed cursor")
    return position
