"""The GraphQL endpoint over HTTP and websocket: auth, HTTP status codes, request ids."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from contextlib import aclosing, suppress
from typing import Any

from cross_web import HTTPException
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.types.unset import UNSET

from app.auth import principal_from_header
from app.errors import CONFLICT_CODES, ErrorCode, Unauthenticated
from app.idempotency import (
    IdempotencyKeys,
    idempotency_key,
    read_body,
    replaying,
    run_idempotently,
)
from app.schema.context import Context
from app.schema.errors import BUSY_MESSAGE, RETRY_AFTER_SECONDS, busy_extensions, error_code
from app.services import Services

MAX_BODY_BYTES = 256 * 1024

log = logging.getLogger(__name__)


class MessageTooLarge(Exception):
    """A websocket message over MAX_BODY_BYTES (the server in front may allow more)."""


def _over_the_limit(data: str | bytes) -> bool:
    if len(data) <= MAX_BODY_BYTES // 4:
        return False  # a UTF-8 character is at most 4 bytes
    return len(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES


def error_response(status: int, code: ErrorCode, message: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]},
        status_code=status,
    )


class AuthenticatingTransportWsHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws with the bearer token checked in connection_init (close 4401 when bad)."""

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
        self.context._principal = principal
        await super().handle_connection_init(message)

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

    async def handle_subscribe(self, message: Any) -> None:
        """strawberry refuses operations past the per-socket limit with an error that carries no code."""
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit:
            error = {"message": f"At most {limit} operations at once on one connection",
                     "extensions": {"code": ErrorCode.QUERY_TOO_COMPLEX.value}}
            await self.send_message({"id": message["id"], "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)


class GraphQLView(GraphQL):
    graphql_transport_ws_handler_class = AuthenticatingTransportWsHandler

    def __init__(self, schema: Any, services: Services | None, settings: Any = None) -> None:
        settings = settings or services.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.dev else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.allowed_origins,
        )
        self.services = services
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            if not _is_ide_page(request):
                refusal = self._refuse(request)
                if refusal is not None:
                    await refusal(scope, receive, send)
                    return
                key = idempotency_key(scope)
                if key is not None:
                    await self._idempotent(key, scope, receive, send)
                    return
                if request.method == "POST":
                    # Read under the limit here: a chunked body carries no Content-Length to refuse early.
                    body = await read_body(receive, MAX_BODY_BYTES)
                    if body is None:
                        await error_response(413, ErrorCode.BAD_USER_INPUT, f"Request body over {MAX_BODY_BYTES} bytes")(scope, receive, send)
                        return
                    receive = replaying(body, receive)
        await super().__call__(scope, receive, send)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Requests strawberry refuses before GraphQL (bad JSON, batches, content types) answer in
        the GraphQL error shape with BAD_USER_INPUT, not as plain text."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            return error_response(error.status_code, ErrorCode.BAD_USER_INPUT, error.reason)

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
            await run_idempotently(keys, principal, key, scope, receive, sending, super().__call__, max_body=MAX_BODY_BYTES)
        except PoolTimeout:
            if answered:  # recording the response failed after it was sent; a retry waits, then CONFLICT
                log.warning("recording an idempotent response failed: no database connection was free")
                return
            busy = JSONResponse({"data": None, "errors": [{"message": BUSY_MESSAGE, "extensions": busy_extensions()}]},
                                status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
            await busy(scope, receive, send)

    def _refuse(self, request: Request) -> Response | None:
        try:
            principal = principal_from_header(
                self.settings.jwt_secret, request.headers.get("authorization")
            )
        except Unauthenticated as error:
            return error_response(401, ErrorCode.UNAUTHENTICATED, error.message)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return error_response(413, ErrorCode.BAD_USER_INPUT, f"Request body over {MAX_BODY_BYTES} bytes")
        request.scope.setdefault("state", {})["principal"] = principal
        return None

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.get("state") or {}
        context = Context(
            services=self.services,
            request=request,
            response=response,
            _principal=state.get("principal"),
        )
        context.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        state["context"] = context
        return context

    async def process_result(self, request: Request, result: Any) -> dict:
        response = await super().process_result(request, result)
        context: Context | None = (request.scope.get("state") or {}).get("context")
        if context is not None and result.errors:
            status = _status_for(result, getattr(context, "operation_type", None))
            if status is not None:
                context.response.status_code = status
            if status == 503:
                context.response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _status_for(result: Any, operation_type: str | None) -> int | None:
    if any((e.extensions or {}).get("retryable") for e in result.errors):
        return 503  # busy: nothing was done, the same request may be sent again after Retry-After
    codes = {error_code(e) for e in result.errors}
    document_fault = all(e.path is None for e in result.errors) and result.data is None
    if document_fault and codes & {ErrorCode.BAD_USER_INPUT.value, ErrorCode.QUERY_TOO_COMPLEX.value}:
        return 400
    if operation_type == "mutation" and result.data is None and codes & {c.value for c in CONFLICT_CODES}:
        return 409
    return None


def _is_ide_page(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")

