"""Plain leaf fields: a field's value read with one getter, planned once when the schema is built.

graphql-core executes every field the same way: it builds a `GraphQLResolveInfo` (a dozen values),
calls the field's resolver, which for a Strawberry field builds Strawberry's own `Info`, converts the
arguments, chains the field extensions and calls the Python function, then completes the value
through `complete_value`, once for the non-null wrapper and once for the scalar. A list of 50
sessions completes about 5,500 fields this way, and most of them are leaves: an id, a status, a
name, a time.

`plan_plain_leaves` marks the leaf fields whose value needs nothing of that: a scalar or enum (or a
non-null one) with no arguments, no field extensions (so no permission classes), read either as an
attribute (no resolver) or by a synchronous resolver that takes only the parent object. Each is
given a getter of the parent alone. `complete_plain_leaf` (called by the execution context for a
marked field) reads it and coerces it with the type's own `coerce_output_value`, and answers only
when that is the whole story: a value that is there and coerces. Anything else (a null, an error
raised or returned, an awaitable, a value that does not coerce) returns `NOT_PLAIN`, and the caller
executes the field graphql-core's way, so every null and error comes out exactly as before
(tests/test_plain_leaves.py compares the two, byte for byte, over the documents clients send).

Every other field with a resolver and no arguments or field extensions gets a lean resolver: its
function called with the parent and Strawberry's `Info` directly, which is what Strawberry's chain
comes to for such a field.

Measured on the bench's list of 50 with the read cache off (two servers side by side, alternating
rounds of 30): 68-71 ms of server CPU per request planned, 81-89 ms field by field.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.pyutils import Undefined

PLAN_KEY = "group-sessions-plain-leaf"
DEFINITION_KEY = "strawberry-definition"  # Strawberry's link from a graphql-core field to its own


class _NotPlain:
    def __repr__(self) -> str:
        return "NOT_PLAIN"


NOT_PLAIN: Any = _NotPlain()


def _getter(definition: Any) -> Callable[[Any], Any] | None:
    """One call from the parent object to the field's value, or None when the field needs more."""
    if definition.extensions or definition.arguments or getattr(definition, "is_subscription", False):
        return None
    resolver = definition.base_resolver
    if resolver is None:
        default = getattr(definition, "default_resolver", getattr)
        name = definition.python_name
        if default is getattr:
            return attrgetter(name)
        return lambda source: default(source, name)
    if resolver.is_async or resolver.info_parameter is not None:
        return None
    function = resolver.wrapped_func
    if not callable(function) or inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        return None
    if len(resolver.signature.parameters) != 1:
        return None
    if resolver.self_parameter is not None:
        return function
    reserved = resolver.root_parameter or resolver.parent_parameter
    if reserved is None:
        return None
    name = reserved.name
    return lambda source: function(**{name: source})


def _lean_resolver(definition: Any, info_class: type) -> Callable[..., Any] | None:
    """For a field with a resolver, no arguments and no field extensions: the resolver called with
    the parent and Strawberry's `Info` directly, for the chain Strawberry builds around every
    resolver (its argument conversion, an empty chain of extensions, four wrapper calls)."""
    resolver = definition.base_resolver
    if resolver is None or definition.extensions or definition.arguments:
        return None
    if getattr(definition, "is_subscription", False) or getattr(definition, "is_graphql_generic", False):
        return None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    reserved = {
        p.name
        for p in (resolver.self_parameter, resolver.root_parameter, resolver.parent_parameter, resolver.info_parameter)
        if p is not None
    }
    if set(resolver.signature.parameters) != reserved:
        return None
    self_first = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    def lean(source: Any, info: GraphQLResolveInfo, **_: Any) -> Any:
        kwargs = dict.fromkeys(source_names, source)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=definition)
        return function(source, **kwargs) if self_first else function(**kwargs)

    return lean


def plan_plain_leaves(
    schema: GraphQLSchema, info_class: type | None = None, has_exception_handlers: bool = False
) -> int:
    """Mark every plain leaf field of `schema` with its plan, and give every other field with a
    resolver and no arguments or extensions its lean resolver (with `info_class`); how many leaves
    were marked."""
    if has_exception_handlers:  # a handler may turn a field's exception into a value: not plain
        return 0
    marked = 0
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for field in named.fields.values():
            definition = field.extensions.get(DEFINITION_KEY) if field.extensions else None
            if definition is None:
                continue
            if info_class is not None and (lean := _lean_resolver(definition, info_class)) is not None:
                field.resolve = lean
            non_null = isinstance(field.type, GraphQLNonNull)
            leaf = field.type.of_type if non_null else field.type
            if not isinstance(leaf, (GraphQLScalarType, GraphQLEnumType)):
                continue
            getter = _getter(definition)
            if getter is None:
                continue
            field.extensions[PLAN_KEY] = (getter, leaf.coerce_output_value, non_null)
            marked += 1
    return marked


def complete_plain_leaf(plan: tuple, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The completed value of a planned leaf field, or NOT_PLAIN to execute it the usual way."""
    getter, coerce, non_null = plan
    try:
        value = getter(source)
    except Exception:  # noqa: BLE001 - the usual way raises it again, and reports it as graphql-core does
        return NOT_PLAIN
    if value is None or value is Undefined:
        return NOT_PLAIN if non_null else None
    if isinstance(value, Exception) or is_awaitable(value):
        if inspect.iscoroutine(value):
            value.close()  # the usual way calls the resolver again; this one is never awaited
        return NOT_PLAIN
    try:
        coerced = coerce(value)
    except Exception:  # noqa: BLE001 - as above: graphql-core's own completion reports it
        return NOT_PLAIN
    if coerced is None or coerced is Undefined:
        return NOT_PLAIN
    return coerced
