"""The Relay Node interface, the global id of a row, and resolving any global id."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo

from app.errors import BadInput, NotFound
from app.ids import encode_id, split_id
from app.schema.context import Info

NodeFetcher = Callable[[Info, uuid.UUID], Awaitable[Any]]


@strawberry.interface
class Node:
    id: strawberry.ID


def global_id(type_name: str) -> Any:
    """The `id` field of a type whose resolvers return rows: the row's key as a global id."""

    def resolve(root) -> strawberry.ID:
        return strawberry.ID(encode_id(type_name, root.id))

    return strawberry.field(resolver=resolve)


def rows_of(model: type) -> classmethod:
    """`is_type_of` for a Node type whose resolvers return `model` rows, ORM instances or read
    models of app.db.queries.common.read_model (so `node(id:)` and other interface fields can tell
    which type a row is)."""

    def is_type_of(cls, obj: Any, info: GraphQLResolveInfo) -> bool:
        return isinstance(obj, (cls, model)) or getattr(type(obj), "__model__", None) is model

    return classmethod(is_type_of)


async def resolve_node(info: Info, global_id_value: str, fetchers: Mapping[str, NodeFetcher]) -> Any:
    type_name, raw = split_id(global_id_value)
    fetch = fetchers.get(type_name)
    if fetch is None:
        raise NotFound(f"No {type_name} with that id")
    try:
        pk = uuid.UUID(raw)
    except ValueError:
        raise BadInput(f"Malformed id {global_id_value[:64]!r}") from None
    return await fetch(info, pk)
