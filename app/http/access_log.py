"""What the access log (uvicorn.access: client, method, path with query, version, status) may show of
a request's address: its path, and for the GraphQL endpoint the operation's name. Never a query string:
a GET to /graphql carries the document and its variables there (Apollo sends every hashed query by
GET), so a patient searched for by name landed in the log; a FHIR search carries names and dates of
birth the same way. A calendar feed's address keeps its parameters with the secret redacted
(app.http.calendar.RedactFeedSecrets), which the feed's owner needs to tell feeds apart."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs

GRAPHQL_PATH = "/graphql"
KEPT_QUERIES = ("/calendar/",)  # redacted by RedactFeedSecrets instead
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_NAMED_OPERATION = re.compile(r"\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]{0,99})")


def operation_name(query_string: str) -> str | None:
    """The GET's `operationName`, else the name its document gives its operation; only a GraphQL name."""
    params = parse_qs(query_string, keep_blank_values=True, max_num_fields=20)
    named = (params.get("operationName") or [""])[0]
    if _NAME.fullmatch(named):
        return named
    match = _NAMED_OPERATION.match((params.get("query") or [""])[0][:300])
    return match.group(1) if match else None


def logged_path(path: str) -> str:
    base, question, query_string = path.partition("?")
    if not question or base.startswith(KEPT_QUERIES):
        return path
    if base == GRAPHQL_PATH or base.startswith(GRAPHQL_PATH + "/"):
        name = operation_name(query_string)
        return f"{base}?operationName={name}" if name else base
    return base


class PathsWithoutQueries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], logged_path(args[2]), *args[3:])
        return True


def keep_queries_out_of_the_access_log(logger_name: str = "uvicorn.access") -> None:
    access = logging.getLogger(logger_name)
    if not any(isinstance(f, PathsWithoutQueries) for f in access.filters):
        access.addFilter(PathsWithoutQueries())
