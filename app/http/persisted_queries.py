"""Automatic persisted queries (Apollo's `persistedQuery` request extension).

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the document. The
first time, the hash is unknown: the answer is `PERSISTED_QUERY_NOT_FOUND` and the client sends the
document with its hash, which is checked and kept. Later requests carry the hash alone, in a POST
body or a GET query string. Documents are kept per process, least recently used first out, within
a byte budget: a document that fell out costs the client one more round trip, nothing else.

A hash is known only to the caller (token subject and facilities) that sent its document: one store
for everyone let any caller learn whether a document was ever sent (a known hash answered FORBIDDEN,
an unknown one PERSISTED_QUERY_NOT_FOUND). A text several callers sent is kept once. The budget counts
memory, not only the documents' bytes: each text's object and each caller's entry (its key, the
tuple and the dictionary's slot), so a flood of tiny documents cannot pass it (~258 B an entry that
was not counted: ~540 MB within a stated 8 MiB).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl, urlencode

from app.errors import BadInput

NOT_FOUND_CODE = "PERSISTED_QUERY_NOT_FOUND"
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"  # the message Apollo's PersistedQueryLink also matches
SUPPORTED_VERSION = 1
MAX_STORED_BYTES = 8 * 1024 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class PersistedQueryNotFound(Exception):
    """The hash names no document this process has kept."""


# Bytes an entry holds besides its text: the (caller, hash) key and its strings, the ordered
# dictionary's slot and links (measured with tracemalloc in tests/test_hardening_third_pass.py).
ENTRY_OVERHEAD_BYTES = 512
TEXT_OVERHEAD_BYTES = 160  # the text's dictionary slot, its hash key and the reference count


class PersistedQueries:
    """Documents by caller and the sha256 of their text, within `max_bytes` of memory (least recently
    used out first)."""

    def __init__(self, max_bytes: int = MAX_STORED_BYTES) -> None:
        self.max_bytes = max_bytes
        self._known: OrderedDict[tuple[str, str], int] = OrderedDict()  # (caller, hash) -> its cost
        self._texts: dict[str, list] = {}  # hash -> [document, callers knowing it, its cost]
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._known)

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def get(self, caller: str, sha256_hash: str) -> str | None:
        key = (caller, sha256_hash)
        if key not in self._known:
            return None
        self._known.move_to_end(key)
        return self._texts[sha256_hash][0]

    def put(self, caller: str, sha256_hash: str, document: str) -> None:
        key = (caller, sha256_hash)
        if key in self._known:
            self._known.move_to_end(key)
            return
        entry_cost = ENTRY_OVERHEAD_BYTES + sys.getsizeof(caller) + sys.getsizeof(sha256_hash)
        text = self._texts.get(sha256_hash)
        text_cost = 0 if text is not None else TEXT_OVERHEAD_BYTES + sys.getsizeof(document)
        if entry_cost + text_cost > self.max_bytes:
            return
        if text is None:
            text = self._texts[sha256_hash] = [document, 0, text_cost]
            self._bytes += text_cost
        text[1] += 1
        self._known[key] = entry_cost
        self._bytes += entry_cost
        while self._bytes > self.max_bytes:
            (_, dropped_hash), dropped_cost = self._known.popitem(last=False)
            self._bytes -= dropped_cost
            dropped = self._texts[dropped_hash]
            dropped[1] -= 1
            if dropped[1] == 0:
                del self._texts[dropped_hash]
                self._bytes -= dropped[2]


def caller_of(principal: Any) -> str:
    """Whose persisted queries a request may use: its token's subject and facilities."""
    return json.dumps([principal.subject, sorted(principal.facilities)])


def requested_hash(extensions: Any) -> str | None:
    """The sha256 a request's `extensions.persistedQuery` names, or None when it names none."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != SUPPORTED_VERSION:
        raise BadInput(f"persistedQuery must be {{version: {SUPPORTED_VERSION}, sha256Hash: <hex>}}")
    sha256_hash = persisted.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not _SHA256_HEX.fullmatch(sha256_hash):
        raise BadInput("persistedQuery.sha256Hash must be 64 lower-case hexadecimal digits")
    return sha256_hash


def with_document(store: PersistedQueries, request: dict[str, Any], caller: str) -> dict[str, Any]:
    """The request with its document: looked up by hash when it carries none, checked against the
    hash and kept when it does. A request without the extension is returned as it is."""
    sha256_hash = requested_hash(request.get("extensions"))
    if sha256_hash is None:
        return request
    document = request.get("query")
    if document is None:
        known = store.get(caller, sha256_hash)
        if known is None:
            raise PersistedQueryNotFound
        return {**request, "query": known}
    if not isinstance(document, str):
        return request  # the endpoint refuses a query that is not a string
    if hashlib.sha256(document.encode()).hexdigest() != sha256_hash:
        raise BadInput("persistedQuery.sha256Hash is not the sha256 of the query")
    store.put(caller, sha256_hash, document)
    return request


def expand_body(store: PersistedQueries, body: bytes, caller: str) -> bytes:
    """A POST body whose persisted-query hash stands for its document gets the document back."""
    if b"persistedQuery" not in body:
        return body
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return body  # not JSON: the endpoint refuses it
    if not isinstance(request, dict):
        return body
    expanded = with_document(store, request, caller)
    return body if expanded is request else json.dumps(expanded).encode()


def expand_query_string(store: PersistedQueries, query_string: bytes, caller: str) -> bytes:
    """The same for a GET, whose parameters are in the query string."""
    if b"persistedQuery" not in query_string:
        return query_string
    params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    try:
        extensions = json.loads(params.get("extensions") or "null")
    except (ValueError, RecursionError):
        return query_string
    request = {"query": params.get("query"), "extensions": extensions}
    expanded = with_document(store, request, caller)
    if expanded is request:
        return query_string
    return urlencode({**params, "query": expanded["query"]}).encode()
