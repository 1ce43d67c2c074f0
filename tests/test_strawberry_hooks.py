"""The Strawberry (and graphql-core) methods our classes override, and the private ones the edge calls
(app/http/strawberry_internals.py), keep the signatures they were written against; the private
attributes the live renderer (app/schema/live/cluster.py) and the operation name check
(app/schema/operation_name.py) read are still there. An upgrade that
changes one fails here, naming it, instead of failing a client; after reading the new code, record
the new signature below."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pytest
from graphql import GraphQLSchema
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.subscriptions.protocols.graphql_transport_ws import handlers as transport_ws
from strawberry.types import Info

import app
from app.schema.root import schema

FRAMEWORKS = ("strawberry", "graphql")

# Base class method -> the signature our override was written against.
OVERRIDDEN = {
    "graphql.execution.executor.Executor.execute_field": (
        "(self, parent_type: 'GraphQLObjectType', source: 'Any', field_details_list: 'FieldDetailsList', "
        "path: 'Path', position_context: 'TContext | None') -> 'AwaitableOrValue[Any] | UndefinedType'"
    ),
    "graphql.execution.executor.Executor.execute_fields_serially": (
        "(self, parent_type: 'GraphQLObjectType', source_value: 'Any', path: 'Path | None', "
        "grouped_field_set: 'GroupedFieldSet', position_context: 'TContext | None') -> 'AwaitableOrValue[dict[str, Any]]'"
    ),
    "graphql.execution.executor.Executor.execute_operation": (
        "(self, serially: 'bool | None' = None) "
        "-> 'AwaitableOrValue[ExecutionResult | ExperimentalIncrementalExecutionResults]'"
    ),
    "graphql.language.visitor.Visitor.__init__": "(self) -> 'None'",
    "strawberry.asgi.GraphQL.__call__": "(self, scope: 'Scope', receive: 'Receive', send: 'Send') -> 'None'",
    "strawberry.asgi.GraphQL.__init__": (
        "(self, schema: 'BaseSchema', graphql_ide: 'GraphQL_IDE | None' = 'graphiql', "
        "allow_queries_via_get: 'bool' = True, keep_alive: 'bool' = False, keep_alive_interval: 'float' = 1, "
        "subscription_protocols: 'Sequence[str]' = ('graphql-transport-ws', 'graphql-ws'), "
        "connection_init_wait_timeout: 'timedelta' = datetime.timedelta(seconds=60), "
        "multipart_uploads_enabled: 'bool' = False, max_subscriptions_per_connection: 'int | None' = 100, "
        "allowed_origins: 'Sequence[str]' = ()) -> 'None'"
    ),
    "strawberry.asgi.GraphQL.create_streaming_response": (
        "(self, request: 'Request | WebSocket', stream: 'Callable[[], AsyncIterator[str]]', "
        "sub_response: 'Response', headers: 'Mapping[str, str]') -> 'Response'"
    ),
    "strawberry.asgi.GraphQL.get_context": (
        "(self, request: 'Request | WebSocket', response: 'Response | WebSocket') -> 'Context'"
    ),
    "strawberry.asgi.GraphQL.render_graphql_ide": "(self, request: 'Request') -> 'Response'",
    "strawberry.dataloader.DataLoader.load": "(self, key: 'K') -> 'Awaitable[T]'",
    "strawberry.dataloader.DataLoader.load_many": "(self, keys: 'Iterable[K]') -> 'Awaitable[list[T]]'",
    "strawberry.extensions.add_validation_rules.AddValidationRules.__init__": (
        "(self, validation_rules: 'list[type[ASTValidationRule]]') -> 'None'"
    ),
    "strawberry.extensions.base_extension.SchemaExtension.__init__": (
        "(self, *, execution_context: 'ExecutionContext | None' = None) -> 'None'"
    ),
    "strawberry.extensions.base_extension.SchemaExtension.get_results": (
        "(self) -> 'AwaitableOrValue[dict[str, Any]]'"
    ),
    "strawberry.extensions.base_extension.SchemaExtension.on_execute": "(self) -> 'AsyncIteratorOrIterator[None]'",
    "strawberry.extensions.base_extension.SchemaExtension.on_operation": "(self) -> 'AsyncIteratorOrIterator[None]'",
    "strawberry.extensions.base_extension.SchemaExtension.on_parse": "(self) -> 'AsyncIteratorOrIterator[None]'",
    "strawberry.extensions.base_extension.SchemaExtension.on_validate": "(self) -> 'AsyncIteratorOrIterator[None]'",
    "strawberry.extensions.validation_cache.ValidationCache.on_validate": "(self) -> collections.abc.Iterator[None]",
    "strawberry.http.async_base_view.AsyncBaseHTTPView.execute_operation": (
        "(self, request: -Request, request_adapter: cross_web.request._base.AsyncHTTPRequestAdapter, "
        "request_data: strawberry.http.GraphQLRequestData | list[strawberry.http.GraphQLRequestData], "
        "context: ~Context, root_value: Optional[~RootValue], sub_response: ~SubResponse) "
        "-> strawberry.types.execution.ExecutionResult | list[strawberry.types.execution.ExecutionResult] "
        "| strawberry.types.execution.SubscriptionExecutionResult"
    ),
    "strawberry.http.async_base_view.AsyncBaseHTTPView.execute_single": (
        "(self, request: -Request, request_adapter: cross_web.request._base.AsyncHTTPRequestAdapter, "
        "sub_response: ~SubResponse, context: ~Context, root_value: Optional[~RootValue], "
        "request_data: strawberry.http.GraphQLRequestData) -> strawberry.types.execution.ExecutionResult"
    ),
    "strawberry.http.async_base_view.AsyncBaseHTTPView.parse_http_body": (
        "(self, request: cross_web.request._base.AsyncHTTPRequestAdapter) "
        "-> strawberry.http.GraphQLRequestData | list[strawberry.http.GraphQLRequestData]"
    ),
    "strawberry.asgi.GraphQL.create_response": (
        "(self, response_data: 'GraphQLHTTPResponse | list[GraphQLHTTPResponse]', sub_response: 'Response') "
        "-> 'Response'"
    ),
    "strawberry.http.async_base_view.AsyncBaseHTTPView.process_result": (
        "(self, request: -Request, result: strawberry.types.execution.ExecutionResult) "
        "-> strawberry.http.GraphQLHTTPResponse"
    ),
    "strawberry.http.async_base_view.AsyncBaseHTTPView.run": (
        "(self, request: Union[-Request, ~WebSocketRequest], context: ~Context = UNSET, "
        "root_value: Optional[~RootValue] = UNSET) -> Union[~Response, ~WebSocketResponse]"
    ),
    "strawberry.http.base.BaseView.decode_json": "(self, data: str | bytes) -> object",
    "strawberry.http.base.BaseView.should_render_graphql_ide": (
        "(self, request: strawberry.http.base.BaseRequestProtocol) -> bool"
    ),
    "strawberry.http.streaming.SSETransport.encode_comment": "(self, comment: 'str') -> 'str'",
    "strawberry.http.streaming.SSETransport.encode_event": "(self, event: 'str', data: 'str | None' = None) -> 'str'",
    "strawberry.schema.base.BaseSchema.process_errors": (
        "(self, errors: 'list[GraphQLError]', execution_context: 'ExecutionContext | None' = None) -> 'None'"
    ),
    "strawberry.subscriptions.protocols.graphql_transport_ws.handlers.BaseGraphQLTransportWSHandler._send_result_stream": (
        "(self, operation: 'Operation[Context, RootValue]', result_source: 'StreamResult') -> 'None'"
    ),
    "strawberry.subscriptions.protocols.graphql_transport_ws.handlers.BaseGraphQLTransportWSHandler.handle": (
        "(self) -> 'None'"
    ),
    "strawberry.subscriptions.protocols.graphql_transport_ws.handlers.BaseGraphQLTransportWSHandler.handle_connection_init": (
        "(self, message: 'ConnectionInitMessage') -> 'None'"
    ),
    "strawberry.subscriptions.protocols.graphql_transport_ws.handlers.BaseGraphQLTransportWSHandler.handle_subscribe": (
        "(self, message: 'SubscribeMessage') -> 'None'"
    ),
    "strawberry.subscriptions.protocols.graphql_transport_ws.handlers.BaseGraphQLTransportWSHandler.run_operation": (
        "(self, operation: 'Operation[Context, RootValue]') -> 'None'"
    ),
    "strawberry.subscriptions.protocols.graphql_transport_ws.handlers.BaseGraphQLTransportWSHandler.shutdown": (
        "(self) -> 'None'"
    ),
}

# Private (or undocumented) Strawberry methods app/http/strawberry_internals.py calls.
CALLED = {
    (transport_ws.BaseGraphQLTransportWSHandler, "_handle_pre_execution_error"): (
        "(self, operation: 'Operation[Context, RootValue]', result: 'PreExecutionError') -> 'None'"
    ),
    (transport_ws.BaseGraphQLTransportWSHandler, "_reject_incremental_delivery"): (
        "(self, operation: 'Operation[Context, RootValue]') -> 'None'"
    ),
    (transport_ws.BaseGraphQLTransportWSHandler, "handle_task_exception"): "(self, error: 'Exception') -> 'None'",
    (transport_ws.BaseGraphQLTransportWSHandler, "cleanup_operation"): "(self, operation_id: 'str') -> 'None'",
    (AsyncBaseHTTPView, "_get_stream_transport_from_headers"): (
        "(self, headers: collections.abc.Mapping[str, str]) -> strawberry.http.streaming.HTTPStreamTransport | None"
    ),
    (ASGIWebSocketAdapter, "__init__"): (
        "(self, view: 'AsyncBaseHTTPView', request: 'WebSocket', response: 'WebSocket') -> 'None'"
    ),
}


def _our_classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(app.__path__, "app."):
        if ".migrations" in info.name or info.name == "app.cli_entry":
            continue
        module = importlib.import_module(info.name)
        found += [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == module.__name__]
    return found


def overrides() -> dict[str, str]:
    """Every framework method one of our classes defines again: base method -> its signature now."""
    found = {}
    for cls in _our_classes():
        bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] in FRAMEWORKS]
        for name, value in vars(cls).items():
            if not inspect.isfunction(value) or not value.__qualname__.startswith(cls.__qualname__ + "."):
                continue
            base = next((b for b in bases if name in vars(b)), None)
            if base is not None:
                found[f"{base.__module__}.{base.__qualname__}.{name}"] = str(inspect.signature(vars(base)[name]))
    return found


def test_every_framework_method_we_override_is_recorded_with_its_signature():
    assert overrides() == OVERRIDDEN


@pytest.mark.parametrize(("owner", "name"), sorted(CALLED, key=lambda key: key[1]))
def test_the_private_strawberry_methods_we_call_keep_their_signatures(owner, name):
    assert str(inspect.signature(getattr(owner, name))) == CALLED[(owner, name)]


def test_the_websocket_adapter_still_keeps_the_starlette_socket_as_ws():
    assert "self.ws = response" in inspect.getsource(ASGIWebSocketAdapter.__init__)
    assert isinstance(transport_ws._OperationStreamClosed, type)


def test_the_private_attributes_the_live_renderer_reads_are_still_there():
    assert isinstance(schema._schema, GraphQLSchema)
    assert "_raw_info" in {field.name for field in dataclasses.fields(Info)}


def test_the_name_the_request_gave_its_operation_is_still_kept_privately():
    """app/schema/operation_name.py reads ExecutionContext._provided_operation_name: whether the request
    named an operation (`operation_name` falls back to the document's only one)."""
    from strawberry.types.execution import ExecutionContext

    named = ExecutionContext(query="query A { a }", schema=schema, allowed_operations=(), provided_operation_name="A")
    unnamed = ExecutionContext(query="query A { a }", schema=schema, allowed_operations=())
    assert (named._provided_operation_name, unnamed._provided_operation_name) == ("A", None)


def test_what_the_plain_leaf_plan_reads_of_strawberry_is_still_there():
    """app/schema/plain_leaves.py plans from Strawberry's field and resolver objects, and replaces the
    chain Strawberry builds (argument conversion, field extensions, the source passed as `self`)."""
    from strawberry.schema.schema_converter import GraphQLCoreConverter, get_arguments
    from strawberry.types.field import StrawberryField
    from strawberry.types.fields.resolver import StrawberryResolver

    for name in ("self_parameter", "root_parameter", "parent_parameter", "info_parameter", "signature", "is_async"):
        assert hasattr(StrawberryResolver, name), name
    definition = schema._schema.type_map["GroupSession"].fields["id"].extensions["strawberry-definition"]
    assert isinstance(definition, StrawberryField)
    for name in ("base_resolver", "extensions", "arguments", "python_name", "default_resolver"):
        getattr(definition, name)
    assert callable(definition.base_resolver.wrapped_func)
    source = inspect.getsource(get_arguments)
    assert "args.append(source)" in source and "kwargs[info_parameter.name] = info" in source
    assert "_exception_handler_specs" in inspect.getsource(GraphQLCoreConverter)
    assert "self.config.info_class(" in inspect.getsource(GraphQLCoreConverter.from_resolver)
