"""Automatic persisted queries (Apollo's `persistedQuery` request extension).

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the document. The
first time, the hash is unknown: the answer is `PERSISTED_QUERY_NOT_FOUND` and the client sends the
document with its hash, which is checked and kept. Later requests carry the hash alone, in a POST
body or a GET query string. Documents are kept per process, least recently used first out, within
a byte budget: a document that fell out costs the client one more round trip, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import re
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


class PersistedQueries:
    """Documents by the sha256 of their text, within `max_bytes` (least recently used out first)."""

    def __init__(self, max_bytes: int = MAX_STORED_BYTES) -> None:
        self.max_bytes = max_bytes
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._documents)

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def get(self, sha256_hash: str) -> str | None:
        document = self._documents.get(sha256_hash)
        if document is not None:
            self._documents.move_to_end(sha256_hash)
        return document

    def put(self, sha256_hash: str, document: str) -> None:
        if sha256_hash in self._documents:
            self._documents.move_to_end(sha256_hash)
            return
        size = len(document.encode())
        if size > self.max_bytes:
            return
        self._documents[sha256_hash] = document
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, dropped = self._documents.popitem(last=False)
            self._bytes -= len(dropped.encode())


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


def with_document(store: PersistedQueries, request: dict[str, Any]) -> dict[str, Any]:
    """The request with its document: looked up by hash when it carries none, checked against the
    hash and kept when it does. A request without the extension is returned as it is."""
    sha256_hash = requested_hash(request.get("extensions"))
    if sha256_hash is None:
        return request
    document = request.get("query")
    if document is None:
        known = store.get(sha256_hash)
        if known is None:
            raise PersistedQueryNotFound
        return {**request, "query": known}
    if not isinstance(document, str):
        return request  # the endpoint refuses a query that is not a string
    if hashlib.sha256(document.encode()).hexdigest() != sha256_hash:
        raise BadInput("persistedQuery.sha256Hash is not the sha256 of the query")
    store.put(sha256_hash, document)
    return request


def expand_body(store: PersistedQueries, body: bytes) -> bytes:
    """A POST body whose persisted-query hash stands for its document gets the document back."""
    if b"persistedQuery" not in body:
        return body
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return body  # not JSON: the endpoint refuses it
    if not isinstance(request, dict):
        return body
    expanded = with_document(store, request)
    return body if expanded is request else json.dumps(expanded).encode()


def expand_query_string(store: PersistedQueries, query_string: bytes) -> bytes:
    """The same for a GET, whose parameters are in the query string."""
    if b"persistedQuery" not in query_string:
        return query_string
    params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    try:
        extensions = json.loads(params.get("extensions") or "null")
    except (ValueError, RecursionError):
        return query_string
    request = {"query": params.get("query"), "extensions": extensions}
    expanded = with_document(store, request)
    if expanded is request:
        return query_string
    return urlencode({**params, "query": expanded["query"]}).encode()
