"""The clinical side's consumer of scheduling events (rules.md §4, §5): one GroupSession per live
occurrence, moved and cancelled with it, and rosters that follow enrollment.

Each event is applied inside the feed's transaction (the one that advances this consumer's
offset), under a savepoint: a malformed event is logged by id and skipped rather than blocking
every later event.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.events.feed import consumer
from app.ids import encode_id, payload_uuid
from app.live.publish import stage_session_update
from app.schema.enums import GroupType

log = logging.getLogger(__name__)

CONSUMER = "clinical-sessions"
ACTOR = f"feed:{CONSUMER}"

SCHEDULED = "pm_group_session_scheduled"
UPDATED = "pm_group_session_updated"
CANCELLED = "pm_group_session_cancelled"
ENROLLED = "pm_group_enrollment_enrolled"
PROMOTED = "pm_group_enrollment_promoted"
DISENROLLED = "pm_group_enrollment_disenrolled"
REMOVED = "pm_group_enrollment_removed"

GS = models.GroupSession
SP = models.SessionParticipant

Payload = dict[str, Any]
_SENDING: set[asyncio.Task] = set()


class FeedWork:
    """Just enough of a UnitOfWork for app.live.publish inside the feed's own transaction: the
    session, the clock, the live publisher, and messages held until that transaction commits."""

    def __init__(self, session: AsyncSession, services) -> None:
        self.session = session
        self.clock = services.clock
        self.live = services.extras.get("live_publisher")
        self._loop = asyncio.get_running_loop()
        self._callbacks: list[Callable[[], Awaitable[None]]] = []

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._callbacks.append(callback)

    def send_on_commit(self) -> None:
        """Called once the event's changes stand (its savepoint released)."""
        callbacks, self._callbacks = self._callbacks, []
        if not callbacks:
            return

        def fire(_session) -> None:
            for callback in callbacks:
                task = self._loop.create_task(callback())
                _SENDING.add(task)
                task.add_done_callback(_SENDING.discard)

        event.listen(self.session.sync_session, "after_commit", fire, once=True)


EventHandler = Callable[[FeedWork, Payload, datetime], Awaitable[None]]


# ---------------------------------------------------------------- payload


def _instant(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("times must carry a UTC offset")
    return moment


def _session_values(payload: Payload) -> dict[str, Any]:
    starts_at, ends_at = _instant(payload["startsAt"]), _instant(payload["endsAt"])
    if ends_at <= starts_at:
        raise ValueError("endsAt must be after startsAt")
    return {
        "occurrence_id": payload_uuid(payload["occurrenceId"], "GroupOccurrence"),
        "group_id": payload_uuid(payload["groupId"], "GroupDefinition"),
        "facility_id": payload_uuid(payload["facilityId"], "Facility"),
        "group_type": GroupType(payload["groupType"]).value,
        "title": str(payload.get("title") or "Group session")[:200],
        "starts_at": starts_at,
        "ends_at": ends_at,
    }


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "occurrenceId": str(values["occurrence_id"]),
        "groupId": str(values["group_id"]),
        "facilityId": str(values["facility_id"]),
        "groupType": values["group_type"],
        "startsAt": values["starts_at"].isoformat(),
        "endsAt": values["ends_at"].isoformat(),
    }


def _audit(session: AsyncSession, action: str, entity_type: str, entity_id: uuid.UUID, session_id: uuid.UUID, **fields: Any) -> None:
    session.add(models.AuditEntry(actor=ACTOR, action=action, entity_type=entity_type, entity_id=entity_id, session_id=session_id, **fields))


# --------------------------------------------------------------- sessions


async def _enrolled_patients(session: AsyncSession, group_id: uuid.UUID) -> list[uuid.UUID]:
    e = models.Enrollment
    return list(
        (
            await session.scalars(
                select(e.patient_id)
                .where(e.group_id == group_id, e.status == "ENROLLED", e.deleted_at.is_(None))
                .order_by(e.patient_id)
            )
        ).all()
    )


async def _session_by_occurrence(session: AsyncSession, occurrence_id: uuid.UUID) -> models.GroupSession | None:
    return await session.scalar(
        select(GS).where(GS.occurrence_id == occurrence_id).with_for_update().execution_options(populate_existing=True)
    )


async def schedule_session(work: FeedWork, payload: Payload, now: datetime) -> None:
    """A new occurrence: its session, with the group's ENROLLED patients on the roster. Seeing the
    event twice changes nothing (occurrence_id is unique)."""
    session = work.session
    values = _session_values(payload)
    session_pk = await session.scalar(
        insert(GS)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(index_elements=[GS.occurrence_id])
        .returning(GS.id)
    )
    if session_pk is None:
        return
    patients = await _enrolled_patients(session, values["group_id"])
    if patients:
        await session.execute(
            insert(SP)
            .values([{"id": uuid.uuid4(), "session_id": session_pk, "patient_id": p, "status": "SCHEDULED"} for p in patients])
            .on_conflict_do_nothing(constraint="uq_session_participants_patient")
        )
    _audit(
        session,
        "session.create",
        "GroupSession",
        session_pk,
        session_pk,
        after={**_snapshot(values), "patientIds": [str(p) for p in patients]},
    )


async def move_session(work: FeedWork, payload: Payload, now: datetime) -> None:
    """The occurrence moved: the session follows unless it is locked (billed) or cancelled."""
    session = work.session
    values = _session_values(payload)
    row = await _session_by_occurrence(session, values["occurrence_id"])
    if row is None:
        await schedule_session(work, payload, now)
        return
    if row.cancelled_at is not None or row.locked_at is not None:
        log.warning("occurrence update ignored: session %s is %s", row.id, "cancelled" if row.cancelled_at else "locked")
        return
    before = {"startsAt": row.starts_at.isoformat(), "endsAt": row.ends_at.isoformat()}
    row.starts_at, row.ends_at, row.title = values["starts_at"], values["ends_at"], values["title"]
    after = {"startsAt": row.starts_at.isoformat(), "endsAt": row.ends_at.isoformat()}
    if before != after:
        _audit(session, "session.move", "GroupSession", row.id, row.id, before=before, after=after)
        await stage_session_update(work, row.id, "RESCHEDULED")


async def cancel_session(work: FeedWork, payload: Payload, now: datetime) -> None:
    session = work.session
    row = await _session_by_occurrence(session, payload_uuid(payload["occurrenceId"], "GroupOccurrence"))
    if row is None or row.cancelled_at is not None:
        return
    if row.locked_at is not None:
        # Scheduling refuses to cancel an occurrence whose session is locked; never undo billing here.
        log.warning("occurrence cancellation ignored: session %s is locked", row.id)
        return
    row.cancelled_at = now
    row.cancellation_reason = str(payload.get("reason") or "")[:2000] or None
    _audit(
        session,
        "session.cancel",
        "GroupSession",
        row.id,
        row.id,
        before={"cancelledAt": None},
        after={"cancelledAt": now.isoformat()},
        reason=row.cancellation_reason,
    )
    await stage_session_update(work, row.id, "CANCELLED")


# ---------------------------------------------------------------- rosters


def _upcoming_sessions(group_id: uuid.UUID, now: datetime):
    return select(GS.id).where(
        GS.group_id == group_id, GS.starts_at > now, GS.cancelled_at.is_(None), GS.locked_at.is_(None)
    )


async def _announce_roster_changes(work: FeedWork, changed: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    by_session: dict[uuid.UUID, list[str]] = defaultdict(list)
    for participant_pk, session_pk in changed:
        by_session[session_pk].append(encode_id("RosterEntry", participant_pk))
    for session_pk, participant_ids in by_session.items():
        await stage_session_update(work, session_pk, "ROSTER_CHANGED", participant_ids)


async def join_rosters(work: FeedWork, payload: Payload, now: datetime) -> None:
    """Enrolled or promoted: on the roster of every session of the group that has not started."""
    session = work.session
    if payload.get("status") not in (None, "ENROLLED"):
        return
    group_id, patient_id = payload_uuid(payload["groupId"], "GroupDefinition"), payload_uuid(payload["patientId"], "Patient")
    session_ids = (await session.scalars(_upcoming_sessions(group_id, now))).all()
    if not session_ids:
        return
    added = (
        await session.execute(
            insert(SP)
            .values([{"id": uuid.uuid4(), "session_id": s, "patient_id": patient_id, "status": "SCHEDULED"} for s in session_ids])
            .on_conflict_do_nothing(constraint="uq_session_participants_patient")
            .returning(SP.id, SP.session_id)
        )
    ).all()
    for participant_pk, session_pk in added:
        _audit(session, "session.participant_add", "RosterEntry", participant_pk, session_pk,
               after={"patientId": str(patient_id), "status": "SCHEDULED", "enrollmentEvent": True})
    await _announce_roster_changes(work, added)


async def leave_rosters(work: FeedWork, payload: Payload, now: datetime) -> None:
    """Disenrolled or removed: off the rosters of the group's sessions that have not started,
    wherever their attendance is still SCHEDULED (a waitlisted patient was never on them)."""
    session = work.session
    if payload.get("status") == "WAITLISTED":
        return
    group_id, patient_id = payload_uuid(payload["groupId"], "GroupDefinition"), payload_uuid(payload["patientId"], "Patient")
    removed = (
        await session.execute(
            delete(SP)
            .where(
                SP.patient_id == patient_id,
                SP.status == "SCHEDULED",
                SP.session_id.in_(_upcoming_sessions(group_id, now)),
            )
            .returning(SP.id, SP.session_id)
        )
    ).all()
    for participant_pk, session_pk in removed:
        _audit(session, "session.participant_remove", "RosterEntry", participant_pk, session_pk,
               before={"patientId": str(patient_id), "status": "SCHEDULED"})
    await _announce_roster_changes(work, removed)


HANDLERS: dict[str, EventHandler] = {
    SCHEDULED: schedule_session,
    UPDATED: move_session,
    CANCELLED: cancel_session,
    ENROLLED: join_rosters,
    PROMOTED: join_rosters,
    DISENROLLED: leave_rosters,
    REMOVED: leave_rosters,
}


@consumer(CONSUMER, *HANDLERS)
async def apply_scheduling_event(session: AsyncSession, event: models.IntegrationEvent, services) -> None:
    work = FeedWork(session, services)
    try:
        async with session.begin_nested():
            # As of the change, not of this drain: an event read late (after a crash) still puts an
            # enrollment made at 08:59 on the 09:00 session.
            await HANDLERS[event.type](work, event.payload, event.occurred_at)
    except Exception as error:  # noqa: BLE001 - one bad event must not stop the feed
        log.error("skipped event id=%s type=%s: %s", event.id, event.type, type(error).__name__)
        return
    work.send_on_commit()
