"""What the endpoint takes from Strawberry beyond its public hooks, kept in this one module.

Two things need more than Strawberry's hooks:

- graphql-transport-ws runs every operation of a socket with the socket's context. Ours gives each
  operation a context of its own (fresh loaders, its own transaction), and writes a `next` whose
  data many sockets share encoded once (app.http.encoding). Strawberry's `run_operation` and its
  result loop (`_send_result_stream`) take no context and encode per socket, so `OperationLoop`
  copies them (from strawberry-graphql 0.341) with those two changes, calling the private names the
  loop calls: `_OperationStreamClosed`, `_handle_pre_execution_error`, `_reject_incremental_delivery`,
  and the Starlette websocket under Strawberry's adapter (`websocket.ws`).
- A subscription over an HTTP stream ends when its token expires (app.http.expiry): the view needs
  the stream transport Strawberry chose for the request's Accept (`_get_stream_transport_from_headers`).

tests/test_strawberry_hooks.py records the signature of every Strawberry method we override or call
here, so an upgrade that changes one fails there before it fails a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import aclosing, suppress
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import HTTPStreamTransport
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from app.http.encoding import EncodedPayloads, next_frame


class OperationLoop(BaseGraphQLTransportWSHandler):
    """Strawberry's graphql-transport-ws operation loop, each operation in a context of its own and
    each shared result encoded once."""

    @property
    def payloads(self) -> EncodedPayloads:
        return self.view.payloads  # the view's, shared by every socket of the process

    async def run_in_own_context(self, operation: Any) -> None:
        """Strawberry's `run_operation`, with `self.context.for_operation()` for `self.context`."""
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
        """Strawberry's loop over an operation's results, sending each `next` as one frame whose
        data is encoded once for all the sockets that send the same data: only the operation id (and
        the operation's small extensions) are spliced in per frame. A result with errors (formatted
        per caller) goes Strawberry's way."""
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
            frame = next_frame(operation.id, self.payloads.payload(result.data, result.extensions))
            try:
                await self.websocket.ws.send_text(frame)
            except WebSocketDisconnect as exc:
                raise WebSocketDisconnected from exc


def stream_transport(view: AsyncBaseHTTPView, headers: Mapping[str, str]) -> HTTPStreamTransport | None:
    """The HTTP stream transport (multipart or SSE) Strawberry chose for these request headers."""
    return view._get_stream_transport_from_headers(headers)  # noqa: SLF001 - see the module's docstring
