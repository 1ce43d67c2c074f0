"""Calendar feeds through the real endpoint, read as calendar clients read them: parsed by the
icalendar library and expanded by recurring_ical_events, across the DST change of 8 March 2026 in
an America/New_York facility, and by ical.js (tests/clients/ical.test.mjs) and the feed's own
VTIMEZONE across every change from 2026 to 2030; polled with If-None-Match; reached only with a live
secret."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from sqlalchemy import select

from app.db import models
from app.ids import decode_id
from tests.conftest import make_token
from tests.support.builders_enrollment import enroll, make_group
from tests.support.builders_scheduling import CANCEL, UPDATE, add_occurrence, generate
from tests.support.builders_sessions import set_now
from tests.support.node import run_node_test

NEW_YORK = ZoneInfo("America/New_York")
PHOENIX = ZoneInfo("America/Phoenix")
US_DST_SUNDAYS = [  # the second Sunday of March and the first of November, 2026 to 2030
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2027, 3, 14),
    date(2027, 11, 7),
    date(2028, 3, 12),
    date(2028, 11, 5),
    date(2029, 3, 11),
    date(2029, 11, 4),
    date(2030, 3, 10),
    date(2030, 11, 3),
]
CREATE = """
mutation($groupId: ID, $staffId: ID, $label: String) {
  createCalendarFeed(groupId: $groupId, staffId: $staffId, label: $label) {
    url token feed { id kind label path createdBy revokedAt group { id } staff { id } }
  }
}"""
REVOKE = "mutation($id: ID!) { revokeCalendarFeed(id: $id) { id revokedAt } }"
FEEDS = """
query($groupId: ID, $includeRevoked: Boolean!) {
  calendarFeeds(groupId: $groupId, includeRevoked: $includeRevoked) { totalCount edges { node { id kind label path revokedAt } } }
}"""


@pytest.fixture
async def hudson(gql, clinic, test_clock):
    """A New York facility with a Monday 09:00 IOP group, five Mondays generated across the DST
    change, two patients enrolled; the clinic's clock at 1 March 2026."""
    set_now(test_clock, datetime(2026, 3, 1, 12, 0, tzinfo=NEW_YORK))
    facility = await clinic.facility(name="Hudson Valley Recovery", state="NY", timezone="America/New_York")
    lead = await clinic.add_staff("Robin Lead", facility_id=facility)
    co = await clinic.add_staff("Casey Co", facility_id=facility)
    group = await make_group(
        gql,
        clinic,
        name="IOP Mornings",
        groupType="IOP",
        facilityId=facility,
        facilitatorId=lead,
        coFacilitatorId=co,
        location="Room 2, 14 Main St",
        durationMinutes=180,
        recurrenceRule="FREQ=WEEKLY;BYDAY=MO",
        recurrenceStart="2026-02-23T09:00:00-05:00",
    )
    created = (await generate(gql, group, "2026-02-23", "2026-03-23"))["created"]
    patients = [
        await clinic.add_patient("Ana Flores", facility_id=facility),
        await clinic.add_patient("Ben Ortiz", facility_id=facility),
    ]
    for patient in patients:
        await enroll(gql, group, patient)
    return {
        "facility": facility,
        "group": group,
        "lead": lead,
        "co": co,
        "occurrences": [o["id"] for o in created],
        "patients": patients,
    }


async def create_feed(gql, **variables) -> dict:
    return (await gql.execute(CREATE, variables))["createCalendarFeed"]


async def fetch(http, url: str, **headers):
    parts = urlsplit(url)
    return await http.get(f"{parts.path}?{parts.query}" if parts.query else parts.path, headers=headers)


def events_of(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def uid(occurrence_id: str) -> str:
    return f"{decode_id(occurrence_id, 'GroupOccurrence')}@group-sessions"


async def test_a_group_feed_has_one_event_per_occurrence_at_nine_across_the_dst_change(gql, http, hudson):
    created = await create_feed(gql, groupId=hudson["group"], label="Front desk display")
    assert created["url"].startswith("http://test/calendar/groups/") and created["url"].endswith(
        f".ics?token={created['token']}"
    )

    response = await fetch(http, created["url"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["X-WR-CALNAME"]) == "IOP Mornings"
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York" and {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    expanded = sorted(
        recurring_ical_events.of(calendar).between(date(2026, 2, 1), date(2026, 4, 1)),
        key=lambda e: e.decoded("DTSTART"),
    )
    assert [str(e["UID"]) for e in expanded] == [uid(o) for o in hudson["occurrences"]]
    starts = [e.decoded("DTSTART") for e in expanded]
    assert [s.date().isoformat() for s in starts] == [
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
    ]
    assert {(s.hour, s.minute) for s in starts} == {(9, 0)}  # wall time holds across DST
    assert [s.astimezone(timezone.utc).hour for s in starts] == [14, 14, 13, 13, 13]
    assert {(e.decoded("DTEND") - e.decoded("DTSTART")).seconds for e in expanded} == {3 * 3600}
    assert all(e["DTSTART"].params["TZID"] == "America/New_York" for e in events_of(response.content))
    first = expanded[0]
    assert (str(first["SUMMARY"]), str(first["LOCATION"]), str(first["STATUS"]), first.decoded("SEQUENCE")) == (
        "IOP Mornings",
        "Room 2, 14 Main St",
        "CONFIRMED",
        0,
    )
    assert isinstance(first.decoded("DTSTAMP"), datetime)


async def test_a_feed_carries_no_patient_data(gql, http, hudson, services):
    created = await create_feed(gql, groupId=hudson["group"])
    body = (await fetch(http, created["url"])).text
    async with services.sessionmaker() as db:
        patients = (await db.scalars(select(models.Patient))).all()
    assert patients
    for patient in patients:
        for detail in (patient.name, patient.mrn, str(patient.id), patient.date_of_birth.strftime("%Y%m%d")):
            assert detail not in body
    assert "ATTENDEE" not in body and "Patient" not in body


async def test_a_change_bumps_the_sequence_and_a_cancellation_keeps_the_uid(gql, http, hudson):
    created = await create_feed(gql, groupId=hudson["group"])
    moved, cancelled = hudson["occurrences"][1], hudson["occurrences"][3]
    await gql.execute(UPDATE, {"id": moved, "input": {"startTime": "10:00:00", "endTime": "13:00:00"}})
    await gql.execute(CANCEL, {"id": cancelled, "reason": "Clinic closed for training"})

    events = {str(e["UID"]): e for e in events_of((await fetch(http, created["url"])).content)}

    assert len(events) == 5
    assert (events[uid(moved)].decoded("SEQUENCE"), events[uid(moved)].decoded("DTSTART").hour) == (1, 10)
    assert (str(events[uid(cancelled)]["STATUS"]), events[uid(cancelled)].decoded("SEQUENCE")) == ("CANCELLED", 1)
    assert events[uid(moved)].decoded("DTSTAMP") == events[uid(moved)].decoded("LAST-MODIFIED")  # its last revision
    assert (
        "Clinic closed" not in (await fetch(http, created["url"])).text
    )  # reasons are staff notes, not for a wall calendar


async def test_polling_with_the_etag_gets_304_until_the_schedule_changes(gql, http, hudson):
    created = await create_feed(gql, groupId=hudson["group"])
    first = await fetch(http, created["url"])
    tag = first.headers["etag"]
    assert tag.startswith('"') and first.headers["cache-control"] == "private, max-age=300"

    unchanged = await fetch(http, created["url"], **{"If-None-Match": tag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["etag"]) == (304, b"", tag)
    assert (await fetch(http, created["url"], **{"If-None-Match": f"W/{tag}"})).status_code == 304
    assert (await fetch(http, created["url"])).content == first.content  # the same schedule, the same bytes

    await add_occurrence(gql, hudson["group"], "2026-03-25", "09:00:00", "12:00:00")
    changed = await fetch(http, created["url"], **{"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag and len(events_of(changed.content)) == 6


async def test_only_a_live_secret_of_that_feed_opens_it_and_every_refusal_looks_alike(gql, http, clinic, hudson):
    feed = await create_feed(gql, groupId=hudson["group"])
    other_group = await make_group(gql, clinic, name="Other")
    other = await create_feed(gql, groupId=other_group)
    path, token = urlsplit(feed["url"]).path, feed["token"]
    staff_path = f"/calendar/staff/{hudson['lead']}.ics"
    missing_group = "/calendar/groups/R3JvdXBEZWZpbml0aW9uOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA.ics"
    refused = [
        path,  # no secret
        f"{path}?token=",
        f"{path}?token=guessed-{token[:10]}",
        f"{path}?token={other['token']}",  # another feed's secret
        f"{urlsplit(other['url']).path}?token={token}",  # this secret on another group's address
        f"{staff_path}?token={token}",  # a group feed's secret on a staff address
        f"{missing_group}?token={token}",
        f"/calendar/groups/not-an-id.ics?token={token}",
        f"{path.removesuffix('.ics')}?token={token}",
        f"{path}?token={'x' * 5000}",
    ]
    answers = [await http.get(url) for url in refused]
    assert [(r.status_code, r.text) for r in answers] == [(404, "Not Found")] * len(refused)
    assert (await http.get(f"{path}?token={token}")).status_code == 200

    await gql.execute(REVOKE, {"id": feed["feed"]["id"]})
    gone = await http.get(f"{path}?token={token}")
    assert (gone.status_code, gone.text, gone.headers["cache-control"]) == (404, "Not Found", "no-store")
    _, code, _ = await gql.error(REVOKE, {"id": feed["feed"]["id"]})
    assert code == "ILLEGAL_TRANSITION"


async def test_a_deleted_groups_feed_is_gone(gql, http, hudson):
    feed = await create_feed(gql, groupId=hudson["group"])
    await gql.execute("mutation($id: ID!) { deleteGroup(id: $id) { id } }", {"id": hudson["group"]})
    assert (await fetch(http, feed["url"])).status_code == 404


async def test_a_facilitators_feed_lists_what_they_lead_or_co_lead(gql, http, clinic, hudson):
    other_lead = await clinic.add_staff("Jordan Other", facility_id=hudson["facility"])
    swapped = await add_occurrence(gql, hudson["group"], "2026-03-27", "09:00:00", "12:00:00", facilitatorId=other_lead)
    skills = await make_group(
        gql,
        clinic,
        name="DBT Skills",
        groupType="SKILLS_TRAINING",
        facilityId=hudson["facility"],
        facilitatorId=hudson["co"],
        location="Room 5",
    )
    skills_day = await add_occurrence(gql, skills, "2026-03-04", "13:00:00", "14:00:00")
    unrelated = await make_group(
        gql, clinic, name="Not theirs", facilityId=hudson["facility"], facilitatorId=other_lead
    )
    await add_occurrence(gql, unrelated, "2026-03-05", "13:00:00", "14:00:00")

    lead_feed = await create_feed(gql, staffId=hudson["lead"])
    co_feed = await create_feed(gql, staffId=hudson["co"])

    assert lead_feed["feed"]["kind"] == "STAFF" and lead_feed["feed"]["staff"]["id"] == hudson["lead"]
    assert lead_feed["url"].startswith(f"http://test/calendar/staff/{hudson['lead']}.ics?token=")
    lead_events = {str(e["UID"]) for e in events_of((await fetch(http, lead_feed["url"])).content)}
    assert lead_events == {uid(o) for o in hudson["occurrences"]}  # not the day another facilitator took
    co_calendar = icalendar.Calendar.from_ical((await fetch(http, co_feed["url"])).content)
    co_events = {str(e["UID"]): e for e in co_calendar.walk("VEVENT")}
    assert set(co_events) == {uid(o) for o in hudson["occurrences"]} | {uid(swapped["id"]), uid(skills_day["id"])}
    assert str(co_events[uid(skills_day["id"])]["SUMMARY"]) == "DBT Skills"
    assert str(co_calendar["X-WR-CALNAME"]) == "Casey Co: group sessions"


async def test_feeds_are_listed_without_secrets_and_only_a_hash_is_kept(gql, clinic, hudson, services):
    created = await create_feed(gql, groupId=hudson["group"], label="Lobby TV")
    revoked = await create_feed(gql, groupId=hudson["group"])
    await gql.execute(REVOKE, {"id": revoked["feed"]["id"]})

    listed = (await gql.execute(FEEDS, {"groupId": hudson["group"], "includeRevoked": False}))["calendarFeeds"]
    assert [e["node"]["id"] for e in listed["edges"]] == [created["feed"]["id"]]
    assert listed["edges"][0]["node"]["label"] == "Lobby TV" and created["token"] not in str(listed)
    everything = (await gql.execute(FEEDS, {"groupId": hudson["group"], "includeRevoked": True}))["calendarFeeds"]
    assert everything["totalCount"] == 2
    assert created["feed"]["path"] == urlsplit(created["url"]).path and created["feed"]["createdBy"] == "tester"
    async with services.sessionmaker() as db:
        stored = await db.get(models.CalendarFeed, decode_id(created["feed"]["id"], "CalendarFeed"))
    assert stored.token_hash == hashlib.sha256(created["token"].encode()).hexdigest() != created["token"]


@pytest.mark.parametrize("variables", [{}, {"both": True}], ids=["neither", "both"])
async def test_a_feed_names_exactly_one_group_or_facilitator(gql, hudson, variables):
    given = {"groupId": hudson["group"], "staffId": hudson["lead"]} if variables else {}
    status, code, body = await gql.error(CREATE, given)
    assert code == "BAD_USER_INPUT" and body["errors"][0]["message"] == "Give exactly one of groupId and staffId"


async def test_feeds_of_another_facility_cannot_be_made_listed_or_revoked(gql, clinic, hudson):
    feed = await create_feed(gql, groupId=hudson["group"])
    outsider = gql.__class__(gql.http, make_token(facilities=[clinic.facility_id]))
    for document, variables in [
        (CREATE, {"groupId": hudson["group"]}),
        (CREATE, {"staffId": hudson["lead"]}),
        (REVOKE, {"id": feed["feed"]["id"]}),
    ]:
        status, code, body = await outsider.error(document, variables)
        assert code == "NOT_FOUND" and body["data"] is None
    listed = (await outsider.execute(FEEDS, {"groupId": None, "includeRevoked": True}))["calendarFeeds"]
    assert listed["totalCount"] == 0


async def test_a_feed_shows_ninety_days_back_and_everything_ahead(gql, http, hudson, test_clock):
    feed = await create_feed(gql, groupId=hudson["group"])
    set_now(test_clock, datetime(2026, 6, 1, 12, 0, tzinfo=NEW_YORK))  # 90 days on from 3 March
    starts = sorted(
        e.decoded("DTSTART").date().isoformat() for e in events_of((await fetch(http, feed["url"])).content)
    )
    assert starts == ["2026-03-09", "2026-03-16", "2026-03-23"]


def test_the_access_log_shows_a_feed_address_without_its_secret(app):
    from app.http.calendar import RedactFeedSecrets

    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactFeedSecrets) for f in access.filters)  # installed by create_app
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/calendar/groups/R3Jv.ics?token=s3cr3t-Value_1&x=1", "1.1", 200),
        None,
    )
    for log_filter in access.filters:
        log_filter.filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /calendar/groups/R3Jv.ics?token=<redacted>&x=1 HTTP/1.1" 200'


async def test_every_event_from_2026_to_2030_lands_on_its_instant_in_ical_js_and_icalendar(
    gql, http, clinic, hudson, tmp_path
):
    """Around each US change of 2026-2030 (the Saturday before, the Monday after): New York at 09:00
    and Phoenix, which keeps -07:00, at 13:00. ical.js places events with the feed's VTIMEZONE, so a
    zone written as one RDATE line put New York an hour off from 2027 on; icalendar's reading of the
    same VTIMEZONE, its reading by zone name and recurring_ical_events must agree with it."""
    hudson_days = await make_group(
        gql, clinic, name="Hudson Days", facilityId=hudson["facility"], facilitatorId=hudson["lead"]
    )
    desert = await make_group(gql, clinic, name="Desert Evenings")  # the clinic's own facility is in Phoenix
    days = [day + timedelta(days=shift) for day in US_DST_SUNDAYS for shift in (-1, 1)]
    feeds = []
    for name, group, zone, hour in [
        ("New York", hudson_days, NEW_YORK, 9),
        ("Phoenix", desert, PHOENIX, 13),
    ]:
        expected = {}
        for day in days:
            added = await add_occurrence(gql, group, day.isoformat(), f"{hour:02}:00:00", f"{hour + 1:02}:30:00")
            starts = datetime.combine(day, time(hour), zone)
            expected[uid(added["id"])] = {
                "zone": zone.key,
                "start": _instant(starts),
                "end": _instant(starts + timedelta(minutes=90)),
            }
        body = (await fetch(http, (await create_feed(gql, groupId=group))["url"])).content
        placed = _placed_by_icalendar(body, zone.key)
        assert {u: placed[u] for u in expected} == expected, name
        path = tmp_path / f"{zone.key.replace('/', '-')}.ics"
        path.write_bytes(body)
        feeds.append({"name": name, "path": str(path), "expected": {u: placed[u] for u in placed}})

    await run_node_test("ical.test.mjs", {"feeds": feeds})


def _instant(moment: datetime) -> str:
    """As JavaScript's Date.toISOString writes it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _placed_by_icalendar(body: bytes, tzid: str) -> dict[str, dict[str, str]]:
    """Each event's zone and instants as icalendar reads them by zone name, checked against the feed's own
    VTIMEZONE (icalendar's tzinfo of it) and against recurring_ical_events' expansion."""
    calendar = icalendar.Calendar.from_ical(body)
    (vtimezone,) = calendar.walk("VTIMEZONE")
    own_zone = vtimezone.to_tz()
    placed = {}
    for event in calendar.walk("VEVENT"):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        by_own_zone = [moment.replace(tzinfo=None).replace(tzinfo=own_zone) for moment in (start, end)]
        assert [_instant(m) for m in by_own_zone] == [_instant(start), _instant(end)], str(event["UID"])
        placed[str(event["UID"])] = {
            "zone": event["DTSTART"].params["TZID"],
            "start": _instant(start),
            "end": _instant(end),
        }
    assert placed and all(p["zone"] == tzid for p in placed.values())
    expanded = recurring_ical_events.of(calendar).between(date(2026, 1, 1), date(2031, 1, 1))
    assert {str(e["UID"]): _instant(e.decoded("DTSTART")) for e in expanded} == {
        u: p["start"] for u, p in placed.items() if p["start"] >= "2026-01-01"
    }
    return placed
