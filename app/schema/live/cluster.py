"""A session change built once per cluster (app.live.cluster): what a watcher asks for (its shape),
and executing a built change for a shape on the committing process."""

from __future__ import annotations

import json
from typing import Any

from graphql import ExecutionResult, execute, parse, print_ast
from strawberry.types import Info

from app.auth import Principal
from app.live.cluster import shape_key
from app.live.envelopes import SessionEnvelope
from app.schema.batching import Loaders
from app.schema.context import Context
from app.schema.loaders.sessions import prime_session_update

_PRIMITIVES = (str, int, float, bool, type(None))
_printed: dict[int, tuple[Any, str]] = {}


def _document_text(info: Info) -> str:
    """The operation and its fragments as text, printed once per parsed document."""
    operation = info.operation
    entry = _printed.get(id(operation))
    if entry is not None and entry[0] is operation:
        return entry[1]
    fragments = info._raw_info.fragments  # noqa: SLF001 - strawberry's Info does not expose them
    parts = [print_ast(operation)] + [print_ast(fragments[name]) for name in sorted(fragments)]
    text = "\n".join(parts)
    if len(_printed) > 256:
        _printed.clear()
    _printed[id(operation)] = (operation, text)
    return text


def watcher_shape(info: Info) -> tuple[str, dict] | None:
    """(key, spec) of what this watcher asks for: the document, its variables, the audience (scopes
    and facilities: all a resolver may check, as app.schema.shared_events has it). None when the
    variables are not plain JSON values: such a watcher's changes are built where it is watched."""
    principal = info.context._principal  # noqa: SLF001 - the context's principal is set by the view
    if principal is None:
        return None
    variables = dict(info.variable_values or {})
    if not all(isinstance(value, _PRIMITIVES) for value in variables.values()):
        return None
    operation = info.operation
    spec = {
        "query": _document_text(info),
        "operationName": operation.name.value if operation.name else None,
        "variables": variables,
        "scopes": sorted(principal.scopes),
        "facilities": list(principal.facilities),
    }
    return shape_key(spec), spec


def primed_loaders(services: Any, envelope: SessionEnvelope) -> Loaders:
    """Loaders of one change for one audience, primed with what the hub already read. Each audience
    executes with loaders of its own: one audience's failed execution cancels only its own loads."""
    loaders = Loaders(services.sessionmaker)
    prime_session_update(loaders, envelope)
    return loaders


def cluster_renderer(schema: Any, services: Any):
    """Executes a built session change for one shape, as the watcher's own process would, and
    encodes its data: the text is None when the execution had errors (errors are formatted per
    caller where the watcher is)."""
    documents: dict[str, Any] = {}

    async def render(envelope: SessionEnvelope, spec: dict) -> str | None:
        document = documents.get(spec["query"])
        if document is None:
            if len(documents) > 256:
                documents.clear()
            document = documents[spec["query"]] = parse(spec["query"])
        principal = Principal(
            subject="live-update", scopes=frozenset(spec["scopes"]), facilities=tuple(spec["facilities"])
        )
        context = Context(services=services, request=None, response=None, _principal=principal)
        context.loaders = primed_loaders(services, envelope)
        result = execute(
            schema._schema,  # noqa: SLF001 - strawberry keeps the graphql-core schema private
            document,
            root_value=envelope,
            context_value=context,
            variable_values=spec["variables"],
            operation_name=spec["operationName"],
            executor_class=schema.execution_context_class,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        if result.errors or not isinstance(result.data, dict):
            return None
        return json.dumps(result.data, separators=(",", ":"))

    return render
