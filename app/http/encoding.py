"""Encoding `next` payloads once for every socket that sends the same result."""

from __future__ import annotations

import json
from collections.abc import Callable


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


def next_frame(operation_id: str, payload: str) -> str:
    """A graphql-transport-ws `next` message around an encoded payload: only the id is spliced in."""
    return '{"id":' + json.dumps(operation_id) + ',"type":"next","payload":' + payload + "}"
