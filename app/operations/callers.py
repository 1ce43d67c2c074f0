"""What one caller (a token's subject) may run at once in this process: database connections across
all its requests and websocket operations, open websockets, subscriptions and distinct subscription
documents. A per-request or per-operation limit let one socket of 100 operations hold every
connection (3 each), and 600 distinct subscriptions of one caller cost every change seconds."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from app.errors import OverLimit


@dataclass
class _Caller:
    connections: asyncio.Semaphore
    users: int = 0
    websockets: int = 0
    subscriptions: int = 0
    documents: Counter = field(default_factory=Counter)

    @property
    def idle(self) -> bool:
        return self.users == 0 and self.websockets == 0 and self.subscriptions == 0


class CallerLimits:
    def __init__(self, connections: int, websockets: int, subscriptions: int, documents: int) -> None:
        self.connections = connections
        self.websockets = websockets
        self.subscriptions = subscriptions
        self.documents = documents
        self._callers: dict[str, _Caller] = {}

    def _caller(self, caller: str) -> _Caller:
        state = self._callers.get(caller)
        if state is None:
            state = self._callers[caller] = _Caller(asyncio.Semaphore(self.connections))
        return state

    def _forget_if_idle(self, caller: str) -> None:
        state = self._callers.get(caller)
        if state is not None and state.idle:
            del self._callers[caller]

    @contextlib.asynccontextmanager
    async def connection(self, caller: str) -> AsyncIterator[None]:
        """Hold one of the caller's database connection slots (waits for one to be free)."""
        state = self._caller(caller)
        state.users += 1
        try:
            async with state.connections:
                yield
        finally:
            state.users -= 1
            self._forget_if_idle(caller)

    def open_websocket(self, caller: str) -> bool:
        state = self._caller(caller)
        if state.websockets >= self.websockets:
            self._forget_if_idle(caller)
            return False
        state.websockets += 1
        return True

    def close_websocket(self, caller: str) -> None:
        state = self._callers.get(caller)
        if state is not None and state.websockets:
            state.websockets -= 1
            self._forget_if_idle(caller)

    @contextlib.contextmanager
    def subscription(self, caller: str, document: str) -> Iterator[None]:
        """Count a running subscription and its document; OverLimit past either limit."""
        state = self._caller(caller)
        if state.subscriptions >= self.subscriptions:
            self._forget_if_idle(caller)
            raise OverLimit(f"At most {self.subscriptions} subscriptions at once per caller")
        if document not in state.documents and len(state.documents) >= self.documents:
            self._forget_if_idle(caller)
            raise OverLimit(
                f"At most {self.documents} distinct subscription documents at once per caller; "
                "subscribe with the same document and other variables"
            )
        state.subscriptions += 1
        state.documents[document] += 1
        try:
            yield
        finally:
            state.subscriptions -= 1
            state.documents[document] -= 1
            if not state.documents[document]:
                del state.documents[document]
            self._forget_if_idle(caller)
