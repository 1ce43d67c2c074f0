"""The Relay Node interface and the registry that resolves any global id."""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from app.errors import BadInput, NotFound
from app.ids import split_id

NodeFetcher = Callable[[Info, uuid.UUID], Awaitable[Any]]
_FETCHERS: dict[str, NodeFetcher] = {}


@strawberry.interface
class Node:
    id: strawberry.ID


def node_fetcher(type_name: str) -> Callable[[NodeFetcher], NodeFetcher]:
    def register(fetch: NodeFetcher) -> NodeFetcher:
        _FETCHERS[type_name] = fetch
        return fetch

    return register


async def resolve_node(info: Info, global_id: str) -> Any:
    type_name, raw = split_id(global_id)
    fetch = _FETCHERS.get(type_name)
    if fetch is None:
        raise NotFound(f"No {type_name} with that id")
    try:
        pk = uuid.UUID(raw)
    except ValueError:
        raise BadInput(f"Malformed id {global_id[:64]!r}") from None
    return await fetch(info, pk)
