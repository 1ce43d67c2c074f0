"""The one place that turns any error into a GraphQL error with `extensions.code`."""
from __future__ import annotations

import logging
import traceback
from graphql import GraphQLError

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
    elif error.path is None:
        # Parse, validation and variable-coercion errors: the caller's document is at fault.
        too_complex = any(marker in error.message for marker in _TOO_COMPLEX_MARKERS)
        code = ErrorCode.QUERY_TOO_COMPLEX if too_complex else ErrorCode.BAD_USER_INPUT
        message = error.message
    else:
        # Log the type and stack, never the message: drivers put row values (names, DOBs) in theirs.
        frames = "\n".join(
            f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(original.__traceback__)
        ) if original else ""
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
