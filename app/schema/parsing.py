"""Parsing a GraphQL document within budgets: the token limit, a worker thread for long documents, and
a cache of parsed documents that counts the memory they hold.

A document of 5,000 tokens, or of a few very long names, strings or comments, takes tens of
milliseconds to parse (graphql-core's lexer reads character by character in Python); eight of them at
once held the event loop for everyone. A document longer than `off_loop_characters` is parsed in one
worker thread of its own (one, so that parsing can take at most about half the interpreter from the
loop however many arrive together); shorter ones parse on the loop as before.

The cache keeps parsed documents by their text, least recently used out first, within a byte budget
that counts what a parsed document holds: its text, every token (graphql-core keeps the token list
for locations) and its nodes (`document_cost`, measured with tracemalloc in tests/test_hardening_third_pass.py).
strawberry's ParserCache counted entries (512 of any size: 97 MB after 200 large documents).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

# Bytes a parsed document holds per token (a Token, its node, their Locations; ~400-700 measured) and
# per character of its text (the text itself, and names and values copied out of it).
BYTES_PER_TOKEN = 1000
BYTES_PER_CHARACTER = 2
BYTES_PER_ENTRY = 1024  # the entry's key, its OrderedDict node, the Source object
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024
DEFAULT_OFF_LOOP_CHARACTERS = 8 * 1024

_parser_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphql-parse")
# How long a thread holding the interpreter keeps it while another waits. At CPython's default (5 ms)
# the parse thread took 5 ms of every event-loop turn that released it (a request takes dozens of
# turns): 8 long documents added 240 ms to another client's trivial query; at 1 ms, under 100 ms.
SWITCH_INTERVAL_SECONDS = 0.001


def share_the_interpreter() -> None:
    """Called once when the app is made: the event loop gets the interpreter back within 1 ms."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))


# GraphQL's tokens, strings and comments matched whole (a comment is not a token; a string's words are
# not tokens): counted at the regular expression engine's speed before any parse.
_TOKENS = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*"""|"(?:\\.|[^"\\\n\r])*"|#[^\n\r]*|[_A-Za-z][_0-9A-Za-z]*'
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\.\.|[!$&()\[\]{}:=@|]"
)
TOO_MANY_TOKENS = "Syntax Error: Document contains more than {limit} tokens. Parsing aborted."


def over_token_limit(text: str, limit: int) -> bool:
    """Whether the text has more than `limit` tokens, counted without parsing."""
    count = 0
    for match in _TOKENS.finditer(text):
        if not match.group().startswith("#"):
            count += 1
            if count > limit:
                return True
    return False


def token_count(document: DocumentNode) -> int:
    count = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        count += 1
        token = token.next
    return count


def document_cost(text: str, document: DocumentNode) -> int:
    """An upper estimate of the memory a cached parsed document holds, in bytes."""
    return BYTES_PER_ENTRY + BYTES_PER_CHARACTER * len(text) + BYTES_PER_TOKEN * token_count(document)


class ParsedDocuments:
    """Parsed documents by their text, within `max_bytes` of estimated memory."""

    def __init__(
        self,
        max_tokens: int,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        off_loop_characters: int = DEFAULT_OFF_LOOP_CHARACTERS,
    ) -> None:
        self.max_tokens = max_tokens
        self.max_bytes = max_bytes
        self.off_loop_characters = off_loop_characters
        self._entries: OrderedDict[str, tuple[DocumentNode, int]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def _parse(self, text: str) -> DocumentNode:
        return parse(text, max_tokens=self.max_tokens)

    async def parse(self, text: str) -> DocumentNode:
        """The parsed document (raises graphql's GraphQLError for a document that does not parse or is
        over the token limit); a long one is parsed off the event loop."""
        entry = self._entries.get(text)
        if entry is not None:
            self._entries.move_to_end(text)
            return entry[0]
        if len(text) <= self.off_loop_characters:
            document = self._parse(text)
        elif over_token_limit(text, self.max_tokens):
            raise GraphQLError(TOO_MANY_TOKENS.format(limit=self.max_tokens))
        else:
            document = await asyncio.get_running_loop().run_in_executor(_parser_thread, self._parse, text)
        self._keep(text, document)
        return document

    def _keep(self, text: str, document: DocumentNode) -> None:
        if text in self._entries:
            return
        cost = document_cost(text, document)
        if cost > self.max_bytes:
            return
        self._entries[text] = (document, cost)
        self._bytes += cost
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped


class BoundedParsing(SchemaExtension):
    """The parse step of every operation (HTTP, websocket, the cluster's renderer) through a
    `ParsedDocuments`: strawberry's own parse is then skipped (it parses only when no document is set)."""

    def __init__(self, documents: ParsedDocuments) -> None:
        self.documents = documents

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = await self.documents.parse(context.query)
        yield
