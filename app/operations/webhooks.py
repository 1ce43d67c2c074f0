"""Webhook endpoints (issue 30): register one (its secret shown once), change, delete, rotate its
secret, replay; fan committed outbox events out to the endpoints that may receive them; claim due
deliveries and record each attempt. The calls themselves are made by app.events.webhooks."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.auth import Principal
from app.config import Settings
from app.db import models
from app.db.queries import webhooks as queries
from app.db.queries.common import Page
from app.db.uow import UnitOfWork
from app.errors import BadInput, Forbidden, IllegalTransition, NotFound
from app.operations.common import check, facilities_seen, require_scope, require_text
from app.rules import webhooks as rules
from app.rules.scopes import Scope

log = logging.getLogger(__name__)

MAX_OVERLAP = timedelta(days=7)
MAX_REPLAY_SPAN = timedelta(days=31)
RESOLVE_SECONDS = 3.0


class SecretSeal:
    """Signing secrets at rest: AES-GCM under a key derived (HKDF-SHA256) from the token signing
    secret, as idempotency replays are kept, with the endpoint's id bound in: a sealed secret opens
    only on its own row."""

    def __init__(self, signing_secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"group-sessions webhook secrets v1").derive(
            signing_secret.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, endpoint_id: uuid.UUID, secret: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, secret.encode(), endpoint_id.bytes)).decode()

    def open(self, endpoint_id: uuid.UUID, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], endpoint_id.bytes).decode()
        except InvalidTag:
            raise ValueError("the webhook secret does not open with this signing secret") from None


@dataclass(frozen=True)
class NewEndpoint:
    url: str
    event_types: list[str]
    facility_ids: list[uuid.UUID] | None  # None: every facility the caller sees (all, for an all-facility token)
    description: str | None = None


@dataclass(frozen=True)
class EndpointChange:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: models.WebhookEndpoint
    secret: str  # shown once


def _open_or_none(seal: SecretSeal, endpoint_id: uuid.UUID, sealed: str | None) -> str | None:
    if sealed is None:
        return None
    try:
        return seal.open(endpoint_id, sealed)
    except ValueError:
        return None


# ------------------------------------------------------------------ where a request may go


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses (one DNS answer, used for the check and the call alike)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
    except (OSError, TimeoutError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


async def checked_addresses(url: str, settings: Settings) -> list[str]:
    """The addresses the URL's host resolves to, every one of them allowed; BadInput otherwise."""
    check(rules.url_problem(url))
    parts = urlsplit(url)
    addresses = await resolve(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    if not addresses:
        raise BadInput(f"url's host {parts.hostname!r} does not resolve")
    allowed = rules.networks(settings.webhook_allowed_networks)
    for address in addresses:
        problem = rules.address_problem(address, allowed)
        if problem:
            raise BadInput(f"url is refused: {problem} (GS_WEBHOOK_ALLOWED_NETWORKS allows a network)")
    check(rules.scheme_problem(url, addresses, allowed))
    return addresses


# ------------------------------------------------------------------ administration


def _snapshot(endpoint: models.WebhookEndpoint) -> dict:
    """The audit view: never the secret."""
    return {
        "url": endpoint.url,
        "eventTypes": list(endpoint.event_types),
        "facilityIds": endpoint.facility_ids,
        "description": endpoint.description,
        "disabledAt": _iso(endpoint.disabled_at),
        "deletedAt": _iso(endpoint.deleted_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _facility_filter(actor: Principal, facility_ids: list[uuid.UUID] | None) -> list[str] | None:
    """The facilities an endpoint hears of: the ones named (each the caller's: another is NOT_FOUND),
    or the caller's own; None (every facility) only for an all-facility caller naming none."""
    if facility_ids is None:
        return None if actor.all_facilities else [str(f) for f in actor.facility_uuids]
    if not facility_ids:
        raise BadInput("facilityIds must name at least one facility (leave it out for all of yours)")
    for facility_id in facility_ids:
        if not actor.sees_facility(facility_id):
            raise NotFound("No Facility with that id")
    return sorted({str(f) for f in facility_ids})


def _scopes_for(actor: Principal, event_types: Sequence[str]) -> list[str]:
    check(rules.event_types_problem(event_types))
    needed = rules.scopes_needed(event_types)
    missing = sorted(needed - actor.scopes)
    if missing:
        raise Forbidden(f"Receiving these events needs scope {missing[0]}")
    return sorted(needed)


def visible_endpoint(actor: Principal, endpoint: models.WebhookEndpoint | None) -> models.WebhookEndpoint:
    """The endpoint when the caller sees every facility of its filter; otherwise NOT_FOUND."""
    if endpoint is None:
        raise NotFound("No WebhookEndpoint with that id")
    if actor.all_facilities:
        return endpoint
    if endpoint.facility_ids is None or not all(actor.sees_facility(f) for f in endpoint.facility_ids):
        raise NotFound("No WebhookEndpoint with that id")
    return endpoint


async def _endpoint(uow: UnitOfWork, actor: Principal, endpoint_id: uuid.UUID) -> models.WebhookEndpoint:
    require_scope(actor, Scope.INTEGRATIONS_WRITE)
    return visible_endpoint(actor, await queries.endpoint(uow.db, endpoint_id, lock=True))


async def create_endpoint(
    uow: UnitOfWork, actor: Principal, new: NewEndpoint, *, seal: SecretSeal, settings: Settings
) -> EndpointWithSecret:
    require_scope(actor, Scope.INTEGRATIONS_WRITE)
    url = new.url.strip()
    event_types = list(dict.fromkeys(new.event_types))
    scopes = _scopes_for(actor, event_types)
    facility_ids = _facility_filter(actor, new.facility_ids)
    description = require_text("description", new.description, 500) if new.description is not None else None
    await checked_addresses(url, settings)
    secret = rules.new_secret(os.urandom(rules.SECRET_BYTES))
    endpoint_id = uuid.uuid4()
    now = uow.clock.now()
    endpoint = models.WebhookEndpoint(
        id=endpoint_id,
        url=url,
        description=description,
        event_types=event_types,
        facility_ids=facility_ids,
        scopes=scopes,
        sealed_secret=seal.seal(endpoint_id, secret),
        after_event_id=await queries.last_event_id(uow.db),
        consecutive_failures=0,
        created_by=actor.subject,
        created_at=now,
        updated_at=now,
    )
    uow.db.add(endpoint)
    await uow.db.flush()
    uow.audit("webhook_endpoint.create", "WebhookEndpoint", endpoint.id, after=_snapshot(endpoint))
    return EndpointWithSecret(endpoint, secret)


async def update_endpoint(
    uow: UnitOfWork, actor: Principal, endpoint_id: uuid.UUID, change: EndpointChange, *, settings: Settings
) -> models.WebhookEndpoint:
    """Change the URL, the event types or the description; `enabled: true` turns a disabled endpoint
    back on (its pending deliveries resume), `false` pauses it."""
    endpoint = await _endpoint(uow, actor, endpoint_id)
    before = _snapshot(endpoint)
    if change.url is not None:
        await checked_addresses(change.url.strip(), settings)
        endpoint.url = change.url.strip()
    if change.event_types is not None:
        event_types = list(dict.fromkeys(change.event_types))
        endpoint.scopes = _scopes_for(actor, event_types)
        endpoint.event_types = event_types
    if change.description is not None:
        endpoint.description = require_text("description", change.description, 500) or None
    now = uow.clock.now()
    if change.enabled is True and endpoint.disabled_at is not None:
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.consecutive_failures = None, None, 0
    elif change.enabled is False and endpoint.disabled_at is None:
        endpoint.disabled_at, endpoint.disabled_reason = now, f"Disabled by {actor.subject}"
    endpoint.updated_at = now
    uow.audit("webhook_endpoint.update", "WebhookEndpoint", endpoint.id, before=before, after=_snapshot(endpoint))
    return endpoint


async def delete_endpoint(uow: UnitOfWork, actor: Principal, endpoint_id: uuid.UUID) -> models.WebhookEndpoint:
    """No more calls; its delivery log stays for the audit trail."""
    endpoint = await _endpoint(uow, actor, endpoint_id)
    before = _snapshot(endpoint)
    endpoint.deleted_at = endpoint.updated_at = uow.clock.now()
    uow.audit("webhook_endpoint.delete", "WebhookEndpoint", endpoint.id, before=before, after=_snapshot(endpoint))
    return endpoint


async def rotate_secret(
    uow: UnitOfWork, actor: Principal, endpoint_id: uuid.UUID, overlap: timedelta, *, seal: SecretSeal
) -> EndpointWithSecret:
    """A new secret (shown once); the old one signs beside it until the overlap ends, so a receiver
    can switch without losing a message (messages carry both signatures meanwhile)."""
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise BadInput(f"overlapHours must be between 0 and {int(MAX_OVERLAP.total_seconds() // 3600)}")
    endpoint = await _endpoint(uow, actor, endpoint_id)
    before = {"secretRotatedAt": None, "previousSecretUntil": _iso(endpoint.previous_secret_until)}
    now = uow.clock.now()
    secret = rules.new_secret(os.urandom(rules.SECRET_BYTES))
    # A secret sealed under an earlier GS_JWT_SECRET cannot sign any more: it is replaced without overlap.
    current = _open_or_none(seal, endpoint.id, endpoint.sealed_secret)
    keep = current is not None and overlap > timedelta(0)
    endpoint.sealed_previous_secret = seal.seal(endpoint.id, current) if keep else None
    endpoint.previous_secret_until = now + overlap if keep else None
    endpoint.sealed_secret = seal.seal(endpoint.id, secret)
    endpoint.updated_at = now
    uow.audit(
        "webhook_endpoint.rotate_secret",
        "WebhookEndpoint",
        endpoint.id,
        before=before,
        after={"secretRotatedAt": now.isoformat(), "previousSecretUntil": _iso(endpoint.previous_secret_until)},
    )
    return EndpointWithSecret(endpoint, secret)


async def replay(
    uow: UnitOfWork,
    actor: Principal,
    endpoint_id: uuid.UUID,
    *,
    event_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Send one event again, or every event of a time range, to the endpoint (those it may receive):
    each with the webhook-id it had, on a fresh retry schedule. Returns how many were queued."""
    endpoint = await _endpoint(uow, actor, endpoint_id)
    if endpoint.disabled_at is not None:
        raise IllegalTransition("The endpoint is disabled; enable it before replaying")
    if (event_id is None) == (since is None and until is None):
        raise BadInput("Give either eventId, or from and to")
    if event_id is not None:
        event = await queries.event(uow.db, event_id)
        if event is None or not _receives(endpoint, event):
            raise NotFound("No IntegrationEvent with that id for this endpoint")
        events = [event]
    else:
        if since is None or until is None or until <= since:
            raise BadInput("from and to must both be given, from before to")
        if until - since > MAX_REPLAY_SPAN:
            raise BadInput(f"A replay covers at most {MAX_REPLAY_SPAN.days} days")
        events = [
            e
            for e in await queries.events_between(uow.db, since, until, endpoint.event_types)
            if _receives(endpoint, e)
        ]
    now = uow.clock.now()
    await queries.add_deliveries(uow.db, [_delivery(endpoint, e, now) for e in events])
    queued = await queries.requeue(uow.db, endpoint.id, [e.id for e in events], now)
    uow.audit(
        "webhook_endpoint.replay",
        "WebhookEndpoint",
        endpoint.id,
        after={"eventIds": [str(e.id) for e in events][:1000], "queued": queued},
    )
    return queued


async def endpoint_of(db, actor: Principal, endpoint_id: uuid.UUID) -> models.WebhookEndpoint:
    require_scope(actor, Scope.INTEGRATIONS_WRITE)
    return visible_endpoint(actor, await queries.endpoint(db, endpoint_id))


async def endpoints(db, actor: Principal, window: Page) -> tuple[list[models.WebhookEndpoint], int]:
    require_scope(actor, Scope.INTEGRATIONS_WRITE)
    return await queries.endpoints_page(db, facilities_seen(actor), window)


@dataclass(frozen=True)
class DeliveryLog:
    """A delivery with its attempts, oldest first."""

    delivery: models.WebhookDelivery
    attempts: list[models.WebhookAttempt]


async def deliveries(
    db, endpoint: models.WebhookEndpoint, status: rules.DeliveryStatus | None, window: Page
) -> tuple[list[DeliveryLog], int]:
    """The endpoint's delivery log, newest event first, each delivery with its attempts (one statement for all)."""
    rows, total = await queries.deliveries_page(db, endpoint.id, status.value if status else None, window)
    attempts = await queries.attempts_by_delivery(db, [row.id for row in rows])
    return [DeliveryLog(row, logged) for row, logged in zip(rows, attempts, strict=True)], total


# ------------------------------------------------------------------ fan-out and attempts


def _receives(endpoint: models.WebhookEndpoint, event: models.IntegrationEvent) -> bool:
    facility = event.payload.get("facilityId") if isinstance(event.payload, dict) else None
    return rules.receives(
        event.type,
        str(facility) if facility else None,
        event_types=endpoint.event_types,
        facility_ids=endpoint.facility_ids,
        scopes=endpoint.scopes,
    )


def _delivery(endpoint: models.WebhookEndpoint, event: models.IntegrationEvent, now: datetime) -> dict:
    return {
        "id": uuid.uuid4(),
        "endpoint_id": endpoint.id,
        "event_id": event.id,
        "event_type": event.type,
        "occurred_at": event.occurred_at,
        "status": rules.DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
    }


async def fan_out(uow: UnitOfWork, events: Sequence[models.IntegrationEvent]) -> None:
    """One delivery per committed event and endpoint that receives it (the outbox feed runs this
    exactly once per event, in the transaction that advances its offset)."""
    receiving = await queries.receiving_endpoints(uow.db)
    now = uow.clock.now()
    rows = [
        _delivery(endpoint, event, now)
        for event in events
        for endpoint in receiving
        if event.id > endpoint.after_event_id and _receives(endpoint, event)
    ]
    await queries.add_deliveries(uow.db, rows)


@dataclass(frozen=True)
class Message:
    """One attempt's request: where, what, and the secrets that sign it."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    url: str
    msg_id: str
    body: bytes
    secrets: list[str]


async def claim_due(
    db, *, now: datetime, lease: timedelta, skip: Sequence[uuid.UUID], limit: int, seal: SecretSeal
) -> list[Message]:
    """Due messages, at most one per endpoint, each endpoint held for `lease` (a process that dies
    mid-attempt holds it no longer)."""
    claimed = await queries.claim_due(db, now, now + lease, skip, limit)
    messages = []
    for delivery, endpoint in claimed:
        event = await queries.event(db, delivery.event_id)
        payload = event.payload if event is not None else {}
        try:
            secrets = rules.secrets_in_use(
                seal.open(endpoint.id, endpoint.sealed_secret),
                _open_or_none(seal, endpoint.id, endpoint.sealed_previous_secret),
                endpoint.previous_secret_until,
                now,
            )
        except ValueError:
            # Sealed under another GS_JWT_SECRET: nothing can be signed until an admin rotates the
            # secret. The endpoint stays held until its hold ends; the others go on.
            log.error("webhook endpoint %s: its secret does not open; rotate it", endpoint.id)
            continue
        messages.append(
            Message(
                delivery_id=delivery.id,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                msg_id=rules.message_id(delivery.id),
                body=rules.message_body(delivery.event_id, delivery.event_type, delivery.occurred_at, payload),
                secrets=secrets,
            )
        )
    return messages


@dataclass(frozen=True)
class AttemptResult:
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None = None


async def record_attempt(uow: UnitOfWork, message: Message, result: AttemptResult, settings: Settings) -> None:
    """The log line, the delivery's next step on the schedule, and the endpoint's run of failures:
    an endpoint whose message fails its whole schedule with no success between is disabled, and its
    admins are told by a `webhook_endpoint_disabled` event."""
    db = uow.db
    endpoint = await queries.endpoint(db, message.endpoint_id, lock=True)
    delivery = await queries.lock_delivery(db, message.delivery_id)
    await queries.release(db, message.endpoint_id)
    if endpoint is None or delivery is None or delivery.status != rules.DeliveryStatus.PENDING:
        return
    succeeded = rules.is_success(result.status_code)
    delivery.attempts += 1
    endpoint.consecutive_failures = 0 if succeeded else endpoint.consecutive_failures + 1
    db.add(
        models.WebhookAttempt(
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            at=result.at,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error[:200] if result.error else None,
        )
    )
    outcome = rules.after_attempt(
        succeeded=succeeded,
        attempts=delivery.attempts,
        consecutive_failures=endpoint.consecutive_failures,
        now=result.at,
        base_seconds=settings.webhook_retry_base_seconds,
        max_attempts=settings.webhook_max_attempts,
        jitter=random.random(),  # spreads retries; not a secret
    )
    delivery.status = outcome.status.value
    delivery.next_attempt_at = outcome.next_attempt_at
    delivery.last_status_code = result.status_code
    if succeeded:
        delivery.delivered_at = result.at
    if outcome.disable_endpoint and endpoint.disabled_at is None:
        _disable(uow, endpoint, result.at)


def _disable(uow: UnitOfWork, endpoint: models.WebhookEndpoint, now: datetime) -> None:
    endpoint.disabled_at = now
    endpoint.disabled_reason = (
        f"{endpoint.consecutive_failures} attempts in a row failed, the last message's whole retry schedule"
    )
    facilities = endpoint.facility_ids or []
    uow.record_event(
        rules.ENDPOINT_DISABLED,
        {
            "endpointId": str(endpoint.id),
            "facilityId": facilities[0] if len(facilities) == 1 else None,
            "facilityIds": facilities,
            "consecutiveFailures": endpoint.consecutive_failures,
            "disabledAt": now.isoformat(),
        },
    )
    uow.audit(
        "webhook_endpoint.disable",
        "WebhookEndpoint",
        endpoint.id,
        after={"disabledAt": now.isoformat(), "reason": endpoint.disabled_reason},
    )
