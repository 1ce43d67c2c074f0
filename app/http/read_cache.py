"""Repeated reads answered from the bytes already encoded for them.

Tablets and schedulers poll the same session pages. An answer is kept under its document,
operation name, variables and audience (the caller's scopes and facilities, the media type, the
host), beside the read versions it was computed from (app/db/queries/read_versions.py: numbers that
the commit of any write to what a page can show replaces) and the instant a field that follows the
clock says something else (`Context.now_until`). A request for it is answered from the bytes when
one statement, run in the request's own snapshot, finds the same numbers, and the instant has not
come: a write committed by any process before the request began is never missed.

What is kept, conservatively: answers without errors to a query whose root fields are all in
`CACHED_ROOTS` (the session pages, over tables whose every write is versioned), which no field
read the clock for without saying until when, for a caller that is not a room display or bound to
one patient. Everything else runs as usual.

On a miss the versions are read first, on the request's read session, and the page after them:
a write committed in between makes the numbers differ at the next request, never the reverse.
The versions are read only for a request whose key was answered once without errors: the first
request of a key executes as usual (a document refused by validation or its cost runs no statement);
the second is kept; later ones are answered from the bytes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from app.auth import Principal
from app.schema.parsing import DEFAULT_OFF_LOOP_CHARACTERS

# Root fields whose answers are kept: every table they read carries the read-version triggers.
CACHED_ROOTS = frozenset({"groupSessions", "groupSession", "__typename"})
MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024
MAX_DOCUMENTS = 1024
# The pages clients repeat are short; a longer document is answered as usual, never kept (the length
# past which documents parse off the event loop, GS_PARSE_OFF_LOOP_CHARACTERS).
MAX_DOCUMENT_CHARACTERS = DEFAULT_OFF_LOOP_CHARACTERS
MAX_TOKENS = 5000  # GS_DOCUMENT_TOKENS


@dataclass(frozen=True)
class Entry:
    versions: tuple[tuple[str, int], ...]
    since: datetime  # the moment it was computed at: a clock set back (tests) does not reuse it
    until: datetime | None  # the first instant the answer may say something else by the clock
    body: str | bytes


@dataclass(frozen=True)
class Fill:
    """A miss to fill: where the answer goes and the versions read before it was computed."""

    key: tuple
    versions: tuple[tuple[str, int], ...]
    since: datetime


class CachedBody(dict):
    """process_result's answer for a hit: the kept bytes, sent as they are."""

    def __init__(self, body: str | bytes) -> None:
        super().__init__()
        self.body = body


class FillingBody(dict):
    """process_result's answer for a miss whose bytes are to be kept once encoded."""

    fill: Fill
    until: datetime | None


class ReadCache:
    """The kept answers of one process (least recently used dropped first), and which documents may be kept."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        *,
        max_document_characters: int = MAX_DOCUMENT_CHARACTERS,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self._max_document_characters = max_document_characters
        self._max_tokens = max_tokens
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._documents: dict[tuple[str, str | None], bool] = {}
        # Keys answered once without errors: only those are checked against the read versions, so a
        # request refused before execution (validation, cost) runs no statement at all.
        self._answered: OrderedDict[tuple, None] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.stored = 0

    def key(
        self,
        principal: Principal | None,
        query: Any,
        operation_name: Any,
        variables: Any,
        *,
        media_type: str,
        host: str,
    ) -> tuple | None:
        """The key of a request whose answer may be kept, or None."""
        if principal is None or principal.is_display or principal.patient is not None:
            return None
        if not isinstance(query, str) or not self._cacheable_document(query, operation_name):
            return None
        try:
            variables_text = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None
        return (
            query,
            operation_name,
            variables_text,
            tuple(sorted(principal.scopes)),
            principal.facilities,
            media_type,
            host,
        )

    def _cacheable_document(self, query: str, operation_name: str | None) -> bool:
        if len(query) > self._max_document_characters:
            # Never parsed here: a long document goes the bounded way (app/schema/parsing.py: the fast
            # token count, then a worker thread), not through a second parse on the event loop.
            return False
        known = self._documents.get((query, operation_name))
        if known is None:
            known = _cached_roots_only(query, operation_name, self._max_tokens)
            if len(self._documents) >= MAX_DOCUMENTS:
                del self._documents[next(iter(self._documents))]
            self._documents[(query, operation_name)] = known
        return known

    def answered_before(self, key: tuple) -> bool:
        return key in self._answered

    def answered(self, key: tuple) -> None:
        self._answered[key] = None
        self._answered.move_to_end(key)
        while len(self._answered) > 4 * self._max_entries:
            self._answered.popitem(last=False)

    def get(self, key: tuple, versions: tuple[tuple[str, int], ...], now: datetime) -> Entry | None:
        entry = self._entries.get(key)
        if (
            entry is None
            or entry.versions != versions
            or now < entry.since
            or (entry.until is not None and now >= entry.until)
        ):
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: tuple, entry: Entry) -> None:
        if len(entry.body) > self._max_bytes // 8:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._entries[key] = entry
        self._bytes += len(entry.body)
        self.stored += 1
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.body)


def _cached_roots_only(query: str, operation_name: str | None, max_tokens: int = MAX_TOKENS) -> bool:
    """Whether the document's operation is one query selecting only CACHED_ROOTS fields at its root
    (no fragment there). A document that does not parse is not kept (its errors are answered as usual)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value in CACHED_ROOTS
        for selection in operations[0].selection_set.selections
    )
