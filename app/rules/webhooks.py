"""Webhooks (the Standard Webhooks specification): which events an endpoint may receive, the signed
message, the retry schedule, when an endpoint is disabled, and which addresses may be called."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from app.rules.scopes import Scope

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64 random bytes
MESSAGE_ID_PREFIX = "msg_"
SIGNATURE_VERSION = "v1"
ENDPOINT_DISABLED = "webhook_endpoint_disabled"
MAX_URL_LENGTH = 2000
# The retry schedule: attempt n waits base × 4^(n-1), at most base × 960 (8 hours at the default
# 30 s), stretched by up to a quarter at random so endpoints that failed together do not retry together.
BACKOFF_FACTOR = 4
BACKOFF_CAP = 960
JITTER = 0.25

# Every event an endpoint may subscribe to, and the scope its payload needs beside events.read:
# the scope that reads the same records in the API (minimum necessary, as the event feed).
EVENT_SCOPES: Mapping[str, Scope] = {
    "pm_group_session_scheduled": Scope.GROUP_SCHEDULE_VIEW,
    "pm_group_session_updated": Scope.GROUP_SCHEDULE_VIEW,
    "pm_group_session_cancelled": Scope.GROUP_SCHEDULE_VIEW,
    "pm_group_enrollment_enrolled": Scope.ENROLLMENTS_VIEW,
    "pm_group_enrollment_waitlisted": Scope.ENROLLMENTS_VIEW,
    "pm_group_enrollment_promoted": Scope.ENROLLMENTS_VIEW,
    "pm_group_enrollment_disenrolled": Scope.ENROLLMENTS_VIEW,
    "pm_group_enrollment_removed": Scope.ENROLLMENTS_VIEW,
    "group_session_documented": Scope.BILLING_READ,
    # The payer's answers (app.operations.remittance): amounts and denial reasons, for billing.read only.
    "claim_accepted": Scope.BILLING_READ,
    "claim_rejected": Scope.BILLING_READ,
    "claim_paid": Scope.BILLING_READ,
    "claim_denied": Scope.BILLING_READ,
    "claim_reversed": Scope.BILLING_READ,
    "pm_group_attendance_alert": Scope.SESSION_READ,
    "eligibility_checked": Scope.BILLING_READ,
    "prior_authorization_expiring": Scope.BILLING_READ,
    ENDPOINT_DISABLED: Scope.INTEGRATIONS_WRITE,
}


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its next attempt (or in one)
    SUCCEEDED = "SUCCEEDED"  # the endpoint answered 2xx
    FAILED = "FAILED"  # every attempt of the schedule failed; a replay queues it again


# ------------------------------------------------------------------ what an endpoint may receive


def scopes_needed(event_types: Iterable[str]) -> set[str]:
    """The scopes a token must hold to subscribe an endpoint to these event types: each type's, and
    events.read for any event of the feed (an endpoint's own disabling is news for its admins alone)."""
    types = set(event_types)
    feed = {Scope.EVENTS_READ.value} if types - {ENDPOINT_DISABLED} else set()
    return feed | {EVENT_SCOPES[t].value for t in types}


def event_types_problem(event_types: Sequence[str]) -> str | None:
    if not event_types:
        return "eventTypes must name at least one event type"
    unknown = sorted(set(event_types) - set(EVENT_SCOPES))
    if unknown:
        return f"Unknown event type {unknown[0]!r}; known: {', '.join(sorted(EVENT_SCOPES))}"
    return None


def receives(
    event_type: str,
    facility_id: str | None,
    *,
    event_types: Sequence[str],
    facility_ids: Sequence[str] | None,
    scopes: Iterable[str],
) -> bool:
    """Whether an endpoint (subscribed to `event_types`, filtered to `facility_ids`, None = every
    facility, holding `scopes`) gets an event. An event that names no facility goes only to
    endpoints of every facility, as the event feed shows it only to all-facility callers."""
    if event_type not in event_types or event_type not in EVENT_SCOPES:
        return False
    if not scopes_needed([event_type]) <= set(scopes):
        return False
    if facility_ids is None:
        return True
    return facility_id is not None and facility_id in facility_ids


# ------------------------------------------------------------------ the signed message


def new_secret(random_bytes: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def message_id(delivery_id: object) -> str:
    """The `webhook-id`: one per (endpoint, event), the same on every retry and replay."""
    return f"{MESSAGE_ID_PREFIX}{delivery_id}"


def message_body(event_id: int, event_type: str, occurred_at: datetime, payload: Mapping) -> bytes:
    """The body the specification suggests (type, timestamp, data), with the outbox event's id."""
    document = {"type": event_type, "timestamp": occurred_at.isoformat(), "eventId": str(event_id), "data": payload}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's key."""
    digest = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures, one per secret in use (during a rotation's overlap, two)."""
    return " ".join(signature(s, msg_id, timestamp, body) for s in secrets)


def headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
    }


def secrets_in_use(current: str, previous: str | None, previous_until: datetime | None, now: datetime) -> list[str]:
    """The secrets a message is signed with: the current one, and the one it replaced until its overlap ends."""
    if previous is not None and previous_until is not None and now < previous_until:
        return [current, previous]
    return [current]


# ------------------------------------------------------------------ retries and disabling


def retry_delay(attempts: int, base_seconds: float, jitter: float) -> timedelta:
    """The wait after the `attempts`-th failed attempt; `jitter` is a number in [0, 1)."""
    nominal = base_seconds * min(BACKOFF_FACTOR ** (attempts - 1), BACKOFF_CAP)
    return timedelta(seconds=nominal * (1 + JITTER * jitter))


def schedule_span(base_seconds: float, max_attempts: int) -> timedelta:
    """How long the retries of one message last without jitter (first attempt to last)."""
    return sum((retry_delay(n, base_seconds, 0.0) for n in range(1, max_attempts)), timedelta(0))


@dataclass(frozen=True)
class AttemptOutcome:
    succeeded: bool
    status: DeliveryStatus
    next_attempt_at: datetime | None
    disable_endpoint: bool


def after_attempt(
    *,
    succeeded: bool,
    attempts: int,
    consecutive_failures: int,
    now: datetime,
    base_seconds: float,
    max_attempts: int,
    jitter: float,
) -> AttemptOutcome:
    """What an attempt leads to. A failure is retried on the schedule; the last failure of the
    schedule gives the message up, and disables the endpoint when no attempt succeeded in between
    (`consecutive_failures` counts this one)."""
    if succeeded:
        return AttemptOutcome(True, DeliveryStatus.SUCCEEDED, None, False)
    if attempts < max_attempts:
        return AttemptOutcome(False, DeliveryStatus.PENDING, now + retry_delay(attempts, base_seconds, jitter), False)
    return AttemptOutcome(False, DeliveryStatus.FAILED, None, consecutive_failures >= max_attempts)


def is_success(status_code: int | None) -> bool:
    """2xx only: a redirect is not followed and counts as a failure."""
    return status_code is not None and 200 <= status_code < 300


# ------------------------------------------------------------------ where requests may go


def url_problem(url: str) -> str | None:
    """A URL an endpoint may have: absolute http(s), a host, no credentials, no fragment."""
    if not url or len(url) > MAX_URL_LENGTH or not url.isprintable() or " " in url:
        return f"url must be an absolute http(s) URL of at most {MAX_URL_LENGTH} characters"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "url must be an absolute http(s) URL"
    if parts.username or parts.password:
        return "url must not carry credentials"
    if parts.fragment:
        return "url must not have a fragment"
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "url has an invalid port"
    return None


def networks(cidrs: Iterable[str]) -> tuple["Network", ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _forms(address: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address, and the IPv4 address an IPv6 one wraps (mapped or 6to4), if any."""
    ip = ipaddress.ip_address(address)
    wrapped = getattr(ip, "ipv4_mapped", None) or getattr(ip, "sixtofour", None)
    return [ip] + ([wrapped] if wrapped is not None else [])


def allowed_by_setting(address: str, allowed: Sequence[Network]) -> bool:
    return any(form in net for form in _forms(address) for net in allowed if form.version == net.version)


def address_problem(address: str, allowed: Sequence[Network] = ()) -> str | None:
    """Why a request must not go to `address`: private, loopback, link-local, IPv6 site-local (fec0::/10,
    deprecated but still routed inside some networks, and global to Python), multicast, reserved or
    unspecified ranges (and IPv4 addresses wrapped in IPv6), unless a network of `allowed` holds it."""
    if allowed_by_setting(address, allowed):
        return None
    for candidate in reversed(_forms(address)):  # the wrapped IPv4 address names the range best
        for label, flag in (
            ("unspecified", candidate.is_unspecified),
            ("loopback", candidate.is_loopback),
            ("link-local", candidate.is_link_local),
            ("site-local", getattr(candidate, "is_site_local", False)),  # IPv6 only
            ("multicast", candidate.is_multicast),
            ("private", candidate.is_private),
            ("reserved", candidate.is_reserved),
        ):
            if flag:
                return f"{address} is a {label} address"
        if not candidate.is_global:
            return f"{address} is not a public address"
    return None


def scheme_problem(url: str, addresses: Sequence[str], allowed: Sequence[Network]) -> str | None:
    """Plain http only to addresses the operator allowed (a receiver inside their own network)."""
    if urlsplit(url).scheme == "http" and not all(allowed_by_setting(a, allowed) for a in addresses):
        return "url must use https"
    return None
