"""Calendar feeds over HTTP: GET /calendar/groups/<id>.ics?token=… and /calendar/staff/<id>.ics?token=…

Google Calendar, Outlook and Apple Calendar subscribe to these URLs and poll them; they cannot send
a bearer header, so the feed's secret in the URL is the whole credential. Anything that is not a
live feed of that id (no or unknown secret, a revoked one, a secret of another feed, a malformed
id, a deleted group) answers the same 404, so the URL space reveals nothing. A client that sends
the ETag it has (If-None-Match) gets 304 while the schedule is unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.errors import BadInput
from app.ids import decode_id
from app.operations.calendars import feed_document
from app.operations.work import Services
from app.rules.calendar import FEED_FOLDERS, FeedKind, entity_tag, etag_matches, render_calendar

CACHE_CONTROL = "private, max-age=300"  # a secret URL: no shared cache keeps it
MAX_TOKEN_LENGTH = 200


SECRET_IN_QUERY = re.compile(r"([?&]token=)[^&\s]*")


class RedactFeedSecrets(logging.Filter):
    """Access-log lines (uvicorn.access: client, method, path with query, version, status) show a
    feed's address without its secret: whoever reads the logs must not be able to subscribe."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "token=" in args[2]:
            record.args = (*args[:2], SECRET_IN_QUERY.sub(r"\1<redacted>", args[2]), *args[3:])
        return True


def redact_feed_secrets(logger_name: str = "uvicorn.access") -> None:
    access = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactFeedSecrets) for f in access.filters):
        access.addFilter(RedactFeedSecrets())


class Rendered:
    """The last feeds rendered, by ETag: clients that poll without If-None-Match (some do) get the
    same bytes without another render. Process-local, bounded."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()

    def get(self, tag: str) -> bytes | None:
        body = self._bodies.get(tag)
        if body is not None:
            self._bodies.move_to_end(tag)
        return body

    def put(self, tag: str, body: bytes) -> None:
        self._bodies[tag] = body
        self._bodies.move_to_end(tag)
        while len(self._bodies) > self.size:
            self._bodies.popitem(last=False)


RENDERED = Rendered()


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404, headers={"Cache-Control": "no-store"})


def _subject(name: str, type_name: str) -> uuid.UUID | None:
    if not name.endswith(".ics"):
        return None
    try:
        return decode_id(name.removesuffix(".ics"), type_name)
    except BadInput:
        return None


async def _feed(request: Request, kind: FeedKind, type_name: str) -> Response:
    subject = _subject(request.path_params["name"], type_name)
    token = request.query_params.get("token") or ""
    if subject is None or not token or len(token) > MAX_TOKEN_LENGTH:
        return _not_found()
    services: Services = request.app.state.services
    async with services.sessionmaker() as db:
        document = await feed_document(db, kind, subject, token, services.clock.now())
    if document is None:
        return _not_found()
    tag = entity_tag(document)
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    body = RENDERED.get(tag)
    if body is None:
        body = await asyncio.to_thread(render_calendar, document)  # a long feed must not hold the event loop
        RENDERED.put(tag, body)
    headers["Content-Disposition"] = f'inline; filename="{kind.value.lower()}.ics"'
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


async def group_feed(request: Request) -> Response:
    return await _feed(request, FeedKind.GROUP, "GroupDefinition")


async def staff_feed(request: Request) -> Response:
    return await _feed(request, FeedKind.STAFF, "Staff")


CALENDAR_ROUTES = [
    Route(f"/calendar/{FEED_FOLDERS[FeedKind.GROUP]}/{{name}}", group_feed, methods=["GET"]),
    Route(f"/calendar/{FEED_FOLDERS[FeedKind.STAFF]}/{{name}}", staff_feed, methods=["GET"]),
]
