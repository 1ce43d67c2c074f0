"""Calendar feeds as RFC 5545 documents (rendered by the icalendar library): one VEVENT per
occurrence, in the facility's zone with its VTIMEZONE (yearly rules, app/rules/vtimezone.py), and
nothing about patients."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo

import icalendar

from app.rules.vtimezone import vtimezone

PRODID = "-//Group Sessions API//Calendar feed 1.0//EN"
RENDERER = 2  # bump when render_calendar's output changes for the same document, so every ETag changes
UID_DOMAIN = "group-sessions"
REFRESH = timedelta(hours=1)  # what the feed asks clients to poll at (Outlook, Apple; Google polls on its own)


class FeedKind(StrEnum):
    GROUP = "GROUP"
    STAFF = "STAFF"


FEED_FOLDERS = {FeedKind.GROUP: "groups", FeedKind.STAFF: "staff"}


def feed_path(kind: FeedKind, subject_global_id: str) -> str:
    """Where a feed is served (app/http/calendar.py); its secret goes in the `token` query parameter."""
    return f"/calendar/{FEED_FOLDERS[kind]}/{subject_global_id}.ics"


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence as a calendar shows it: the group's name and room, the times, the state."""

    occurrence_id: uuid.UUID
    summary: str
    location: str | None
    description: str | None
    starts_at: datetime
    ends_at: datetime
    cancelled: bool
    sequence: int
    created_at: datetime
    updated_at: datetime
    category: str | None = None


@dataclass(frozen=True)
class CalendarDocument:
    name: str
    timezone: str  # the facility's IANA zone
    events: Sequence[CalendarEvent]
    today: date  # in the facility's zone: the VTIMEZONE of an empty feed covers the years around it


def event_uid(occurrence_id: uuid.UUID) -> str:
    """Stable across every fetch and every change: calendar clients match updates and cancellations on it."""
    return f"{occurrence_id}@{UID_DOMAIN}"


def render_calendar(document: CalendarDocument) -> bytes:
    """The VCALENDAR. No METHOD: each DTSTAMP is then the last revision of its event (RFC 5545
    3.8.7.2), so the same schedule renders to the same bytes and the ETag only moves on a change."""
    zone = ZoneInfo(document.timezone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", document.name)
    calendar.add("x-wr-calname", document.name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))  # unknown to the library: typed by hand
    calendar.add_component(_zone(document.timezone, *_span(document)))
    for item in sorted(document.events, key=lambda e: (e.starts_at, str(e.occurrence_id))):
        calendar.add_component(_event(item, zone))
    return calendar.to_ical()


def _event(item: CalendarEvent, zone: ZoneInfo) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", event_uid(item.occurrence_id))
    event.add("dtstamp", item.updated_at.astimezone(timezone.utc))
    event.add("created", item.created_at.astimezone(timezone.utc))
    event.add("last-modified", item.updated_at.astimezone(timezone.utc))
    event.add("sequence", item.sequence)
    event.add("dtstart", item.starts_at.astimezone(zone))
    event.add("dtend", item.ends_at.astimezone(zone))
    event.add("summary", item.summary)
    if item.location:
        event.add("location", item.location)
    if item.description:
        event.add("description", item.description)
    if item.category:
        event.add("categories", [item.category])
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


@functools.lru_cache(maxsize=64)
def _zone(timezone_name: str, first: date, last: date) -> icalendar.Timezone:
    """The VTIMEZONE of a zone over those years (only read afterwards): building one takes 5 to 25
    ms, and every feed of a facility asks for the same."""
    return vtimezone(timezone_name, first, last)


def _span(document: CalendarDocument) -> tuple[date, date]:
    """The years the VTIMEZONE describes: those of the events, with a year either side."""
    starts = [e.starts_at.date() for e in document.events] or [document.today]
    return date(min(starts).year - 1, 1, 1), date(max(starts).year + 2, 1, 1)


def entity_tag(document: CalendarDocument) -> str:
    """A strong ETag of the feed, taken from what it is rendered from (rendering is deterministic), so
    a client polling with If-None-Match is answered 304 without rendering: ~1 ms per event."""
    events = sorted(document.events, key=lambda e: (e.starts_at, str(e.occurrence_id)))
    fingerprint = repr((RENDERER, icalendar.__version__, document.name, document.timezone, _span(document), events))
    return '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110 If-None-Match: `*` or any listed tag, weak or strong (the weak comparison)."""
    if not if_none_match:
        return False
    candidates = [t.strip() for t in if_none_match.split(",")]
    return "*" in candidates or tag in (c.removeprefix("W/") for c in candidates)
