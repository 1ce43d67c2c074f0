"""Domain errors: one type per error code of rules.md §3 that the domain raises (QUERY_TOO_COMPLEX
is the API's own: its limits refuse a document before any resolver runs)."""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    LOCKED = "LOCKED"
    CONFLICT = "CONFLICT"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    INTERNAL = "INTERNAL"


# A failed mutation with one of these codes answers HTTP 409.
CONFLICT_CODES = frozenset({ErrorCode.ILLEGAL_TRANSITION, ErrorCode.LOCKED, ErrorCode.CONFLICT})


class DomainError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class BadInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class IllegalTransition(DomainError):
    code = ErrorCode.ILLEGAL_TRANSITION


class Locked(DomainError):
    code = ErrorCode.LOCKED


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class OverLimit(DomainError):
    """A caller's limit on what it runs at once (subscriptions, their distinct documents, sockets)."""

    code = ErrorCode.QUERY_TOO_COMPLEX


def error_for(code: ErrorCode, message: str) -> DomainError:
    """The domain error of a code a rule decided on (rules return codes; operations raise)."""
    for error_type in DomainError.__subclasses__():
        if error_type.code == code:
            return error_type(message)
    raise ValueError(f"no domain error for {code}")
