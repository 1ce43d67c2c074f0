"""uvicorn's HTTP protocol with deadlines for reading a request's headers and its body.

uvicorn reads a request for as long as the client keeps sending: its keep-alive timeout covers only
the idle time between requests and is reset by every byte, and ASGI middleware sees nothing until
the headers are complete. 300 connections sending headers (or bodies) at a byte a second stayed
open indefinitely. Each connection here gets a deadline for its request's headers (from the moment
it opens, or the request's first byte on a kept-alive connection) and one for its body (from the
end of the headers); past either the connection is closed. A websocket upgrade leaves both behind.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import Settings

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    body_timeout: float = 30.0

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, "headers")

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            # Bytes on a kept-alive connection start the next request's clock, even bytes (blank
            # lines) that the parser skips before a request begins.
            self._arm(self.header_timeout, "headers")
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.header_timeout, "headers")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm(self.body_timeout, "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, phase: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, phase, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, phase: str, seconds: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.warning("closing a connection whose request %s did not arrive within %gs", phase, seconds)
        if phase == "headers":
            self.transport.write(REQUEST_TIMEOUT)  # no request is under way yet: there is no response to break
        self.transport.close()


def deadline_protocol(header_timeout: float, body_timeout: float) -> type[DeadlineHttpToolsProtocol]:
    """The protocol class to hand uvicorn (`http=`), with these deadlines in seconds."""
    return type(
        "DeadlineHttpToolsProtocol",
        (DeadlineHttpToolsProtocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )


class SettingsDeadlineHttpToolsProtocol(DeadlineHttpToolsProtocol):
    """The deadlines of the environment's settings, as an importable class: `serve --workers N`
    hands uvicorn's worker processes an import path, not a class made at run time."""

    _configured = False

    def __init__(self, *args, **kwargs) -> None:
        cls = type(self)
        if not cls._configured:  # once per worker process, not per connection
            settings = Settings.from_env()
            cls.header_timeout, cls.body_timeout, cls._configured = settings.header_timeout, settings.body_timeout, True
        super().__init__(*args, **kwargs)
