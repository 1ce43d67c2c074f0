"""The GraphQL endpoint over HTTP and websocket: auth, content negotiation and HTTP statuses (the
GraphQL-over-HTTP spec), persisted queries, subscriptions over HTTP streams, request ids, GraphiQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing, suppress
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode, parse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from app.auth import Principal, principal_from_header
from app.errors import CONFLICT_CODES, BadInput, ErrorCode, Unauthenticated
from app.graphiql import graphiql_page
from app.idempotency import IdempotencyKeys, idempotency_key, read_body, replaying, run_idempotently
from app.live.publish import display_channel
from app.negotiation import GRAPHQL_RESPONSE_JSON, JSON, content_type, response_media_type
from app.operations.displays import live_display
from app.persisted_queries import (
    NOT_FOUND_CODE,
    NOT_FOUND_MESSAGE,
    PersistedQueries,
    PersistedQueryNotFound,
    with_document,
)
from app.schema.context import Context
from app.schema.errors import BUSY_MESSAGE, RETRY_AFTER_SECONDS, busy_extensions, error_code
from app.schema.root import MAX_TOKENS
from app.services import Services

MAX_BODY_BYTES = 256 * 1024
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Errors of the request as a whole (no field ran): the document, its variables, the parameters.
REQUEST_ERROR_CODES = frozenset({ErrorCode.BAD_USER_INPUT.value, ErrorCode.QUERY_TOO_COMPLEX.value, NOT_FOUND_CODE})
STREAM_NEEDED = (
    'A subscription over HTTP needs Accept: multipart/mixed;subscriptionSpec="1.0" (multipart subscriptions) '
    "or Accept: text/event-stream (graphql-sse); or use the websocket (graphql-transport-ws) at this address"
)
TOKEN_EXPIRED = "Token expired"
# A room display's socket: revoked (the page shows a new pairing code), or its credential replaced.
DISPLAY_REVOKED_CODE = 4403
DISPLAY_REVOKED = "Display revoked"
CREDENTIAL_REPLACED = "Display credential replaced"

log = logging.getLogger(__name__)


class MessageTooLarge(Exception):
    """A websocket message over MAX_BODY_BYTES (the server in front may allow more)."""


def _over_the_limit(data: str | bytes) -> bool:
    if len(data) <= MAX_BODY_BYTES // 4:
        return False  # a UTF-8 character is at most 4 bytes
    return len(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES


def error_body(code: str, message: str) -> dict:
    """A request error: no `data` entry, as the GraphQL spec has it for errors before execution."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def error_response(
    status: int, code: str, message: str, media_type: str = JSON, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message), status_code=status, headers=headers, media_type=content_type(media_type)
    )


def request_error_response(media_type: str, code: str, message: str) -> JSONResponse:
    """A GraphQL request error on a well-formed request: 400 for a client that accepts the GraphQL
    response media type, 200 with the error in the body for an application/json client."""
    status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
    return error_response(status, code, message, media_type)


class EncodedPayloads:
    """`next` payloads encoded once per result data, for every socket that sends the same data.

    A live change is executed once per audience (app.schema.shared_events): its watchers get
    ExecutionResults that share one `data` dict. Each payload is encoded once, keyed by that dict's
    identity; the cache holds the dict itself, so an id cannot be reused while its entry lives, and
    keeps the last `size` of them."""

    def __init__(self, encode: Callable[[object], str | bytes], size: int = 256) -> None:
        self._encode = encode
        self._size = size
        self._entries: dict[int, tuple[object, str]] = {}
        self.encoded = 0  # payloads encoded (bench metrics: one per audience per change)

    def payload(self, data: dict, extensions: dict | None) -> str:
        """The payload {"data": ..., "extensions": ...}: the data encoded once, the (small, per
        operation) extensions each time."""
        entry = self._entries.get(id(data))
        text = getattr(data, "text", None)  # published encoded by the process that built it
        if isinstance(text, str):
            pass
        elif entry is not None and entry[0] is data:
            text = entry[1]
        else:
            text = self._text(data)
            self.encoded += 1
            if len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]  # the oldest (dicts keep insertion order)
            self._entries[id(data)] = (data, text)
        if extensions:
            return '{"data":' + text + ',"extensions":' + self._text(extensions) + "}"
        return '{"data":' + text + "}"

    def _text(self, value: object) -> str:
        text = self._encode(value)
        return text.decode() if isinstance(text, bytes) else text


class AuthenticatingTransportWsHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws with the bearer token checked in connection_init (close 4401 when bad),
    the socket closed with 4401 when that token expires, and every operation on the socket run with
    that token's scopes and facilities, refused once it has expired."""

    expiry: asyncio.Task | None = None
    display_watch: asyncio.Task | None = None

    async def handle(self) -> None:
        try:
            await super().handle()
        except MessageTooLarge:
            await self.websocket.close(code=4400, reason=f"Message over {MAX_BODY_BYTES} bytes")

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload") or {}
        header = None
        if isinstance(payload, dict):
            header = payload.get("Authorization") or payload.get("authorization")
        try:
            principal = principal_from_header(self.view.settings.jwt_secret, header)
        except Unauthenticated:
            await self.websocket.close(code=4401, reason="Unauthorized")
            return
        if principal.is_display and not await self._display_is_live(principal):
            await self.websocket.close(code=DISPLAY_REVOKED_CODE, reason=DISPLAY_REVOKED)
            return
        self.context._principal = principal  # noqa: SLF001 - the context's principal is set here
        await super().handle_connection_init(message)
        if self.connection_acknowledged and principal.expires_at is not None:
            self.expiry = asyncio.create_task(self._close_at(principal.expires_at))
        if self.connection_acknowledged and principal.is_display:
            self.display_watch = asyncio.create_task(self._close_when_display_changes(principal))

    async def _display_is_live(self, principal: Principal) -> bool:
        try:
            async with self.view.services.sessionmaker() as db:
                await live_display(db, principal)
        except Unauthenticated:
            return False
        return True

    async def _close_when_display_changes(self, principal: Principal) -> None:
        """A display's socket closes as soon as the display is revoked (4403: the page asks for a new
        pairing code) or its credential is replaced (4401: the page connects with the new one)."""
        services = self.view.services
        async with services.hub.watch(display_channel(uuid.UUID(principal.display_id))) as changes:
            if not await self._display_is_live(principal):  # revoked between connection_init and the watch
                await self._close(DISPLAY_REVOKED_CODE, DISPLAY_REVOKED)
                return
            async for change in changes:
                if change.paused:
                    continue
                if change.revoked:
                    await self._close(DISPLAY_REVOKED_CODE, DISPLAY_REVOKED)
                    return
                if change.credential_generation != principal.credential_generation:
                    await self._close(4401, CREDENTIAL_REPLACED)
                    return

    async def handle_subscribe(self, message: Any) -> None:
        """Once the token has expired an operation closes the socket (4401), even if the timer has not
        run yet. Past the per-socket limit, strawberry's refusal carries no code; this one does."""
        principal: Principal | None = self.context._principal  # noqa: SLF001 - the context's principal is set here
        if principal is not None and principal.expired():
            await self._close_expired()
            return
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit:
            error = {
                "message": f"At most {limit} operations at once on one connection",
                "extensions": {"code": ErrorCode.QUERY_TOO_COMPLEX.value},
            }
            await self.send_message({"id": message["id"], "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Any) -> None:
        """Each operation gets a context of its own (fresh loaders, its own transaction); the socket's
        context keeps only the caller.

        An operation that ends by a cancellation nobody asked for (the client did not complete it,
        the socket is open) was left registered by strawberry: silent, and its id refused with 4409
        from then on. It is logged, the client gets an INTERNAL error for it, and the id is free again."""
        try:
            await self._run_operation(operation)
        except asyncio.CancelledError:
            if self.operations.get(operation.id) is not operation:
                raise  # completed by the client, or the socket is closing
            log.error("live operation ended by an unexpected cancellation operation_id=%s", operation.id[:64])
            error = {"message": "Internal server error", "extensions": {"code": ErrorCode.INTERNAL.value}}
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "error", "payload": [error]})
            self.operations.pop(operation.id, None)
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise

    async def _run_operation(self, operation: Any) -> None:
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context.for_operation(),
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:  # pragma: no cover - strawberry's own handling
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        """strawberry's loop over an operation's results, sending each `next` as one frame whose
        data is encoded once for all the sockets that send the same data: only the operation id (and
        the operation's small extensions) are spliced in per frame. A result with errors (formatted
        per caller) goes strawberry's way."""
        is_first_result = True
        async for result in result_source:
            if is_first_result and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            is_first_result = False
            if result.errors or not isinstance(result.data, dict):
                await operation.send_next(result)
                continue
            if operation.completed:
                continue
            payload = self.view.payloads.payload(result.data, result.extensions)
            frame = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":' + payload + "}"
            try:
                await self.websocket.ws.send_text(frame)
            except WebSocketDisconnect as exc:
                raise WebSocketDisconnected from exc

    async def shutdown(self) -> None:
        for task in (self.expiry, self.display_watch):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
        await super().shutdown()

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self._close_expired()

    async def _close_expired(self) -> None:
        await self._close(4401, TOKEN_EXPIRED)

    async def _close(self, code: int, reason: str) -> None:
        """Stop the operations first, so that none sends on the socket once it is closing."""
        tasks = [operation.task for operation in self.operations.values() if operation.task]
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        for task in tasks:
            with suppress(Exception, asyncio.CancelledError):
                await task
        await self.websocket.close(code=code, reason=reason)


class GraphQLView(GraphQL):
    graphql_transport_ws_handler_class = AuthenticatingTransportWsHandler

    def __init__(self, schema: Any, services: Services | None, settings: Any = None) -> None:
        settings = settings or services.settings
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
        self.persisted_queries = PersistedQueries()
        self.payloads = EncodedPayloads(self.encode_json)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.should_render_graphql_ide(Request(scope)):
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        state = scope.setdefault("state", {})
        media_type = state["media_type"] = response_media_type(request.headers.get("accept"))
        state["request_id"] = _request_id(request.headers.get("x-request-id"))
        send = _answering(send, media_type, state["request_id"])
        refusal = self._refuse(request, media_type)
        if refusal is None:
            scope, receive, refusal = await self._with_persisted_document(scope, receive, media_type)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        key = idempotency_key(scope)
        if key is not None:
            await self._idempotent(key, scope, receive, send)
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
            return _too_large(media_type)
        return None

    async def _with_persisted_document(
        self, scope: Scope, receive: Receive, media_type: str
    ) -> tuple[Scope, Receive, Response | None]:
        """The request with the document its persisted-query hash stands for, before anything else
        (idempotency keys included) reads it; or the refusal."""
        try:
            if scope["method"] == "POST":
                # Read under the limit here: a chunked body carries no Content-Length to refuse early.
                body = await read_body(receive, MAX_BODY_BYTES)
                if body is None:
                    return scope, receive, _too_large(media_type)
                return scope, replaying(self._expand_body(body), receive), None
            return {**scope, "query_string": self._expand_query_string(scope.get("query_string", b""))}, receive, None
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
        if _over_the_limit(data):
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
        """Only a subscription streams over multipart. A query or mutation sent with that Accept
        (gql-cli sends it for every operation) gets one JSON answer, as the protocol allows."""
        if getattr(request_data, "protocol", None) == MULTIPART_SUBSCRIPTION_PROTOCOL and not _names_a_subscription(
            request_data
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

    async def create_streaming_response(
        self,
        request: Any,
        stream: Callable[[], AsyncGenerator[str, None]],
        sub_response: Any,
        headers: Mapping[str, str],
    ) -> Response:
        """A subscription over multipart or SSE ends, like a websocket, when its token expires."""
        principal: Principal = request.scope["state"]["principal"]
        transport = self._get_stream_transport_from_headers(request.headers)
        if transport is not None and principal.expires_at is not None:
            stream = _until_expiry(stream, principal.expires_at, _expired_message(transport, self.encode_json_string))
        return await super().create_streaming_response(request, stream, sub_response, headers)

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.get("state") or {}
        context = Context(
            services=self.services,
            request=request,
            response=response,
            _principal=state.get("principal"),
        )
        context.request_id = state.get("request_id") or _request_id(None)
        state["context"] = context
        return context

    async def process_result(self, request: Request, result: Any) -> dict:
        response = await super().process_result(request, result)
        state = request.scope.get("state") or {}
        context: Context | None = state.get("context")
        if result.errors and _is_request_error(result):
            response.pop("data", None)
        if context is not None and result.errors:
            status = _status_for(result, state.get("media_type", JSON), getattr(context, "operation_type", None))
            if status is not None:
                context.response.status_code = status
            if status == 503:
                context.response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def _expand_body(self, body: bytes) -> bytes:
        """A POST body whose persisted-query hash stands for its document gets the document back."""
        if b"persistedQuery" not in body:
            return body
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):
            return body  # not JSON: strawberry refuses it
        if not isinstance(request, dict):
            return body
        expanded = with_document(self.persisted_queries, request)
        return body if expanded is request else json.dumps(expanded).encode()

    def _expand_query_string(self, query_string: bytes) -> bytes:
        """The same for a GET, whose parameters are in the query string."""
        if b"persistedQuery" not in query_string:
            return query_string
        params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        try:
            extensions = json.loads(params.get("extensions") or "null")
        except (ValueError, RecursionError):
            return query_string
        request = {"query": params.get("query"), "extensions": extensions}
        expanded = with_document(self.persisted_queries, request)
        if expanded is request:
            return query_string
        return urlencode({**params, "query": expanded["query"]}).encode()

    async def _idempotent(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        keys = self.services.idempotency_keys
        if keys is None:
            keys = self.services.idempotency_keys = IdempotencyKeys(self.services)
        principal = scope["state"]["principal"]
        answered = False

        async def sending(message: dict) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await run_idempotently(
                keys, principal, key, scope, receive, sending, super().__call__, max_body=MAX_BODY_BYTES
            )
        except PoolTimeout:
            if answered:  # recording the response failed after it was sent; a retry waits, then CONFLICT
                log.warning("recording an idempotent response failed: no database connection was free")
                return
            media_type = scope["state"].get("media_type", JSON)
            busy = JSONResponse(
                {"errors": [{"message": BUSY_MESSAGE, "extensions": busy_extensions()}]},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                media_type=content_type(media_type),
            )
            await busy(scope, receive, send)


def _names_a_subscription(request_data: Any) -> bool:
    """Whether the request runs a subscription; a document that does not parse or names no single
    operation is not one (the JSON path reports why)."""
    if not isinstance(request_data.query, str):
        return False
    try:
        document = parse(request_data.query, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if request_data.operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == request_data.operation_name]
    return len(operations) == 1 and operations[0].operation.value == "subscription"


def _too_large(media_type: str) -> Response:
    return error_response(413, ErrorCode.BAD_USER_INPUT.value, f"Request body over {MAX_BODY_BYTES} bytes", media_type)


def _is_request_error(result: Any) -> bool:
    """No field ran: the document did not parse or validate, its variables did not coerce, or a
    request parameter was wrong (the GraphQL spec's request errors)."""
    return (
        result.data is None
        and all(e.path is None for e in result.errors)
        and {error_code(e) for e in result.errors} <= REQUEST_ERROR_CODES
    )


def _status_for(result: Any, media_type: str, operation_type: str | None) -> int | None:
    """Non-2xx only for a client that accepts the GraphQL response media type, and only when there
    is no data: 400 for a request error, 409 for a mutation refused by a conflict code. Busy (no
    free database connection: nothing was done, send it again after Retry-After) is 503 for every
    client, as a server condition rather than the result of the operation."""
    if any((e.extensions or {}).get("retryable") for e in result.errors):
        return 503
    if media_type != GRAPHQL_RESPONSE_JSON or result.data is not None:
        return None
    if _is_request_error(result):
        return 400
    codes = {error_code(e) for e in result.errors}
    if operation_type == "mutation" and codes & {c.value for c in CONFLICT_CODES}:
        return 409
    return None


def _request_id(given: str | None) -> str:
    """The caller's X-Request-Id when it is a plain token, so logs can be joined; else a new one."""
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex[:16]


def _answering(send: Send, media_type: str, request_id: str) -> Send:
    """Every answer of the endpoint names its request id, is never cached (it carries patient data),
    and a JSON answer is labelled with the negotiated media type."""

    async def answer(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers[REQUEST_ID_HEADER] = request_id
            if "cache-control" not in headers:
                headers["Cache-Control"] = "no-store"
            if media_type == GRAPHQL_RESPONSE_JSON and headers.get("content-type", "").startswith(JSON):
                headers["Content-Type"] = content_type(GRAPHQL_RESPONSE_JSON)
        await send(message)

    return answer


def _expired_message(transport: HTTPStreamTransport, encode_json: Callable[[object], str]) -> str:
    error = {"message": TOKEN_EXPIRED, "extensions": {"code": ErrorCode.UNAUTHENTICATED.value}}
    if isinstance(transport, MultipartSubscriptionTransport):
        # The multipart protocol's fatal error: top-level errors, no payload; then the stream ends.
        final = transport.encode_multipart_data({"payload": None, "errors": [error]}, encode_json)
    else:
        final = transport.encode_next({"errors": [error]}, encode_json)
    return final + transport.encode_complete()


def _until_expiry(
    stream: Callable[[], AsyncGenerator[str, None]], expires_at: float, final: str
) -> Callable[[], AsyncGenerator[str, None]]:
    async def until_expiry() -> AsyncGenerator[str, None]:
        chunks = stream()
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(chunks), max(0.0, expires_at - time.time()))
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    yield final
                    return
                yield chunk
        finally:
            await chunks.aclose()

    return until_expiry
