"""A subscription over an HTTP stream (multipart or SSE) ends, like a websocket, when its token expires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable

from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport

from app.errors import ErrorCode

TOKEN_EXPIRED = "Token expired"

Stream = Callable[[], AsyncGenerator[str, None]]


def expired_message(transport: HTTPStreamTransport, encode_json: Callable[[object], str]) -> str:
    """The stream's last chunks: an UNAUTHENTICATED error in the transport's own framing, then its end."""
    error = {"message": TOKEN_EXPIRED, "extensions": {"code": ErrorCode.UNAUTHENTICATED.value}}
    if isinstance(transport, MultipartSubscriptionTransport):
        # The multipart protocol's fatal error: top-level errors, no payload; then the stream ends.
        final = transport.encode_multipart_data({"payload": None, "errors": [error]}, encode_json)
    else:
        final = transport.encode_next({"errors": [error]}, encode_json)
    return final + transport.encode_complete()


def until_expiry(stream: Stream, expires_at: float, final: str) -> Stream:
    """The stream, cut at `expires_at` (a Unix time) with `final` as its last chunk."""

    async def until_expiry() -> AsyncGenerator[str, None]:
        chunks = stream()
        try:
            while True:
                try:
                    # In this task, not wait_for's: a client going away cancels this task, and the
                    # stream must have stopped running before it is closed below.
                    async with asyncio.timeout(max(0.0, expires_at - time.time())):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    yield final
                    return
                yield chunk
        finally:
            await chunks.aclose()

    return until_expiry
