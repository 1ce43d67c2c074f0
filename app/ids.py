"""Opaque global ids: base64 of "TypeName:uuid"."""

from __future__ import annotations

import base64
import binascii
import uuid
from functools import lru_cache

from app.errors import BadInput


@lru_cache(maxsize=65536)  # a page names the same rows in many fields and many requests
def encode_id(type_name: str, pk: uuid.UUID | str | int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def split_id(global_id: str) -> tuple[str, str]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput(f"Malformed id {global_id[:64]!r}") from None
    if not type_name or not raw:
        raise BadInput(f"Malformed id {global_id[:64]!r}")
    return type_name, raw


def payload_uuid(value: object, expected_type: str) -> uuid.UUID:
    """An id in an event payload: producers send raw UUIDs, and a global id names the same row.
    Raises ValueError when it is neither (or a global id of another type)."""
    text = str(value)
    try:
        return uuid.UUID(text)
    except ValueError:
        kind, raw = split_id(text)
        if kind != expected_type:
            raise ValueError(f"expected a {expected_type} id") from None
        return uuid.UUID(raw)


def decode_id(global_id: str, expected_type: str) -> uuid.UUID:
    type_name, raw = split_id(global_id)
    if type_name != expected_type:
        raise BadInput(f"Expected a {expected_type} id, got a {type_name} id")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadInput(f"Malformed id {global_id[:64]!r}") from None


# The node type of each id key event payloads use, the same key in every event type.
EVENT_ID_TYPES = {
    "facilityId": "Facility",
    "groupId": "GroupDefinition",
    "occurrenceId": "GroupOccurrence",
    "facilitatorId": "Staff",
    "coFacilitatorId": "Staff",
    "enrollmentId": "Enrollment",
    "patientId": "Patient",
    "sessionId": "GroupSession",
    "sessionIds": "GroupSession",
    "clearedBySessionId": "GroupSession",
    "chargeIds": "Charge",
    "claimIds": "Claim",
    "claimId": "Claim",
    "endpointId": "WebhookEndpoint",
}


def with_global_ids(payload: dict) -> dict:
    """The payload with `globalIds`: each raw id it carries (kept for existing readers) as the
    global id the API uses, which `node(id:)` resolves, under the same key."""
    found: dict[str, object] = {}
    for key, type_name in EVENT_ID_TYPES.items():
        value = payload.get(key)
        if isinstance(value, list):
            found[key] = [encode_id(type_name, v) for v in value]
        elif value:
            found[key] = encode_id(type_name, value)
    return {**payload, "globalIds": found}
