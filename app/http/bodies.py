"""Request bodies and their limit: read once under the limit, then handed on as if unread."""

from __future__ import annotations

from starlette.types import Message, Receive

MAX_BODY_BYTES = 256 * 1024


class MessageTooLarge(Exception):
    """A websocket message over MAX_BODY_BYTES (the server in front may allow more)."""


def over_the_limit(data: str | bytes) -> bool:
    if len(data) <= MAX_BODY_BYTES // 4:
        return False  # a UTF-8 character is at most 4 bytes
    return len(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when the client left or sent more than `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for the application after the body was read: the body first, then the rest."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
