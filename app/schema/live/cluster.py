"""The schema's side of building a session change once per cluster (app.live.cluster): what a watcher
asks for (its shape), and `SchemaRenderer`, the one implementation of app.live's `Renderer`, which
executes a committed change for a shape on the committing process.

Strawberry offers no public way to print an operation's fragments, nor to execute a parsed document
with our execution context (app.schema.shared_events) outside a request: the two private names that
takes (`Info._raw_info`, `Schema._schema`) are used here only, and tests/test_strawberry_hooks.py
checks they are still there."""

from __future__ import annotations

import json
from typing import Any

import strawberry
from graphql import DocumentNode, ExecutionResult, execute, parse, print_ast
from strawberry.types import Info

from app.auth import Principal
from app.live.cluster import Shape
from app.live.envelopes import SessionEnvelope
from app.operations.work import Services
from app.schema.batching import Loaders
from app.schema.context import Context
from app.schema.loaders.sessions import prime_session_update

_PRIMITIVES = (str, int, float, bool, type(None))
_printed: dict[int, tuple[Any, str]] = {}
MAX_DOCUMENTS = 256  # parsed or printed documents kept, per process


def _document_text(info: Info) -> str:
    """The operation and its fragments as text, printed once per parsed document."""
    operation = info.operation
    entry = _printed.get(id(operation))
    if entry is not None and entry[0] is operation:
        return entry[1]
    fragments = info._raw_info.fragments  # noqa: SLF001 - see the module's docstring
    parts = [print_ast(operation)] + [print_ast(fragments[name]) for name in sorted(fragments)]
    text = "\n".join(parts)
    if len(_printed) > MAX_DOCUMENTS:
        _printed.clear()
    _printed[id(operation)] = (operation, text)
    return text


def watcher_shape(info: Info) -> Shape | None:
    """What this watcher asks for: the document, its variables, the audience (scopes and facilities:
    all a resolver may check, as app.schema.shared_events has it). None when the variables are not
    plain JSON values: such a watcher's changes are built where it is watched."""
    principal = info.context._principal  # noqa: SLF001 - the context's principal is set by the view
    if principal is None:
        return None
    variables = dict(info.variable_values or {})
    if not all(isinstance(value, _PRIMITIVES) for value in variables.values()):
        return None
    operation = info.operation
    return Shape.of(
        {
            "query": _document_text(info),
            "operationName": operation.name.value if operation.name else None,
            "variables": variables,
            "scopes": sorted(principal.scopes),
            "facilities": list(principal.facilities),
        }
    )


def primed_loaders(services: Services, envelope: SessionEnvelope) -> Loaders:
    """Loaders of one change for one audience, primed with what the hub already read. Each audience
    executes with loaders of its own: one audience's failed execution cancels only its own loads."""
    loaders = Loaders(services.sessionmaker)
    prime_session_update(loaders, envelope)
    return loaders


class SchemaRenderer:
    """Executes a built session change for one shape, as the watcher's own process would, and encodes
    its data: the text is None when the execution had errors (errors are formatted per caller where
    the watcher is). Implements app.live.cluster.Renderer."""

    def __init__(self, schema: strawberry.Schema, services: Services) -> None:
        self._schema = schema
        self._services = services
        self._documents: dict[str, DocumentNode] = {}

    async def render(self, change: SessionEnvelope, spec: dict[str, Any]) -> str | None:
        principal = Principal(
            subject="live-update", scopes=frozenset(spec["scopes"]), facilities=tuple(spec["facilities"])
        )
        context = Context(services=self._services, request=None, response=None, _principal=principal)
        context.loaders = primed_loaders(self._services, change)
        result = execute(
            self._schema._schema,  # noqa: SLF001 - see the module's docstring
            self._document(spec["query"]),
            root_value=change,
            context_value=context,
            variable_values=spec["variables"],
            operation_name=spec["operationName"],
            executor_class=self._schema.execution_context_class,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        if result.errors or not isinstance(result.data, dict):
            return None
        return json.dumps(result.data, separators=(",", ":"))

    def _document(self, text: str) -> DocumentNode:
        document = self._documents.get(text)
        if document is None:
            if len(self._documents) > MAX_DOCUMENTS:
                self._documents.clear()
            document = self._documents[text] = parse(text)
        return document
