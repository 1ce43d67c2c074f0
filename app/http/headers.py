"""What every answer of the GraphQL endpoint carries: its request id, `no-store`, and the media type
that content negotiation chose."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Send

from app.http.negotiation import GRAPHQL_RESPONSE_JSON, JSON, content_type

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(given: str | None) -> str:
    """The caller's X-Request-Id when it is a plain token, so logs can be joined; else a new one."""
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex[:16]


def answering(send: Send, media_type: str, request_id: str) -> Send:
    """Every answer of the endpoint names its request id, is never cached (it carries patient data),
    and a JSON answer is labelled with the negotiated media type."""

    async def answer(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers[REQUEST_ID_HEADER] = request_id
            if "cache-control" not in headers:
                headers["Cache-Control"] = "no-store"
            if media_type == GRAPHQL_RESPONSE_JSON and headers.get("content-type", "").startswith(JSON):
                headers["Content-Type"] = content_type(GRAPHQL_RESPONSE_JSON)
        await send(message)

    return answer
