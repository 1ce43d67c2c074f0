"""`Idempotency-Key` on mutation requests (rules.md §7): the same key and body within 24 h replay
the first response without running the mutation again; the same key with another body is CONFLICT.

The key row is claimed (INSERT … ON CONFLICT) and committed before the mutation runs, so of two
concurrent requests with one key exactly one runs; the other waits for its response, or answers
CONFLICT if it does not come in time. Keys belong to the token's subject, and a stored response is
replayed only to a token that holds every scope and facility of the one that sent the first request
(a subject's later token with fewer rights gets CONFLICT, not the patient in that response). The
response is kept encrypted with a key derived from the signing secret.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from graphql import GraphQLError, OperationDefinitionNode, OperationType
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from app.auth import Principal
from app.clock import Clock
from app.db.models import IdempotencyKey
from app.db.queries import idempotency as queries
from app.http.bodies import read_body, replaying
from app.http.negotiation import JSON
from app.http.statuses import busy_response
from app.schema.parsing import ParsedDocuments

HEADER = "idempotency-key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
PURGE_EVERY = timedelta(minutes=5)
REPLAYED_HEADER = "Idempotent-Replayed"
OTHER_CALLER = (
    "This Idempotency-Key was used by a token with other scopes or facilities; send the request with a new key"
)

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)


def idempotency_key(scope: Scope) -> str | None:
    if scope.get("type") != "http" or scope.get("method") != "POST":
        return None
    for name, value in scope.get("headers") or ():
        if name.decode("latin-1").lower() == HEADER:
            return value.decode("latin-1")
    return None


def _refusal(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


def may_send_mutations(principal: Principal) -> bool:
    """A token that can run no mutation (a room display's credential, a token without scopes) gets no
    key handling: its request goes to the endpoint's checks as one without the header."""
    return bool(principal.scopes) and not principal.is_display


async def _is_mutation(documents: ParsedDocuments, request: Any) -> bool:
    """Whether the request runs a mutation; parsed within the endpoint's token limit, a long document
    off the event loop (app.schema.parsing), and kept for the execution that follows."""
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return False
    try:
        parsed = await documents.parse(request["query"])
    except GraphQLError:
        return False
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    name = request.get("operationName")
    if name:
        operations = [op for op in operations if op.name is not None and op.name.value == name]
    return len(operations) == 1 and operations[0].operation == OperationType.MUTATION


def _request_hash(document: Any) -> str:
    """Bodies that differ only in whitespace or key order are the same request."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResponseSeal:
    """AES-GCM with a key derived (HKDF-SHA256) from the token signing secret; the subject and key
    are bound in as associated data, so a sealed response opens only on its own row."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(
            HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"group-sessions idempotency responses v1"
            ).derive(secret.encode())
        )

    def seal(self, subject: str, key: str, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode(), _row_binding(subject, key))
        return base64.b64encode(nonce + sealed).decode()

    def open(self, subject: str, key: str, sealed: str) -> str | None:
        """The response, or None when it does not open (another secret, or tampered with)."""
        try:
            raw = base64.b64decode(sealed)
            return self._aead.decrypt(raw[:12], raw[12:], _row_binding(subject, key)).decode()
        except (InvalidTag, ValueError):
            return None


def _row_binding(subject: str, key: str) -> bytes:
    return json.dumps([subject, key]).encode()


def caller_covers(principal: Principal, scopes: list[str], facilities: list[str]) -> bool:
    """The caller holds every scope and facility the first request was sent with."""
    if not set(scopes) <= principal.scopes:
        return False
    if principal.all_facilities:
        return True
    return "*" not in facilities and set(facilities) <= set(principal.facilities)


@dataclass
class _Captured:
    status: int = 500
    body: bytearray = None  # type: ignore[assignment]
    complete: bool = False

    def __post_init__(self) -> None:
        self.body = bytearray()


class IdempotencyKeys:
    """The key store for one process: claim, record, replay, purge."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, secret: str, documents: ParsedDocuments
    ) -> None:
        self.sessionmaker = sessionmaker
        self.documents = documents
        self.clock = clock
        self.seal = ResponseSeal(secret)
        self._last_purge: datetime | None = None

    async def purge_expired(self, now: datetime) -> None:
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        async with self.sessionmaker() as db, db.begin():
            await queries.purge_older_than(db, now - TTL)

    async def claim(self, principal: Principal, key: str, request_hash: str, now: datetime) -> bool:
        """True when this request owns the key: new, or the old use has expired."""
        async with self.sessionmaker() as db, db.begin():
            return await queries.claim(
                db,
                principal.subject,
                key,
                request_hash,
                now,
                TTL,
                sorted(principal.scopes),
                sorted(principal.facilities),
            )

    async def find(self, subject: str, key: str) -> IdempotencyKey | None:
        async with self.sessionmaker() as db:
            return await queries.find(db, subject, key)

    async def record(self, subject: str, key: str, status: int, body: str) -> None:
        async with self.sessionmaker() as db, db.begin():
            row = await queries.lock(db, subject, key)
            if row is not None:
                row.status_code, row.sealed_response = status, self.seal.seal(subject, key, body)

    async def release(self, subject: str, key: str) -> None:
        """The request died without a response: let a retry run it."""
        async with self.sessionmaker() as db, db.begin():
            await queries.release_unanswered(db, subject, key)


async def run_idempotently(  # noqa: PLR0917 - the ASGI triple travels with the keys
    keys: IdempotencyKeys,
    principal: Principal,
    key: str,
    scope: Scope,
    receive: Receive,
    send: Send,
    app: ASGIApp,
    *,
    max_body: int,
) -> None:
    subject = principal.subject
    body = await read_body(receive, max_body)
    if body is None:
        await _refusal(413, "BAD_USER_INPUT", f"Request body over {max_body} bytes")(scope, receive, send)
        return
    receive = replaying(body, receive)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    if not await _is_mutation(keys.documents, document):
        await app(scope, receive, send)
        return
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        await _refusal(400, "BAD_USER_INPUT", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters")(
            scope, receive, send
        )
        return
    request_hash = _request_hash(document)
    clock = keys.clock
    await keys.purge_expired(clock.now())
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        if await keys.claim(principal, key, request_hash, clock.now()):
            await _run_and_record(keys, subject, key, scope, receive, send, app)
            return
        existing = await keys.find(subject, key)
        if existing is None:
            continue  # the first use died and released the key: claim it again
        if existing.request_hash != request_hash:
            response = _refusal(409, "CONFLICT", "This Idempotency-Key was already used with a different request")
            break
        if not caller_covers(principal, existing.scopes, existing.facilities):
            response = _refusal(409, "CONFLICT", OTHER_CALLER)
            break
        if existing.status_code is not None:
            replay = keys.seal.open(subject, key, existing.sealed_response) if existing.sealed_response else ""
            if replay is None:
                response = _refusal(
                    409,
                    "CONFLICT",
                    "This Idempotency-Key's response cannot be replayed; send the request with a new key",
                )
                break
            response = Response(
                replay,
                status_code=existing.status_code,
                media_type="application/json",
                headers={REPLAYED_HEADER: "true"},
            )
            break
        if asyncio.get_running_loop().time() >= deadline:
            response = _refusal(409, "CONFLICT", "A request with this Idempotency-Key is still in progress")
            break
        await asyncio.sleep(POLL_SECONDS)
    await response(scope, receive, send)


async def _run_and_record(  # noqa: PLR0917 - the ASGI triple travels with the keys
    keys: IdempotencyKeys, subject: str, key: str, scope: Scope, receive: Receive, send: Send, app: ASGIApp
) -> None:
    captured = _Captured()

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured.status = message["status"]
        elif message["type"] == "http.response.body":
            captured.body.extend(message.get("body", b""))
            captured.complete = not message.get("more_body", False)
        await send(message)

    try:
        await app(scope, receive, capture)
    finally:
        # A 503 did nothing (no connection was free, or the database rolled the request back for
        # another): the key is free again, so the client's retry with it runs instead of replaying the 503.
        if captured.complete and captured.status != 503:
            await keys.record(subject, key, captured.status, captured.body.decode("utf-8", "replace"))
        else:
            await keys.release(subject, key)


async def answer_idempotently(  # noqa: PLR0917 - the ASGI triple travels with the keys
    keys: IdempotencyKeys, key: str, scope: Scope, receive: Receive, send: Send, app: ASGIApp, *, max_body: int
) -> None:
    """The endpoint's keyed request: run (or replayed) once; 503 when no database connection was free
    to claim its key."""
    answered = False

    async def sending(message: Message) -> None:
        nonlocal answered
        answered = answered or message["type"] == "http.response.start"
        await send(message)

    try:
        await run_idempotently(keys, scope["state"]["principal"], key, scope, receive, sending, app, max_body=max_body)
    except PoolTimeout:
        if answered:  # recording the response failed after it was sent; a retry waits, then CONFLICT
            log.warning("recording an idempotent response failed: no database connection was free")
            return
        await busy_response(scope["state"].get("media_type", JSON))(scope, receive, send)
