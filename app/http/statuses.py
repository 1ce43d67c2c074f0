"""The endpoint's HTTP statuses and error bodies, as the GraphQL-over-HTTP spec has them: which
status a result gets for which client, and the shape of an error answered before execution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from app.errors import CONFLICT_CODES, ErrorCode
from app.http.bodies import MAX_BODY_BYTES
from app.http.negotiation import GRAPHQL_RESPONSE_JSON, JSON, content_type
from app.http.persisted_queries import NOT_FOUND_CODE
from app.schema.errors import BUSY_MESSAGE, RETRY_AFTER_SECONDS, busy_extensions, error_code

# Errors of the request as a whole (no field ran): the document, its variables, the parameters.
REQUEST_ERROR_CODES = frozenset({ErrorCode.BAD_USER_INPUT.value, ErrorCode.QUERY_TOO_COMPLEX.value, NOT_FOUND_CODE})


def error_body(code: str, message: str) -> dict:
    """A request error: no `data` entry, as the GraphQL spec has it for errors before execution."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def error_response(
    status: int, code: str, message: str, media_type: str = JSON, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message), status_code=status, headers=headers, media_type=content_type(media_type)
    )


def request_error_response(media_type: str, code: str, message: str) -> JSONResponse:
    """A GraphQL request error on a well-formed request: 400 for a client that accepts the GraphQL
    response media type, 200 with the error in the body for an application/json client."""
    status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
    return error_response(status, code, message, media_type)


def too_large(media_type: str) -> JSONResponse:
    return error_response(413, ErrorCode.BAD_USER_INPUT.value, f"Request body over {MAX_BODY_BYTES} bytes", media_type)


def busy_response(media_type: str) -> JSONResponse:
    """No database connection was free: nothing was done, send it again after Retry-After."""
    return JSONResponse(
        {"errors": [{"message": BUSY_MESSAGE, "extensions": busy_extensions()}]},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        media_type=content_type(media_type),
    )


def is_request_error(result: Any) -> bool:
    """No field ran: the document did not parse or validate, its variables did not coerce, or a
    request parameter was wrong (the GraphQL spec's request errors)."""
    return (
        result.data is None
        and all(e.path is None for e in result.errors)
        and {error_code(e) for e in result.errors} <= REQUEST_ERROR_CODES
    )


def status_for(result: Any, media_type: str, operation_type: str | None) -> int | None:
    """Non-2xx only for a client that accepts the GraphQL response media type, and only when there
    is no data: 400 for a request error, 409 for a mutation refused by a conflict code. Busy (no
    free database connection: nothing was done, send it again after Retry-After) is 503 for every
    client, as a server condition rather than the result of the operation."""
    if any((e.extensions or {}).get("retryable") for e in result.errors):
        return 503
    if media_type != GRAPHQL_RESPONSE_JSON or result.data is not None:
        return None
    if is_request_error(result):
        return 400
    codes = {error_code(e) for e in result.errors}
    if operation_type == "mutation" and codes & {c.value for c in CONFLICT_CODES}:
        return 409
    return None
