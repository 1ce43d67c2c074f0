"""The GraphQL websocket (graphql-transport-ws): the bearer token checked in `connection_init`, the
socket closed when that token expires, and a room display's socket closed when it is revoked or its
credential replaced."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from contextlib import suppress
from typing import Any

from app.auth import Principal, principal_from_header
from app.errors import ErrorCode, Unauthenticated
from app.http.bodies import MAX_BODY_BYTES, MessageTooLarge
from app.http.expiry import TOKEN_EXPIRED
from app.http.socket_writes import coalesce_writes
from app.http.strawberry_internals import OperationLoop
from app.live.publish import display_channel
from app.operations.displays import live_display

# A room display's socket: revoked (the page shows a new pairing code), or its credential replaced.
DISPLAY_REVOKED_CODE = 4403
DISPLAY_REVOKED = "Display revoked"
CREDENTIAL_REPLACED = "Display credential replaced"
# One caller's sockets past GS_WEBSOCKETS_PER_CALLER (in this process).
TOO_MANY_SOCKETS_CODE = 4429
TOO_MANY_SOCKETS = "Too many open connections for this caller"

log = logging.getLogger(__name__)


class AuthenticatingTransportWsHandler(OperationLoop):
    """graphql-transport-ws with the bearer token checked in connection_init (close 4401 when bad),
    the socket closed with 4401 when that token expires, and every operation on the socket run with
    that token's scopes and facilities, refused once it has expired."""

    expiry: asyncio.Task | None = None
    display_watch: asyncio.Task | None = None
    counted_caller: str | None = None  # the caller this socket counts against (app.operations.callers)

    async def handle(self) -> None:
        # The frames one change sends on this socket go out in one write (app.http.socket_writes).
        coalesce_writes(getattr(getattr(self.websocket, "ws", None), "_send", None))
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
        limits = self.view.services.caller_limits
        if self.counted_caller is None:
            if not limits.open_websocket(principal.subject):
                await self.websocket.close(code=TOO_MANY_SOCKETS_CODE, reason=TOO_MANY_SOCKETS)
                return
            self.counted_caller = principal.subject
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
            await self.run_in_own_context(operation)
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

    async def shutdown(self) -> None:
        if self.counted_caller is not None:
            self.view.services.caller_limits.close_websocket(self.counted_caller)
            self.counted_caller = None
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
