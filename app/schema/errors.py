"""The one place that turns any error into a GraphQL error with `extensions.code`."""

from __future__ import annotations

import logging
import re
import traceback

from graphql import GraphQLError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from app.errors import DomainError, ErrorCode

log = logging.getLogger("app.errors")

# Messages of the query-limit validators (depth, aliases, tokens) in strawberry and graphql-core.
_TOO_COMPLEX_MARKERS = (
    "exceeds maximum operation depth",
    "aliases found",
    "Document contains more than",
    "Document expands to more than",
    "Maximum introspection depth exceeded",
)


# PostgreSQL's data exceptions (SQLSTATE class 22): a value the caller sent does not fit its column.
# Their own messages may quote the value, so each gets a fixed message instead.
_DATA_PROBLEMS = {
    "22001": "A text value is longer than its field allows",
    "22021": "Text may not contain NUL (\\u0000) or other characters that cannot be stored",
    "22P05": "Text may not contain NUL (\\u0000) or other characters that cannot be stored",
    "22003": "A number is out of range for its field",
    "22008": "A date or time is out of range",
}


def data_problem(original: BaseException | None) -> str | None:
    """Why the database refused a value the caller sent, or None when the fault is not the caller's."""
    sqlstate = str(getattr(getattr(original, "orig", None), "sqlstate", "") or "")
    if not sqlstate.startswith("22"):
        return None
    problem = _DATA_PROBLEMS.get(sqlstate, "A value is out of range or not valid for its field")
    limit = re.search(r"character varying\((\d+)\)", str(getattr(original, "orig", "")))
    if sqlstate == "22001" and limit:
        problem += f" (at most {limit.group(1)} characters)"
    elif "out of int" in str(getattr(original, "orig", "")):
        problem = _DATA_PROBLEMS["22003"]
    return problem


# No database connection came free within the pool timeout: the request did nothing and may simply
# be sent again. The contract has no "busy" code; CONFLICT is the one whose meaning fits (other
# requests hold what this one needs) and that clients already retry, `retryable: true` says so, and
# the HTTP answer is 503 with Retry-After (app.http.statuses). INTERNAL would read as our fault, never to retry.
BUSY_MESSAGE = "The server is busy (no database connection was free); nothing was done, retry shortly"
RETRY_AFTER_SECONDS = 2


# PostgreSQL ended the transaction to free another (deadlock_detected) or could not serialize it
# (serialization_failure): it was rolled back whole, and the same request sent again can succeed.
ROLLED_BACK_MESSAGE = (
    "The request met another one changing the same records and was rolled back; nothing was done, retry shortly"
)
_ROLLED_BACK_STATES = frozenset({"40P01", "40001"})


def is_pool_timeout(original: BaseException | None) -> bool:
    return isinstance(original, PoolTimeout)


def was_rolled_back_for_another(original: BaseException | None) -> bool:
    return str(getattr(getattr(original, "orig", None), "sqlstate", "") or "") in _ROLLED_BACK_STATES


def busy_extensions() -> dict:
    return {"code": ErrorCode.CONFLICT.value, "retryable": True, "retryAfterSeconds": RETRY_AFTER_SECONDS}


def is_unique_violation(original: BaseException | None) -> bool:
    """Two requests raced to create the same record; the second is a CONFLICT, not a fault."""
    return str(getattr(getattr(original, "orig", None), "sqlstate", "") or "") == "23505"


# How strawberry refuses a request before executing it over a stream (no query, an unknown
# operationName, an operation type the transport does not carry): the caller's request is at fault.
_REQUEST_REFUSALS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def _callers_values(original: BaseException | None) -> bool:
    """An error outside any field is the caller's when nothing raised it (parse, validation), a
    scalar raised it reading the caller's value, or strawberry refused the request; anything else (a
    database or connection error in an extension hook) is a server fault."""
    return original is None or isinstance(
        original, (GraphQLError, ValueError, TypeError, ArithmeticError, *_REQUEST_REFUSALS)
    )


def error_code(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def classify(error: GraphQLError, request_id: str | None) -> GraphQLError:
    if error_code(error):
        return error
    original = error.original_error
    if isinstance(original, DomainError):
        code, message = original.code, original.message
    elif isinstance(original, GraphQLError) and error_code(original):
        return original
    elif is_pool_timeout(original) or was_rolled_back_for_another(original):
        if not is_pool_timeout(original):
            log.warning(
                "request rolled back by the database request_id=%s path=%s sqlstate=%s",
                request_id,
                ".".join(str(p) for p in error.path or ()),
                original.orig.sqlstate,  # type: ignore[union-attr]
            )
        return GraphQLError(
            BUSY_MESSAGE if is_pool_timeout(original) else ROLLED_BACK_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=original,
            extensions=busy_extensions(),
        )
    elif (problem := data_problem(original)) is not None:
        code, message = ErrorCode.BAD_USER_INPUT, problem
    elif is_unique_violation(original):
        code, message = ErrorCode.CONFLICT, "That record already exists: a concurrent request created it first"
    elif error.path is None and _callers_values(original):
        # Parse, validation and variable-coercion errors: the caller's document is at fault.
        too_complex = any(marker in error.message for marker in _TOO_COMPLEX_MARKERS)
        code = ErrorCode.QUERY_TOO_COMPLEX if too_complex else ErrorCode.BAD_USER_INPUT
        message = error.message
    else:
        # Log the type and stack, never the message: drivers put row values (names, DOBs) in theirs.
        frames = (
            "\n".join(f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(original.__traceback__))
            if original
            else ""
        )
        log.error(
            "internal error request_id=%s path=%s type=%s\n%s",
            request_id,
            ".".join(str(p) for p in error.path or ()),
            type(original).__name__ if original else "GraphQLError",
            frames,
        )
        code, message = ErrorCode.INTERNAL, "Internal server error"
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions={"code": code.value, **({"requestId": request_id} if code == ErrorCode.INTERNAL else {})},
    )


def classify_in_place(errors: list[GraphQLError], execution_context) -> None:
    """Give every error its code (called once per result by Schema.process_errors)."""
    context = getattr(execution_context, "context", None)
    request_id = getattr(context, "request_id", None)
    if context is not None:
        try:
            context.operation_type = execution_context.operation_type.value
        except Exception:  # noqa: BLE001 - an unparsable document has no operation type
            pass
    errors[:] = [classify(e, request_id) for e in errors]
