"""The media type of a GraphQL-over-HTTP answer, chosen from the request's Accept header."""

from __future__ import annotations

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
LEGACY_GRAPHQL_JSON = "application/graphql+json"  # an earlier draft's name; urql still sends it
JSON_TYPES = (GRAPHQL_RESPONSE_JSON, LEGACY_GRAPHQL_JSON, JSON)


def accepted_qualities(accept: str | None) -> dict[str, float]:
    """Each media range an Accept header names, lower-cased, with its quality (`q`, default 1)."""
    qualities: dict[str, float] = {}
    for part in (accept or "").split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        if not media_range:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        key = media_range.lower()
        qualities[key] = max(quality, qualities.get(key, 0.0))
    return qualities


def response_media_type(accept: str | None) -> str:
    """`application/graphql-response+json` when the client names it and likes it at least as much as
    `application/json`; otherwise `application/json`, also for `*/*`, `application/*` or no Accept at
    all, as the GraphQL-over-HTTP spec asks while older clients are around."""
    qualities = accepted_qualities(accept)
    graphql_response = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    if graphql_response > 0 and graphql_response >= qualities.get(JSON, 0.0):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def accepts_json(accept: str | None) -> bool:
    """Whether the client takes a JSON answer: it names a JSON media type by name."""
    qualities = accepted_qualities(accept)
    return any(qualities.get(media_type, 0.0) > 0 for media_type in JSON_TYPES)


def content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE_JSON else media_type
