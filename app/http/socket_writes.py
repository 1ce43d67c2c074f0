"""One socket write per event-loop turn: the frames a change sends on one websocket go out together.

A change watched through one socket by many subscriptions (a wall of room displays, the bench's
sockets of 100) sends one `next` frame per subscription, each written by uvicorn with its own
`transport.write`: a system call per frame, the largest single cost of the fan-out
(bench/README.md, step 4). `coalesce_writes` puts a buffer in front of the socket's transport:
frames written in one turn of the loop are sent in one write at its end, in the order written.
The protocol is unchanged (each message is still its own websocket frame); only the number of
system calls falls. It applies to uvicorn's websocket protocols, whose transport it finds behind
the ASGI `send` (through the closures Starlette's middleware wrap it in); elsewhere (the test
client's in-process transport) it does nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport:
    """A transport whose writes of one loop turn go out as one write; everything else is the transport's."""

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self.writes = 0  # writes the transport was given (tests)

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self.writes += 1
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _protocol_behind(send: Any, depth: int = 4) -> Any:
    """The object whose bound method the ASGI `send` is, through the closures Starlette's
    middleware wrap it in (a few levels at most)."""
    seen = [send]
    for _ in range(depth):
        found = []
        for candidate in seen:
            owner = getattr(candidate, "__self__", None)
            if owner is not None and hasattr(owner, "transport"):
                return owner
            for cell in getattr(candidate, "__closure__", None) or ():
                try:
                    value = cell.cell_contents
                except ValueError:
                    continue
                if callable(value):
                    found.append(value)
        seen = found
    return None


INSTALLED = 0  # sockets whose writes are coalesced in this process (bench metrics, tests)


def coalesce_writes(send: Any) -> CoalescingTransport | None:
    """Buffer the writes of the uvicorn websocket protocol behind this ASGI `send` (once)."""
    protocol = _protocol_behind(send)
    transport = getattr(protocol, "transport", None)
    if isinstance(transport, CoalescingTransport):
        return transport
    if not all(
        hasattr(transport, name) for name in ("write", "is_closing", "close")
    ):  # uvloop's is no asyncio.Transport
        return None
    global INSTALLED
    buffered = CoalescingTransport(transport, asyncio.get_running_loop())
    protocol.transport = buffered
    INSTALLED += 1
    return buffered
