"""Group sessions (CL-14): ad-hoc sessions, late participants, and which session a caller may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.auth import Principal
from app.db import models
from app.db.queries import reference as reference_queries
from app.db.queries import sessions as queries
from app.db.queries.sessions import Lock
from app.db.uow import UnitOfWork
from app.errors import BadInput, Conflict, IllegalTransition, Locked, NotFound
from app.ids import encode_id
from app.operations.common import check, require_text, visible_or_not_found
from app.operations.consequences import RosterEntryAdded, SessionModalityChanged, handle
from app.rules.attendance import AttendanceStatus, session_window_problem
from app.rules.scheduling import GroupType
from app.rules.updates import touched
from app.rules.visits import Modality

MAX_AD_HOC_PATIENTS = 100


@dataclass(frozen=True)
class NewSession:
    facility_id: uuid.UUID
    group_type: GroupType
    title: str
    starts_at: datetime
    ends_at: datetime
    patient_ids: list[uuid.UUID]
    modality: Modality = Modality.IN_PERSON
    facilitator_id: uuid.UUID | None = None  # the rendering clinician of its claims (837P 2310B)


async def visible_session(
    db, actor: Principal, session_id: uuid.UUID, *, lock: Lock | None = None
) -> models.GroupSession:
    """The session when in one of the caller's facilities, held as `lock` says."""
    return visible_or_not_found(actor, await queries.session(db, session_id, lock=lock), "GroupSession")


def session_snapshot(session: models.GroupSession) -> dict[str, Any]:
    """The audit view of a session: ids and times, never free text that could name a patient."""
    return {
        "facilityId": str(session.facility_id),
        "groupId": str(session.group_id) if session.group_id else None,
        "occurrenceId": str(session.occurrence_id) if session.occurrence_id else None,
        "groupType": session.group_type,
        "startsAt": session.starts_at.isoformat(),
        "endsAt": session.ends_at.isoformat(),
        "modality": session.modality,
    }


async def create_group_session(uow: UnitOfWork, actor: Principal, data: NewSession) -> models.GroupSession:
    """An ad-hoc session (no group, no occurrence) with the patients given on its roster."""
    title = require_text("title", data.title)
    check(session_window_problem(data.starts_at, data.ends_at))
    if len(set(data.patient_ids)) != len(data.patient_ids):
        raise BadInput("patientIds lists a patient more than once")
    if len(data.patient_ids) > MAX_AD_HOC_PATIENTS:
        raise BadInput(f"patientIds may list at most {MAX_AD_HOC_PATIENTS} patients")
    db = uow.db
    facility = visible_or_not_found(actor, await db.get(models.Facility, data.facility_id), "Facility")
    facility_of = await reference_queries.facilities_of_patients(db, data.patient_ids)
    for pk in data.patient_ids:  # a patient the caller cannot see is NOT_FOUND, as one that does not exist
        if pk not in facility_of or not actor.sees_facility(facility_of[pk]):
            raise NotFound("No Patient with that id")
    missing = [pk for pk in data.patient_ids if facility_of[pk] != facility.id]
    if missing:
        raise BadInput(
            "patientIds must name patients of the session's facility: "
            + ", ".join(encode_id("Patient", pk) for pk in missing)
        )
    if data.facilitator_id is not None:
        facilitator = await db.get(models.Staff, data.facilitator_id)
        if facilitator is None or not actor.sees_facility(facilitator.facility_id):
            raise NotFound("No Staff with that id")
        if facilitator.facility_id != facility.id:
            raise BadInput("facilitatorId must name a staff member of the session's facility")
    session = models.GroupSession(
        facility_id=facility.id,
        facilitator_id=data.facilitator_id,
        group_type=data.group_type,
        title=title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        modality=data.modality,
    )
    db.add(session)
    await db.flush()
    await queries.add_roster_entries(db, session.id, data.patient_ids, now=uow.clock.now())
    await db.refresh(session)
    uow.audit(
        "session.create",
        "GroupSession",
        session.id,
        after={**session_snapshot(session), "patientIds": [str(pk) for pk in data.patient_ids]},
        session_id=session.id,
    )
    return session


async def add_roster_entry(
    uow: UnitOfWork, actor: Principal, session_id: uuid.UUID, patient_id: uuid.UUID
) -> models.RosterEntry:
    """A patient added to the roster by hand after the session was created (addedLate)."""
    db = uow.db
    session = await visible_session(db, actor, session_id, lock=Lock.WRITE)
    patient = visible_or_not_found(actor, await db.get(models.Patient, patient_id), "Patient")
    if patient.facility_id != session.facility_id:
        raise BadInput("patientId must name a patient of the session's facility")
    if session.cancelled_at is not None:
        raise IllegalTransition("The session is cancelled; its roster cannot change")
    if session.locked_at is not None:
        raise Locked("The session is locked by billing; its roster cannot change")
    made = await queries.add_roster_entries(db, session.id, [patient.id], now=uow.clock.now(), added_late=True)
    if not made:
        raise Conflict("The patient is already on this session's roster")
    entry = await db.get(models.RosterEntry, made[0])
    uow.audit(
        "session.participant_add",
        "RosterEntry",
        entry.id,
        after={"patientId": str(patient.id), "status": AttendanceStatus.SCHEDULED, "addedLate": True},
        session_id=session.id,
    )
    await handle(uow, RosterEntryAdded(session, [touched("RosterEntry", entry.id)]))
    return entry


async def set_session_modality(
    uow: UnitOfWork, actor: Principal, session_id: uuid.UUID, modality: Modality
) -> models.GroupSession:
    """How the room meets: in person, by video or by audio; members marked otherwise keep their own."""
    session = await visible_session(uow.db, actor, session_id, lock=Lock.WRITE)
    if session.cancelled_at is not None:
        raise IllegalTransition("The session is cancelled")
    if session.locked_at is not None:
        raise Locked("The session is locked by billing; its modality cannot change")
    before = session.modality
    if before == modality:
        raise IllegalTransition(f"The session is already {modality}")
    session.modality = modality
    uow.audit(
        "session.modality",
        "GroupSession",
        session.id,
        before={"modality": before},
        after={"modality": modality},
        session_id=session.id,
    )
    await handle(uow, SessionModalityChanged(session))
    return session
