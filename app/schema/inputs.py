"""Turning GraphQL input objects into the plain values operations take: ids decoded, unset fields dropped."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

import strawberry

from app.ids import decode_id

T = TypeVar("T")


def given(data: Any, **id_types: str) -> dict[str, Any]:
    """The fields an input actually carries ("only the fields given change"; None is a given value),
    with the id fields named in `id_types` decoded (field name -> the type its id names)."""
    out = {}
    for name, value in vars(data).items():
        if value is strawberry.UNSET:
            continue
        out[name] = _decoded(value, id_types.get(name))
    return out


def plain(data: Any, target: type[T], **id_types: str) -> T:
    """`target` (a dataclass of app.operations) built from the input's fields of the same names."""
    values = given(data, **id_types)
    return target(**{f.name: values[f.name] for f in fields(target) if f.name in values})


def _decoded(value: Any, type_name: str | None) -> Any:
    if type_name is None or value is None:
        return value
    if isinstance(value, list):
        return [decode_id(v, type_name) for v in value]
    return decode_id(value, type_name)
