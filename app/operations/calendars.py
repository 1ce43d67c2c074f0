"""Calendar feeds (issue 20): staff create a secret URL for a group's or a facilitator's schedule
(only its hash is kept), list and revoke them; a calendar client fetches the feed with the secret
alone, since it cannot send a bearer header."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.auth import Principal
from app.db import models
from app.db.queries import calendars as queries
from app.db.queries.common import Page
from app.db.uow import UnitOfWork
from app.errors import BadInput, IllegalTransition
from app.operations.common import facilities_seen, require_text, visible_or_not_found
from app.operations.scheduling import live_group
from app.rules.calendar import CalendarDocument, CalendarEvent, FeedKind
from app.rules.scopes import Scope

TOKEN_BYTES = 32  # 256 random bits: a fast hash is enough to keep it, nothing can be guessed
FEED_PAST = timedelta(days=90)  # a feed shows the last 90 days and everything ahead
MAX_FEED_EVENTS = 2000
FEED_SCOPE = Scope.GROUP_SCHEDULE_VIEW  # what making a feed needs, and what its creator must keep


@dataclass(frozen=True)
class CreatedFeed:
    feed: models.CalendarFeed
    token: str  # shown once; only its hash is stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_kind(feed: models.CalendarFeed) -> FeedKind:
    return FeedKind.GROUP if feed.group_id else FeedKind.STAFF


def _snapshot(feed: models.CalendarFeed) -> dict:
    return {
        "kind": feed_kind(feed).value,
        "facilityId": str(feed.facility_id),
        "groupId": str(feed.group_id) if feed.group_id else None,
        "staffId": str(feed.staff_id) if feed.staff_id else None,
        "label": feed.label,
    }


async def create_calendar_feed(
    uow: UnitOfWork,
    actor: Principal,
    *,
    group_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    label: str | None,
    lifetime: timedelta,
) -> CreatedFeed:
    """A feed of a group (in the caller's facilities, not deleted) or of a staff member's facilitated occurrences."""
    if (group_id is None) == (staff_id is None):
        raise BadInput("Give exactly one of groupId and staffId")
    label = require_text("label", label) if label is not None else None
    db = uow.db
    if group_id is not None:
        facility_id = (await live_group(db, actor, group_id)).facility_id
    else:
        facility_id = visible_or_not_found(actor, await db.get(models.Staff, staff_id), "Staff").facility_id
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = models.CalendarFeed(
        id=uuid.uuid4(),
        facility_id=facility_id,
        group_id=group_id,
        staff_id=staff_id,
        label=label,
        token_hash=hash_token(token),
        created_by=actor.subject,
        expires_at=uow.clock.now() + lifetime,
    )
    db.add(feed)
    await db.flush()
    await db.refresh(feed)
    uow.audit("calendar_feed.create", "CalendarFeed", feed.id, after=_snapshot(feed), group_id=group_id)
    return CreatedFeed(feed, token)


async def revoke_calendar_feed(uow: UnitOfWork, actor: Principal, feed_id: uuid.UUID) -> models.CalendarFeed:
    """Its URL answers 404 from now on; anyone who may list the feed may revoke it (a leaked URL must be stoppable)."""
    feed = visible_or_not_found(
        actor, await uow.db.get(models.CalendarFeed, feed_id, with_for_update=True), "CalendarFeed"
    )
    if feed.revoked_at is not None:
        raise IllegalTransition("The calendar feed is already revoked")
    feed.revoked_at = uow.clock.now()
    uow.audit(
        "calendar_feed.revoke",
        "CalendarFeed",
        feed.id,
        before={**_snapshot(feed), "revokedAt": None},
        after={**_snapshot(feed), "revokedAt": feed.revoked_at.isoformat()},
        group_id=feed.group_id,
    )
    return feed


async def calendar_feeds(
    db, actor: Principal, *, group_id: uuid.UUID | None, staff_id: uuid.UUID | None, include_revoked: bool, window: Page
) -> tuple[list[models.CalendarFeed], int]:
    return await queries.feeds_page(
        db,
        facility_ids=facilities_seen(actor),
        group_id=group_id,
        staff_id=staff_id,
        include_revoked=include_revoked,
        window=window,
    )


async def feed_document(
    db, kind: FeedKind, subject_id: uuid.UUID, token: str, now: datetime
) -> CalendarDocument | None:
    """The calendar behind a feed URL, or None (unknown or revoked secret, a secret of another feed,
    a deleted group): the caller answers all of these alike, revealing nothing."""
    feed = await queries.live_feed(db, hash_token(token), now)
    if feed is None or (feed.group_id if kind == FeedKind.GROUP else feed.staff_id) != subject_id:
        return None
    facility = await db.get(models.Facility, feed.facility_id)
    since = now - FEED_PAST
    if kind == FeedKind.GROUP:
        group = await db.get(models.GroupDefinition, subject_id)
        if group is None or group.deleted_at is not None:
            return None
        name, rows = group.name, await queries.group_feed_occurrences(db, group.id, since, MAX_FEED_EVENTS)
    else:
        staff = await db.get(models.Staff, subject_id)
        name, rows = (
            f"{staff.name}: group sessions",
            await queries.staff_feed_occurrences(db, staff.id, since, MAX_FEED_EVENTS),
        )
    events = [_event(occurrence, group) for occurrence, group in rows]
    return CalendarDocument(
        name=name, timezone=facility.timezone, events=events, today=now.astimezone(ZoneInfo(facility.timezone)).date()
    )


def _event(occurrence: models.GroupOccurrence, group: models.GroupDefinition) -> CalendarEvent:
    """The schedule only: the group's name, type and room, never who is enrolled."""
    return CalendarEvent(
        occurrence_id=occurrence.id,
        summary=group.name,
        location=occurrence.location,
        description=f"{_type_label(group.group_type)} group session",
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        cancelled=occurrence.cancelled_at is not None,
        sequence=occurrence.sequence,
        created_at=occurrence.created_at,
        updated_at=max(occurrence.updated_at, group.updated_at),  # a renamed group or a moved room revises every event
        category=group.group_type,
    )


def _type_label(group_type: str) -> str:
    return group_type if group_type in ("IOP", "PHP") else group_type.replace("_", " ").capitalize()
