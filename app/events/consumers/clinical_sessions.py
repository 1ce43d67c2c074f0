"""The clinical side's consumer of scheduling events (rules.md §4, §5): one GroupSession per live
occurrence, moved and cancelled with it, and rosters that follow enrollment."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.db import models
from app.db.queries import enrollments as enrollment_queries
from app.db.queries import sessions as queries
from app.db.queries.sessions import Lock
from app.db.uow import UnitOfWork
from app.events.feed import Consumer
from app.ids import payload_uuid
from app.live.publish import stage_schedule_change, stage_session_update
from app.operations import absences
from app.operations.sessions import session_snapshot
from app.rules.attendance import AttendanceStatus
from app.rules.scheduling import GroupType
from app.rules.updates import SessionUpdateKind, Touched, touched
from app.rules.waitlist import EnrollmentStatus

log = logging.getLogger(__name__)

Payload = dict[str, Any]


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
        "group_type": GroupType(payload["groupType"]),
        "title": str(payload.get("title") or "Group session")[:200],
        "facilitator_id": payload_uuid(payload["facilitatorId"], "Staff") if payload.get("facilitatorId") else None,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }


async def schedule_session(uow: UnitOfWork, payload: Payload, now: datetime) -> None:
    """A new occurrence: its session, with the group's ENROLLED patients on the roster. Seeing the
    event twice changes nothing (occurrence_id is unique)."""
    values = _session_values(payload)
    session_id = await queries.add_session_for_occurrence(uow.db, values)
    if session_id is None:
        return
    patients = await enrollment_queries.enrolled_patients(uow.db, values["group_id"])
    await queries.add_roster_entries(uow.db, session_id, patients, now=uow.clock.now())
    snapshot = session_snapshot(models.GroupSession(**values))
    uow.audit(
        "session.create",
        "GroupSession",
        session_id,
        after={**snapshot, "patientIds": [str(p) for p in patients]},
        session_id=session_id,
    )
    await stage_schedule_change(uow, values["facility_id"])


async def schedule_sessions(uow: UnitOfWork, events: Sequence[tuple[Payload, datetime]]) -> None:
    """schedule_session for a run of new occurrences (a generated year is ~150): their sessions in
    one INSERT, each group's ENROLLED patients read once, every roster in one INSERT."""
    values = [_session_values(payload) for payload, _ in events]
    made = await queries.add_sessions_for_occurrences(uow.db, values)
    if not made:
        return
    firsts = {v["occurrence_id"]: v for v in reversed(values)}  # an event seen twice in the run: its first
    fresh = [v for occurrence_id, v in reversed(firsts.items()) if occurrence_id in made]
    patients_of = {
        group_id: await enrollment_queries.enrolled_patients(uow.db, group_id)
        for group_id in {v["group_id"] for v in fresh}
    }
    await queries.add_rosters(
        uow.db, {made[v["occurrence_id"]]: patients_of[v["group_id"]] for v in fresh}, now=uow.clock.now()
    )
    for v in fresh:
        session_id, patients = made[v["occurrence_id"]], patients_of[v["group_id"]]
        uow.audit(
            "session.create",
            "GroupSession",
            session_id,
            after={**session_snapshot(models.GroupSession(**v)), "patientIds": [str(p) for p in patients]},
            session_id=session_id,
        )
    for facility_id in {v["facility_id"] for v in fresh}:
        await stage_schedule_change(uow, facility_id)  # its displays look again (once per transaction)


async def move_session(uow: UnitOfWork, payload: Payload, now: datetime) -> None:
    """The occurrence moved: the session follows unless it is locked (billed) or cancelled."""
    values = _session_values(payload)
    session = await queries.session_of_occurrence(uow.db, values["occurrence_id"], lock=Lock.BILL)
    if session is None:
        await schedule_session(uow, payload, now)
        return
    if session.cancelled_at is not None or session.locked_at is not None:
        log.warning(
            "occurrence update ignored: session %s is %s", session.id, "cancelled" if session.cancelled_at else "locked"
        )
        return
    before = {"startsAt": session.starts_at.isoformat(), "endsAt": session.ends_at.isoformat()}
    details = {"title": session.title, "facilitatorId": str(session.facilitator_id) if session.facilitator_id else None}
    session.starts_at, session.ends_at, session.title = values["starts_at"], values["ends_at"], values["title"]
    session.facilitator_id = values["facilitator_id"] or session.facilitator_id
    after = {"startsAt": session.starts_at.isoformat(), "endsAt": session.ends_at.isoformat()}
    changed = {"title": session.title, "facilitatorId": str(session.facilitator_id) if session.facilitator_id else None}
    if before == after and details == changed:
        return  # already moved (in the scheduling change's transaction): nothing to announce again
    if before != after:
        uow.audit("session.move", "GroupSession", session.id, before=before, after=after, session_id=session.id)
        await stage_session_update(uow, session.id, SessionUpdateKind.RESCHEDULED)
    elif details != changed:
        uow.audit("session.update", "GroupSession", session.id, before=details, after=changed, session_id=session.id)
        await stage_session_update(uow, session.id, SessionUpdateKind.DETAILS_CHANGED)
    await stage_schedule_change(uow, session.facility_id)  # its time, title or facilitator may have changed


async def cancel_session(uow: UnitOfWork, payload: Payload, now: datetime) -> None:
    session = await queries.session_of_occurrence(
        uow.db, payload_uuid(payload["occurrenceId"], "GroupOccurrence"), lock=Lock.BILL
    )
    if session is None or session.cancelled_at is not None:
        return
    if session.locked_at is not None:
        # Scheduling refuses to cancel an occurrence whose session is locked; never undo billing here.
        log.warning("occurrence cancellation ignored: session %s is locked", session.id)
        return
    session.cancelled_at = now
    session.cancellation_reason = str(payload.get("reason") or "")[:2000] or None
    uow.audit(
        "session.cancel",
        "GroupSession",
        session.id,
        before={"cancelledAt": None},
        after={"cancelledAt": now.isoformat()},
        reason=session.cancellation_reason,
        session_id=session.id,
    )
    await stage_session_update(uow, session.id, SessionUpdateKind.CANCELLED)
    await stage_schedule_change(uow, session.facility_id)
    # A cancelled session no longer counts toward a run of absences (app.rules.absences).
    marked = [
        entry.patient_id
        for entry in (await queries.rosters(uow.db, [session.id]))[0]
        if entry.status != AttendanceStatus.SCHEDULED
    ]
    await absences.reassess_absences(uow, session, marked, cause="session_cancelled")


async def _announce_roster_changes(uow: UnitOfWork, changed: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    by_session: dict[uuid.UUID, list[Touched]] = defaultdict(list)
    for entry_id, session_id in changed:
        by_session[session_id].append(touched("RosterEntry", entry_id))
    for session_id, entry_ids in by_session.items():
        await stage_session_update(uow, session_id, SessionUpdateKind.ROSTER_CHANGED, entry_ids)


async def join_rosters(uow: UnitOfWork, payload: Payload, now: datetime) -> None:
    """Enrolled or promoted: on the roster of every session of the group that has not started."""
    if payload.get("status") not in (None, EnrollmentStatus.ENROLLED):
        return
    group_id, patient_id = (
        payload_uuid(payload["groupId"], "GroupDefinition"),
        payload_uuid(payload["patientId"], "Patient"),
    )
    added = await queries.join_upcoming_rosters(uow.db, group_id, patient_id, now)
    for entry_id, session_id in added:
        uow.audit(
            "session.participant_add",
            "RosterEntry",
            entry_id,
            after={"patientId": str(patient_id), "status": AttendanceStatus.SCHEDULED, "enrollmentEvent": True},
            session_id=session_id,
        )
    await _announce_roster_changes(uow, added)


async def leave_rosters(uow: UnitOfWork, payload: Payload, now: datetime) -> None:
    """Disenrolled or removed: off the rosters of the group's sessions that have not started,
    wherever their attendance is still SCHEDULED (a waitlisted patient was never on them)."""
    if payload.get("status") == EnrollmentStatus.WAITLISTED:
        return
    group_id, patient_id = (
        payload_uuid(payload["groupId"], "GroupDefinition"),
        payload_uuid(payload["patientId"], "Patient"),
    )
    removed = await queries.leave_upcoming_rosters(uow.db, group_id, patient_id, now)
    for entry_id, session_id in removed:
        uow.audit(
            "session.participant_remove",
            "RosterEntry",
            entry_id,
            before={"patientId": str(patient_id), "status": AttendanceStatus.SCHEDULED},
            session_id=session_id,
        )
    await _announce_roster_changes(uow, removed)


# Applied in the scheduling change's own transaction as well (UnitOfWork.apply_recorded_events), so
# its answer shows the session made, moved or cancelled; the feed then finds each one done.
IN_TRANSACTION = {
    "pm_group_session_scheduled": schedule_session,
    "pm_group_session_updated": move_session,
    "pm_group_session_cancelled": cancel_session,
}
IN_TRANSACTION_RUNS = {"pm_group_session_scheduled": schedule_sessions}

CONSUMER = Consumer(
    name="clinical-sessions",
    handlers={
        "pm_group_session_scheduled": schedule_session,
        "pm_group_session_updated": move_session,
        "pm_group_session_cancelled": cancel_session,
        "pm_group_enrollment_enrolled": join_rosters,
        "pm_group_enrollment_promoted": join_rosters,
        "pm_group_enrollment_disenrolled": leave_rosters,
        "pm_group_enrollment_removed": leave_rosters,
    },
    batch_handlers={"pm_group_session_scheduled": schedule_sessions},
)
