"""Date and DateTime inputs limited to years a clinic can mean, so no date arithmetic downstream
(time zones, week starts, list windows) can overflow into a server fault."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


def _within_range(definition: ScalarDefinition, day_of: Callable[[Any], dt.date]) -> ScalarDefinition:
    parse = definition.parse_value

    def parse_value(value: object) -> object:
        parsed = parse(value)
        if not FIRST_DAY <= day_of(parsed) <= LAST_DAY:
            raise StrawberryInputCoercionError(
                f'Value cannot represent a {definition.name}: "{value}". Dates run from {FIRST_DAY} to {LAST_DAY}.'
            )
        return parsed

    return replace(definition, parse_value=parse_value, implementation=None)


SCALAR_OVERRIDES = {
    dt.date: _within_range(DateDefinition, lambda day: day),
    dt.datetime: _within_range(DateTimeDefinition, lambda moment: moment.date()),
}
