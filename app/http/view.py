"""The GraphQL endpoint over HTTP: auth, content negotiation and statuses (the GraphQL-over-HTTP
spec), persisted queries, Idempotency-Key, subscriptions over HTTP streams, request ids, GraphiQL.

Strawberry's `GraphQL` view with its hooks overridden; the websocket is app.http.websocket."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from app.auth import Principal, principal_from_header
from app.db.queries.read_versions import read_versions
from app.errors import BadInput, ErrorCode, Unauthenticated
from app.http.bodies import MAX_BODY_BYTES, MessageTooLarge, over_the_limit, read_body, replaying
from app.http.encoding import EncodedPayloads
from app.http.expiry import expired_message, until_expiry
from app.http.graphiql import graphiql_page
from app.http.headers import answering, request_id
from app.http.idempotency import IdempotencyKeys, answer_idempotently, idempotency_key, may_send_mutations
from app.http.negotiation import JSON, response_media_type
from app.http.persisted_queries import (
    NOT_FOUND_CODE,
    NOT_FOUND_MESSAGE,
    PersistedQueries,
    PersistedQueryNotFound,
    caller_of,
    expand_body,
    expand_query_string,
)
from app.http.read_cache import CachedBody, Entry, Fill, FillingBody, ReadCache
from app.http.statuses import (
    error_response,
    is_request_error,
    request_error_response,
    status_for,
    too_large,
)
from app.http.strawberry_internals import stream_transport
from app.http.streams import STREAM_TRANSPORTS, streams
from app.http.websocket import AuthenticatingTransportWsHandler
from app.operations.work import Services
from app.schema.context import Context
from app.schema.errors import RETRY_AFTER_SECONDS
from app.schema.parsing import ParsedDocuments
from app.schema.root import Schema

STREAM_NEEDED = (
    'A subscription over HTTP needs Accept: multipart/mixed;subscriptionSpec="1.0" (multipart subscriptions) '
    "or Accept: text/event-stream (graphql-sse); or use the websocket (graphql-transport-ws) at this address"
)


class GraphQLView(GraphQL):
    graphql_transport_ws_handler_class = AuthenticatingTransportWsHandler
    stream_transport_classes_by_protocol = STREAM_TRANSPORTS

    def __init__(self, schema: Schema, services: Services) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.dev else None,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
            ),
            allowed_origins=settings.allowed_origins,
        )
        self.services = services
        self.settings = settings
        self.persisted_queries = PersistedQueries(settings.persisted_query_bytes)
        self.payloads = EncodedPayloads(self.encode_json)
        self.idempotency_keys = IdempotencyKeys(
            services.sessionmaker, services.clock, settings.jwt_secret, schema.documents
        )
        self.read_cache = (
            ReadCache(max_document_characters=settings.parse_off_loop_characters, max_tokens=settings.document_tokens)
            if settings.read_cache
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An HTTP request passes, in order: negotiation and its request id, the token and the body's
        declared size, the persisted-query document, the Idempotency-Key; then Strawberry."""
        if scope["type"] != "http" or self.should_render_graphql_ide(Request(scope)):
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        state = scope.setdefault("state", {})
        media_type = state["media_type"] = response_media_type(request.headers.get("accept"))
        state["request_id"] = request_id(request.headers.get("x-request-id"))
        send = answering(send, media_type, state["request_id"])
        refusal = self._refuse(request, media_type)
        if refusal is None:
            scope, receive, refusal = await self._with_persisted_document(scope, receive, media_type)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        key = idempotency_key(scope)
        if key is not None and may_send_mutations(scope["state"]["principal"]):
            await answer_idempotently(
                self.idempotency_keys, key, scope, receive, send, super().__call__, max_body=MAX_BODY_BYTES
            )
            return
        await super().__call__(scope, receive, send)

    def _refuse(self, request: Request, media_type: str) -> Response | None:
        """401 without a valid token (the principal is kept for the request otherwise), 413 for a
        body declared over the limit."""
        try:
            principal = principal_from_header(self.settings.jwt_secret, request.headers.get("authorization"))
        except Unauthenticated as error:
            return error_response(
                401, ErrorCode.UNAUTHENTICATED.value, error.message, media_type, {"WWW-Authenticate": "Bearer"}
            )
        request.scope["state"]["principal"] = principal
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return too_large(media_type)
        return None

    async def _with_persisted_document(
        self, scope: Scope, receive: Receive, media_type: str
    ) -> tuple[Scope, Receive, Response | None]:
        """The request with the document its persisted-query hash stands for, before anything else
        (idempotency keys included) reads it; or the refusal."""
        caller = caller_of(scope["state"]["principal"])
        try:
            if scope["method"] == "POST":
                # Read under the limit here: a chunked body carries no Content-Length to refuse early.
                body = await read_body(receive, MAX_BODY_BYTES)
                if body is None:
                    return scope, receive, too_large(media_type)
                return scope, replaying(expand_body(self.persisted_queries, body, caller), receive), None
            query_string = expand_query_string(self.persisted_queries, scope.get("query_string", b""), caller)
            return {**scope, "query_string": query_string}, receive, None
        except PersistedQueryNotFound:
            return scope, receive, request_error_response(media_type, NOT_FOUND_CODE, NOT_FOUND_MESSAGE)
        except BadInput as error:
            return scope, receive, request_error_response(media_type, ErrorCode.BAD_USER_INPUT.value, error.message)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """The page for a browser's navigation only: a GET that asks for HTML and carries no operation
        (strawberry also serves it for */*, which curl and fetch send with a persisted-query GET)."""
        params = request.query_params
        return (
            request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
            and params.get("query") is None
            and params.get("extensions") is None
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_page())

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Requests strawberry refuses before GraphQL (bad JSON, batches, content types) answer in
        the GraphQL error shape with BAD_USER_INPUT, not as plain text."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            media_type = (request.scope.get("state") or {}).get("media_type", JSON)
            headers = {"Allow": "POST"} if error.status_code == 405 else None
            return error_response(error.status_code, ErrorCode.BAD_USER_INPUT.value, error.reason, media_type, headers)

    def decode_json(self, data: str | bytes) -> object:
        """A body or `variables` parameter: a JSON object (or a list, which strawberry refuses as a batch).
        Nesting past the interpreter's recursion limit is malformed input, not a server fault.
        A websocket message is capped like a request body (HTTP bodies were refused before this)."""
        if over_the_limit(data):
            raise MessageTooLarge
        try:
            value = json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from None
        if not isinstance(value, (dict, list)):
            raise json.JSONDecodeError("Expected a JSON object", "", 0)
        return value

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if not isinstance(data, list) and not isinstance(data.operation_name, (str, type(None))):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null, if provided.")
        return data

    async def execute_operation(  # noqa: PLR0917 - strawberry's signature
        self, request: Any, request_adapter: Any, request_data: Any, context: Any, root_value: Any, sub_response: Any
    ) -> Any:
        """A subscription streams; a query or mutation gets one JSON answer unless the client takes
        nothing but an event stream (app.http.streams)."""
        protocol = getattr(request_data, "protocol", "http")
        if protocol != "http" and not streams(
            protocol, request.headers.get("accept"), await _names_a_subscription(self.schema.documents, request_data)
        ):
            request_data.protocol = "http"
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def execute_single(  # noqa: PLR0917 - strawberry's signature
        self, request: Any, request_adapter: Any, sub_response: Any, context: Any, root_value: Any, request_data: Any
    ) -> ExecutionResult:
        """A request answered with one JSON document: queries, and mutations over POST (GET for a
        mutation is 405). A subscription needs a streaming Accept; without one it is refused here
        instead of failing inside execution."""
        allowed = (
            {OperationType.QUERY} if request_adapter.method == "GET" else {OperationType.QUERY, OperationType.MUTATION}
        )
        if self.read_cache is not None and isinstance(context, Context) and OperationType.QUERY in allowed:
            cached = await self._cached_answer(request_adapter, context, request_data)
            if cached is not None:
                return cached
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type == OperationType.SUBSCRIPTION:
                raise HTTPException(406, STREAM_NEEDED) from error
            raise HTTPException(405, error.as_http_error_reason(request_adapter.method)) from error
        except CannotGetOperationTypeError as error:
            failure = GraphQLError(error.as_http_error_reason(), extensions={"code": ErrorCode.BAD_USER_INPUT.value})
            return ExecutionResult(data=None, errors=[failure])
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    async def _cached_answer(self, request_adapter: Any, context: Context, request_data: Any) -> ExecutionResult | None:
        """The kept answer of a repeated read when nothing it shows has changed (app/http/read_cache.py);
        otherwise None, with the versions read first noted on the context for the answer to be kept."""
        state = context.request.scope.get("state") or {}
        key = self.read_cache.key(
            state.get("principal"),
            request_data.query,
            request_data.operation_name,
            request_data.variables,
            media_type=state.get("media_type", JSON),
            host=context.request.headers.get("host", ""),
        )
        if key is None:
            return None
        if not self.read_cache.answered_before(key):
            context.read_fill = key  # noted as answered once it succeeds (process_result)
            return None
        principal = context.principal
        facilities = None if principal.all_facilities else principal.facility_uuids
        try:
            # The request's first statement, on its read session: the page's statements come after it.
            versions = await context.loaders.run(lambda db: read_versions(db, facilities))
        except Exception:  # noqa: BLE001 - the operation runs as usual and reports what is wrong
            await context.loaders.close()
            return None
        now = self.services.clock.now()
        entry = self.read_cache.get(key, versions, now)
        if entry is None:
            context.read_fill = Fill(key, versions, now)
            return None
        await context.loaders.close()
        cached = CachedResult(data=None, errors=None)
        cached.body = entry.body
        return cached

    async def create_streaming_response(
        self,
        request: Any,
        stream: Callable[[], AsyncGenerator[str, None]],
        sub_response: Any,
        headers: Mapping[str, str],
    ) -> Response:
        """A subscription over multipart or SSE ends, like a websocket, when its token expires."""
        principal: Principal = request.scope["state"]["principal"]
        transport = stream_transport(self, request.headers)
        if transport is not None and principal.expires_at is not None:
            stream = until_expiry(stream, principal.expires_at, expired_message(transport, self.encode_json_string))
        return await super().create_streaming_response(request, stream, sub_response, headers)

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.get("state") or {}
        context = Context(
            services=self.services,
            request=request,
            response=response,
            _principal=state.get("principal"),
        )
        context.request_id = state.get("request_id") or request_id(None)
        state["context"] = context
        return context

    async def process_result(self, request: Request, result: Any) -> dict:
        """A request error's answer has no `data`; a failed result's status follows app.http.statuses.
        A kept answer is sent as it was encoded; a complete answer to a read the cache may keep is
        marked to be kept once encoded (create_response)."""
        if isinstance(result, CachedResult):
            return CachedBody(result.body)
        response = await super().process_result(request, result)
        state = request.scope.get("state") or {}
        context: Context | None = state.get("context")
        fill = getattr(context, "read_fill", None)
        if isinstance(fill, tuple) and not result.errors and result.data is not None:
            self.read_cache.answered(fill)
            fill = None
        if (
            isinstance(fill, Fill)
            and not result.errors
            and result.data is not None
            and not context.read_time_unbounded
            and not context.read_not_cacheable
        ):
            marked = FillingBody(response)
            # Good from the page's own moment (the clock is read after the versions).
            moment = context.now_until(lambda _: None)
            marked.fill, marked.until = Fill(fill.key, fill.versions, max(fill.since, moment)), context.read_until
            return marked
        if result.errors and is_request_error(result):
            response.pop("data", None)
        if context is not None and result.errors:
            status = status_for(result, state.get("media_type", JSON), getattr(context, "operation_type", None))
            if status is not None:
                context.response.status_code = status
            if status == 503:
                context.response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def create_response(self, response_data: Any, sub_response: Any) -> Response:
        if isinstance(response_data, CachedBody):
            body = response_data.body
        else:
            body = self.encode_json(response_data)
            if isinstance(response_data, FillingBody) and self.read_cache is not None:
                fill = response_data.fill
                self.read_cache.put(fill.key, Entry(fill.versions, fill.since, response_data.until, body))
        response = Response(body, status_code=200, media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response


class CachedResult(ExecutionResult):
    """A read answered from the read cache: its encoded bytes (`body`), with nothing executed."""

    body: Any = None


async def _names_a_subscription(documents: ParsedDocuments, request_data: Any) -> bool:
    """Whether the request runs a subscription; a document that does not parse or names no single
    operation is not one (the JSON path reports why). Parsed within the schema's budgets (the token
    limit, a worker thread for a long one) and kept for its execution."""
    if not isinstance(request_data.query, str):
        return False
    try:
        document = await documents.parse(request_data.query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if request_data.operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == request_data.operation_name]
    return len(operations) == 1 and operations[0].operation.value == "subscription"
