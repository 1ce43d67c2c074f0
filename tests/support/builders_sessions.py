"""Session helpers for tests: ad-hoc sessions, scheduling-feed events, a pinned clock and the
few arrangements the API cannot make (a billing lock)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from app.db import models
from app.ids import decode_id, encode_id
from app.operations.work import unit_of_work

PHOENIX = ZoneInfo("America/Phoenix")
# Tuesday 10 March 2026, 10:00 in Phoenix (17:00 UTC): the clinic's "now" in most tests.
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=PHOENIX)

ROSTER_FIELDS = "id status allowedNext billable addedLate updatedAt patient { id }"
SUPERVISOR_FIELDS = "id status allowedNext staff { id }"
SESSION_FIELDS = f"""
id title status locked groupType startsAt endsAt sessionDate startTime endTime occurrenceId
cancelledAt cancellationReason facility {{ id }} group {{ id }}
roster {{ {ROSTER_FIELDS} }}
supervisors {{ {SUPERVISOR_FIELDS} }}
attendance {{ scheduled attended late absent total terminal }}
"""

CREATE_SESSION = f"""
mutation($input: CreateGroupSessionInput!) {{ createGroupSession(input: $input) {{ {SESSION_FIELDS} }} }}"""

SESSION = f"""query($id: ID!) {{ groupSession(id: $id) {{ {SESSION_FIELDS} }} }}"""

SET_ATTENDANCE = f"""
mutation($participantId: ID!, $status: AttendanceStatus!, $expectedStatus: AttendanceStatus, $force: Boolean, $reason: String) {{
  setAttendance(participantId: $participantId, status: $status, expectedStatus: $expectedStatus, force: $force, reason: $reason) {{
    {ROSTER_FIELDS}
  }}
}}"""

SET_SUPERVISOR = f"""
mutation($sessionId: ID!, $staffId: ID!, $status: AttendanceStatus!, $expectedStatus: AttendanceStatus, $force: Boolean, $reason: String) {{
  setSupervisorAttendance(sessionId: $sessionId, staffId: $staffId, status: $status, expectedStatus: $expectedStatus, force: $force, reason: $reason) {{
    {SUPERVISOR_FIELDS}
  }}
}}"""


def set_now(clock, instant: datetime) -> None:
    """Move the app's clock so that it reads `instant` (it keeps ticking from there)."""
    clock.advance(instant - clock.now())


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    """A Phoenix wall-clock time in March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=PHOENIX)


async def create_session(
    gql,
    clinic,
    patients: list[str] | None = None,
    starts_at: datetime | None = None,
    minutes: int = 90,
    **overrides,
) -> dict:
    starts_at = starts_at or at(9)
    data = {
        "facilityId": clinic.facility_id,
        "groupType": "THERAPY",
        "title": "Morning CBT",
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(minutes=minutes)).isoformat(),
        "patientIds": patients if patients is not None else list(clinic.patients),
    }
    data.update(overrides)
    if clinic.staff and data["facilityId"] == clinic.facility_id:  # the rendering clinician (837P 2310B)
        data.setdefault("facilitatorId", clinic.staff[0])
    return (await gql.execute(CREATE_SESSION, {"input": data}))["createGroupSession"]


async def get_session(gql, session_id: str) -> dict:
    return (await gql.execute(SESSION, {"id": session_id}))["groupSession"]


def raw(global_id: str, type_name: str) -> str:
    return str(decode_id(global_id, type_name))


def occurrence_payload(
    facility_id: str,
    group_id: str,
    starts_at: datetime,
    minutes: int = 90,
    occurrence_id: str | None = None,
    group_type: str = "THERAPY",
    title: str = "Morning CBT",
) -> dict:
    """A pm_group_session_* payload as the scheduling side writes it (raw UUIDs, UTC times)."""
    ends_at = starts_at + timedelta(minutes=minutes)
    local = starts_at.astimezone(PHOENIX)
    return {
        "occurrenceId": occurrence_id or str(uuid.uuid4()),
        "groupId": raw(group_id, "GroupDefinition"),
        "facilityId": raw(facility_id, "Facility"),
        "groupType": group_type,
        "title": title,
        "startsAt": starts_at.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z"),
        "endsAt": ends_at.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z"),
        "sessionDate": local.date().isoformat(),
        "startTime": local.time().isoformat(),
        "facilitatorId": str(uuid.uuid4()),
    }


def enrollment_payload(group_id: str, patient_id: str, facility_id: str, status: str = "ENROLLED") -> dict:
    return {
        "enrollmentId": str(uuid.uuid4()),
        "groupId": raw(group_id, "GroupDefinition"),
        "patientId": raw(patient_id, "Patient"),
        "facilityId": raw(facility_id, "Facility"),
        "status": status,
        "waitlistPosition": None,
    }


async def record_events(services, *events: tuple[str, dict]) -> None:
    """Commit events to the outbox as a producer would; the feed drains them on commit."""
    async with unit_of_work(services, "test") as uow:
        for event_type, payload in events:
            uow.record_event(event_type, payload)


async def put_enrollment(
    services, group_id: str, patient_id: str, status: str = "ENROLLED", position: int | None = None
) -> None:
    """An enrollment row as the scheduling side keeps it (the roster is read from these)."""
    async with services.sessionmaker() as session, session.begin():
        session.add(
            models.Enrollment(
                group_id=decode_id(group_id, "GroupDefinition"),
                patient_id=decode_id(patient_id, "Patient"),
                status=status,
                waitlist_position=position if status == "WAITLISTED" else None,
            )
        )


async def sessions_for_occurrence(services, occurrence_id: str) -> list[models.GroupSession]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(
            select(models.GroupSession).where(models.GroupSession.occurrence_id == uuid.UUID(occurrence_id))
        )
        return list(rows)


def session_id_of(row: models.GroupSession) -> str:
    return encode_id("GroupSession", row.id)


async def lock_session(services, session_id: str, when: datetime | None = None) -> None:
    """What billing does once a claim exists (the billing pipeline is not under test here)."""
    async with services.sessionmaker() as session, session.begin():
        await session.execute(
            update(models.GroupSession)
            .where(models.GroupSession.id == decode_id(session_id, "GroupSession"))
            .values(locked_at=when or datetime.now(ZoneInfo("UTC")))
        )


async def cancel_directly(services, session_id: str, reason: str = "Facility closed") -> None:
    async with services.sessionmaker() as session, session.begin():
        await session.execute(
            update(models.GroupSession)
            .where(models.GroupSession.id == decode_id(session_id, "GroupSession"))
            .values(cancelled_at=datetime.now(ZoneInfo("UTC")), cancellation_reason=reason)
        )


async def audit_rows(services, action: str | None = None) -> list[models.AuditEntry]:
    query = select(models.AuditEntry).order_by(models.AuditEntry.id)
    if action:
        query = query.where(models.AuditEntry.action == action)
    async with services.sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def payer_claim_number_arrives(services, claim_id: str, number: str) -> None:
    """The payer's claim control number for the claim, as its 277CA (REF*1K) or 835 (CLP07) brings it: what a
    later void or replacement sends in REF*F8 (005010X222A1 2300 REF*F8)."""
    async with services.sessionmaker() as session, session.begin():
        await session.execute(
            update(models.Claim)
            .where(models.Claim.id == decode_id(claim_id, "Claim"))
            .values(payer_claim_number=number)
        )
