"""The calendar renderer: RFC 5545 as the icalendar library reads it back, and the ETag rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from app.rules.calendar import CalendarDocument, CalendarEvent, entity_tag, etag_matches, event_uid, render_calendar

NEW_YORK = ZoneInfo("America/New_York")
CREATED = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def event(day: int, *, cancelled=False, sequence=0, location="Room 2", month=3) -> CalendarEvent:
    starts = datetime(2026, month, day, 9, 0, tzinfo=NEW_YORK)
    return CalendarEvent(
        occurrence_id=uuid.UUID(int=day),
        summary="IOP Mornings",
        location=location,
        description="IOP group",
        starts_at=starts,
        ends_at=starts.replace(hour=12),
        cancelled=cancelled,
        sequence=sequence,
        created_at=CREATED,
        updated_at=CREATED if not sequence else datetime(2026, 3, 1, 15, 30, tzinfo=timezone.utc),
        category="IOP",
    )


def document(*events: CalendarEvent) -> CalendarDocument:
    return CalendarDocument(name="IOP Mornings", timezone="America/New_York", events=events, today=date(2026, 3, 1))


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def test_one_vevent_per_occurrence_with_a_stable_uid_in_the_facility_zone():
    calendar = parse(render_calendar(document(event(9), event(2))))
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        event_uid(uuid.UUID(int=2)),
        event_uid(uuid.UUID(int=9)),
    ]  # in time order
    assert str(events[0]["UID"]) == "00000000-0000-0000-0000-000000000002@group-sessions"
    before, after = (e.decoded("DTSTART") for e in events)
    assert (before.hour, after.hour) == (9, 9)  # wall time across the DST change of 8 March
    assert (before.utcoffset().total_seconds(), after.utcoffset().total_seconds()) == (-5 * 3600, -4 * 3600)
    assert events[0]["DTSTART"].params["TZID"] == "America/New_York"
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CONFIRMED"]
    assert (str(events[0]["SUMMARY"]), str(events[0]["LOCATION"])) == ("IOP Mornings", "Room 2")


def test_the_facility_zone_is_described_by_a_vtimezone_with_both_offsets():
    calendar = parse(render_calendar(document(event(9))))
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_a_cancelled_occurrence_keeps_its_uid_with_status_cancelled_and_a_higher_sequence():
    (cancelled,) = parse(render_calendar(document(event(9, cancelled=True, sequence=1)))).walk("VEVENT")
    assert str(cancelled["UID"]) == event_uid(uuid.UUID(int=9))
    assert (str(cancelled["STATUS"]), cancelled.decoded("SEQUENCE")) == ("CANCELLED", 1)
    assert cancelled.decoded("DTSTAMP") == datetime(2026, 3, 1, 15, 30, tzinfo=timezone.utc)  # its last revision


def test_the_same_schedule_renders_to_the_same_bytes():
    assert render_calendar(document(event(9), event(2))) == render_calendar(document(event(2), event(9)))


def test_an_empty_feed_is_a_valid_calendar_with_its_zone():
    calendar = parse(render_calendar(document()))
    assert calendar.walk("VEVENT") == [] and len(calendar.walk("VTIMEZONE")) == 1
    assert str(calendar["X-WR-CALNAME"]) == "IOP Mornings" and "METHOD" not in calendar


def test_the_feed_asks_clients_to_refresh_hourly():
    body = render_calendar(document())
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body and b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body


def test_text_is_escaped_not_injected():
    hostile = event(9, location="Room 2\r\nATTENDEE:mailto:x@example.com;a,b")
    body = render_calendar(document(hostile))
    (parsed,) = parse(body).walk("VEVENT")
    assert (
        "ATTENDEE" not in parsed and str(parsed["LOCATION"]) == "Room 2\nATTENDEE:mailto:x@example.com;a,b"
    )  # the CR is dropped, the line break escaped
    assert b"\r\nATTENDEE:" not in body


TAG = entity_tag(document(event(9)))


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        (TAG, True),
        (f"W/{TAG}", True),
        (f'"other", {TAG}', True),
        ('"other"', False),
        ("*", True),
    ],
)
def test_if_none_match(header, matches):
    assert etag_matches(header, TAG) is matches


def test_the_tag_follows_what_the_feed_is_rendered_from():
    assert entity_tag(document(event(9), event(2))) == entity_tag(document(event(2), event(9)))  # as the bytes are
    assert entity_tag(document(event(9))) != entity_tag(document(event(9, sequence=1)))
    assert entity_tag(document(event(9))) != entity_tag(document(event(9, location="Room 3")))
    assert TAG.startswith('"') and TAG.endswith('"')
