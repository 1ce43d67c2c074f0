"""Bearer JWTs (HS256) and the principal they carry (rules.md §2)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from app.errors import BadInput, Unauthenticated
from app.ids import split_id
from app.rules.scopes import ALL_SCOPES, FACILITATOR_SCOPES, Scope

__all__ = [
    "ALL_SCOPES",
    "FACILITATOR_SCOPES",
    "Principal",
    "Scope",
    "mint_display_token",
    "mint_token",
    "principal_from_header",
    "principal_from_token",
]

ALL_FACILITIES = "*"


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    facilities: tuple[str, ...]  # raw facility UUIDs as strings, or ("*",)
    expires_at: float | None = None  # the token's `exp` (seconds since the epoch)
    # A paired room display's credential: which display, and which generation of its credential.
    display_id: str | None = None
    credential_generation: int | None = None
    issued_at: float | None = None
    # SMART's launch context: the patient a `patient/…` scope is about (a raw uuid or a Patient global id).
    patient: str | None = None

    @property
    def is_display(self) -> bool:
        return self.display_id is not None

    @property
    def all_facilities(self) -> bool:
        return ALL_FACILITIES in self.facilities

    @property
    def home_facility(self) -> str | None:
        for facility in self.facilities:
            if facility != ALL_FACILITIES:
                return facility
        return None

    @property
    def facility_uuids(self) -> list[uuid.UUID]:
        """The named facilities as UUIDs (nothing for an all-facility token: check all_facilities first)."""
        out = []
        for value in self.facilities:
            try:
                out.append(uuid.UUID(value))
            except ValueError:
                continue
        return out

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (time.time() if now is None else now) >= self.expires_at

    @property
    def staff_id(self) -> uuid.UUID | None:
        """The staff member the token acts as (its `sub`, a raw uuid or a Staff global id), if it is one."""
        try:
            return uuid.UUID(self.subject)
        except ValueError:
            pass
        try:
            type_name, raw = split_id(self.subject)
            return uuid.UUID(raw) if type_name == "Staff" else None
        except (BadInput, ValueError):
            return None

    def has_scope(self, scope: Scope | str) -> bool:
        return scope in self.scopes

    def sees_facility(self, facility_id: object) -> bool:
        return self.all_facilities or str(facility_id) in self.facilities


def mint_token(
    secret: str,
    subject: str,
    scopes: list[str] | tuple[str, ...],
    facilities: list[str] | tuple[str, ...],
    ttl_seconds: int = 12 * 3600,
) -> str:
    now = int(time.time())
    claims = {
        "sub": subject,
        "scopes": [str(s) for s in scopes],
        "facilities": list(facilities),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_display_token(secret: str, display_id: str, facility_id: str, generation: int, ttl_seconds: int) -> str:
    """A room display's device credential: display scope, its one facility, never more."""
    issued_at = int(time.time())
    claims = {
        "sub": f"display:{display_id}",
        "scopes": [str(Scope.DISPLAY)],
        "facilities": [facility_id],
        "display": display_id,
        "gen": generation,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def principal_from_header(secret: str, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthenticated("Missing bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    return principal_from_token(secret, token.strip())


def principal_from_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Token expired") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("Invalid token") from None
    scopes = claims.get("scopes", [])
    facilities = claims.get("facilities", [])
    if not isinstance(scopes, list) or not isinstance(facilities, list):
        raise Unauthenticated("Invalid token claims")
    display = claims.get("display")
    if display is not None:
        # A display's credential carries the display scope whatever else its claims say.
        if (
            not isinstance(display, str)
            or not isinstance(claims.get("gen"), int)
            or len(facilities) != 1
            or facilities[0] == ALL_FACILITIES
        ):
            raise Unauthenticated("Invalid token claims")
        scopes = [Scope.DISPLAY]
    return Principal(
        subject=str(claims["sub"]),
        scopes=frozenset(str(s) for s in scopes),
        facilities=tuple(_facility_key(str(f)) for f in facilities),
        expires_at=float(claims["exp"]),
        display_id=display,
        credential_generation=claims.get("gen") if display is not None else None,
        issued_at=float(claims["iat"]) if isinstance(claims.get("iat"), (int, float)) else None,
        patient=claims["patient"] if isinstance(claims.get("patient"), str) and display is None else None,
    )


def _facility_key(value: str) -> str:
    """Tokens may name facilities by global id or raw uuid; keep the raw uuid."""
    if value == ALL_FACILITIES:
        return value
    try:
        type_name, raw = split_id(value)
        if type_name == "Facility":
            return raw
    except BadInput:
        pass
    return value
