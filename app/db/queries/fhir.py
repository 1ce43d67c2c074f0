"""The FHIR read API's searches: one page of each resource's rows (with the moment it last changed,
its meta.lastUpdated) under the facility walls and search criteria, and the rows a page's
resources list inside them (a group's members, an appointment's patients, a claim's items)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, and_, cast, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import core_rows
from app.rules.attendance import AttendanceStatus
from app.rules.fhir import Range, claim_statuses_for
from app.rules.visits import Modality
from app.rules.waitlist import EnrollmentStatus

P, ST, G, O, E, S = (
    models.Patient,
    models.Staff,
    models.GroupDefinition,
    models.GroupOccurrence,
    models.RosterEntry,
    models.GroupSession,
)
C, CL, EN = models.Charge, models.Claim, models.Enrollment


@dataclass(frozen=True)
class Criteria:
    """A search, in our terms: None is no condition."""

    facility_ids: Sequence[uuid.UUID] | None
    now: datetime
    offset: int = 0
    limit: int = 50
    ids: Sequence[uuid.UUID] | None = None
    last_updated: Range | None = None
    date: Range | None = None
    statuses: Sequence[str] | None = None  # FHIR status codes
    patient_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    encounter_class: str | None = None


def _within(column: Any, moments: Range | None) -> list[Any]:
    if moments is None:
        return []
    conditions = []
    if moments.start is not None:
        conditions.append(column >= moments.start)
    if moments.end is not None:
        conditions.append(column < moments.end)
    return conditions


def _common(criteria: Criteria, id_column: Any, facility_column: Any, updated: Any) -> list[Any]:
    conditions = _within(updated, criteria.last_updated)
    if criteria.facility_ids is not None:
        conditions.append(facility_column.in_(criteria.facility_ids) if criteria.facility_ids else false())
    if criteria.ids is not None:
        conditions.append(id_column.in_(criteria.ids) if criteria.ids else false())
    return conditions


async def _page(db: AsyncSession, query: Select, criteria: Criteria, *order_by: Any) -> tuple[list[Any], int]:
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    rows = await core_rows(db, query.order_by(*order_by).offset(criteria.offset).limit(criteria.limit))
    return list(rows), int(total or 0)


# ------------------------------------------------------------------ each resource's rows


async def patients(db: AsyncSession, criteria: Criteria) -> tuple[list[Any], int]:
    updated = P.created_at
    query = select(P.id, P.mrn, P.name, P.date_of_birth, P.sex, P.facility_id, updated.label("last_updated")).where(
        *_common(criteria, P.id, P.facility_id, updated)
    )
    return await _page(db, query, criteria, updated, P.id)


async def practitioners(db: AsyncSession, criteria: Criteria) -> tuple[list[Any], int]:
    updated = ST.created_at
    query = select(ST.id, ST.name, ST.npi, ST.facility_id, updated.label("last_updated")).where(
        *_common(criteria, ST.id, ST.facility_id, updated)
    )
    return await _page(db, query, criteria, updated, ST.id)


def _enrolled() -> Any:
    return and_(EN.status == EnrollmentStatus.ENROLLED, EN.deleted_at.is_(None))


async def groups(db: AsyncSession, criteria: Criteria) -> tuple[list[Any], int]:
    membership_changed = (
        select(func.max(func.greatest(EN.created_at, EN.enrolled_at, EN.disenrolled_at, EN.deleted_at)))
        .where(EN.group_id == G.id)
        .scalar_subquery()
    )
    members = select(func.count()).where(EN.group_id == G.id, _enrolled()).scalar_subquery()
    updated = func.greatest(G.updated_at, G.deleted_at, membership_changed)
    conditions = _common(criteria, G.id, G.facility_id, updated)
    if criteria.member_id is not None:
        conditions.append(exists().where(EN.group_id == G.id, EN.patient_id == criteria.member_id, _enrolled()))
    query = select(
        G.id,
        G.name,
        G.group_type,
        G.facility_id,
        G.facilitator_id,
        G.deleted_at,
        members.label("member_count"),
        updated.label("last_updated"),
    ).where(*conditions)
    return await _page(db, query, criteria, G.created_at, G.id)


async def group_members(db: AsyncSession, group_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    rows = await core_rows(
        db,
        select(EN.group_id, EN.patient_id, EN.enrolled_at)
        .where(EN.group_id.in_(group_ids), _enrolled())
        .order_by(EN.enrolled_at, EN.id),
    )
    return _grouped(rows, "group_id")


def _grouped(rows: Sequence[Any], key: str) -> dict[uuid.UUID, list[Any]]:
    grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def _on_roster_of_occurrence(patient_id: uuid.UUID) -> Any:
    return exists().where(S.occurrence_id == O.id, E.session_id == S.id, E.patient_id == patient_id)


async def appointments(db: AsyncSession, criteria: Criteria) -> tuple[list[Any], int]:
    updated = func.greatest(O.updated_at, O.cancelled_at)
    conditions = _common(criteria, O.id, G.facility_id, updated) + _within(O.starts_at, criteria.date)
    if criteria.statuses is not None:
        cases = {
            "cancelled": O.cancelled_at.is_not(None),
            "fulfilled": and_(O.cancelled_at.is_(None), O.ends_at <= criteria.now),
            "booked": and_(O.cancelled_at.is_(None), O.ends_at > criteria.now),
        }
        conditions.append(or_(false(), *(cases[s] for s in criteria.statuses if s in cases)))
    if criteria.patient_id is not None:
        conditions.append(_on_roster_of_occurrence(criteria.patient_id))
    if criteria.practitioner_id is not None:
        conditions.append(
            or_(O.facilitator_id == criteria.practitioner_id, O.co_facilitator_id == criteria.practitioner_id)
        )
    query = (
        select(
            O.id,
            O.starts_at,
            O.ends_at,
            O.cancelled_at,
            O.cancellation_reason,
            O.facilitator_id,
            O.co_facilitator_id,
            O.location,
            G.id.label("group_id"),
            G.name,
            G.group_type,
            G.facility_id,
            updated.label("last_updated"),
        )
        .join(G, G.id == O.group_id)
        .where(*conditions)
    )
    return await _page(db, query, criteria, O.starts_at, O.id)


async def appointment_patients(db: AsyncSession, occurrence_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    rows = await core_rows(
        db,
        select(S.occurrence_id, E.patient_id, E.status)
        .join(S, S.id == E.session_id)
        .where(S.occurrence_id.in_(occurrence_ids))
        .order_by(E.created_at, E.id),
    )
    return _grouped(rows, "occurrence_id")


async def encounters(db: AsyncSession, criteria: Criteria) -> tuple[list[Any], int]:
    updated = func.greatest(E.updated_at, E.created_at, S.cancelled_at)
    conditions = _common(criteria, E.id, S.facility_id, updated) + _within(S.starts_at, criteria.date)
    if criteria.statuses is not None:
        live = S.cancelled_at.is_(None)
        cases = {
            "planned": and_(live, E.status == AttendanceStatus.SCHEDULED),
            "finished": and_(live, E.status.in_([AttendanceStatus.ATTENDED, AttendanceStatus.LATE])),
            "cancelled": or_(S.cancelled_at.is_not(None), E.status == AttendanceStatus.ABSENT),
        }
        conditions.append(or_(false(), *(cases[s] for s in criteria.statuses if s in cases)))
    if criteria.patient_id is not None:
        conditions.append(E.patient_id == criteria.patient_id)
    if criteria.encounter_class is not None:
        in_person = func.coalesce(E.modality, S.modality) == Modality.IN_PERSON.value
        conditions.append(in_person if criteria.encounter_class == "AMB" else ~in_person)
    query = (
        select(
            E.id,
            E.patient_id,
            E.status,
            E.arrived_at,
            E.departed_at,
            E.modality,
            S.modality.label("session_modality"),
            S.id.label("session_id"),
            S.title,
            S.group_type,
            S.starts_at,
            S.ends_at,
            S.cancelled_at,
            S.facilitator_id,
            S.occurrence_id,
            S.facility_id,
            updated.label("last_updated"),
        )
        .join(S, S.id == E.session_id)
        .where(*conditions)
    )
    return await _page(db, query, criteria, S.starts_at, E.id)


def _entry_of_charge() -> Any:
    return and_(E.session_id == C.session_id, E.patient_id == C.patient_id)


async def charge_items(db: AsyncSession, criteria: Criteria) -> tuple[list[Any], int]:
    updated = func.greatest(C.created_at, C.voided_at)
    service_moment = func.timezone("UTC", cast(C.service_date, DateTime))
    conditions = _common(criteria, C.id, S.facility_id, updated) + _within(service_moment, criteria.date)
    if criteria.patient_id is not None:
        conditions.append(C.patient_id == criteria.patient_id)
    query = (
        select(
            C.id,
            C.patient_id,
            C.service_date,
            C.procedure_code,
            C.modifiers,
            C.place_of_service,
            C.units,
            C.amount,
            C.status,
            C.created_at,
            E.id.label("entry_id"),
            S.facility_id,
            updated.label("last_updated"),
        )
        .join(S, S.id == C.session_id)
        .outerjoin(E, _entry_of_charge())
        .where(*conditions)
    )
    return await _page(db, query, criteria, C.created_at, C.id)


async def claims(db: AsyncSession, criteria: Criteria) -> tuple[list[Any], int]:
    updated = func.greatest(CL.created_at, CL.submitted_at)
    conditions = _common(criteria, CL.id, S.facility_id, updated) + _within(CL.created_at, criteria.date)
    if criteria.statuses is not None:
        conditions.append(CL.status.in_(sorted(claim_statuses_for(criteria.statuses))))
    if criteria.patient_id is not None:
        conditions.append(CL.patient_id == criteria.patient_id)
    query = (
        select(
            CL.id,
            CL.claim_number,
            CL.patient_id,
            CL.status,
            CL.frequency,
            CL.original_claim_id,
            CL.total_amount,
            CL.created_at,
            models.Payer.name.label("payer_name"),
            models.Payer.payer_code,
            S.facilitator_id,
            S.facility_id,
            updated.label("last_updated"),
        )
        .join(S, S.id == CL.session_id)
        .join(models.Payer, models.Payer.id == CL.payer_id)
        .where(*conditions)
    )
    return await _page(db, query, criteria, CL.created_at, CL.id)


async def claim_items(db: AsyncSession, claim_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    link = models.claim_charges
    rows = await core_rows(
        db,
        select(
            link.c.claim_id,
            C.id,
            C.service_date,
            C.procedure_code,
            C.modifiers,
            C.place_of_service,
            C.units,
            C.amount,
            E.id.label("entry_id"),
        )
        .join(C, C.id == link.c.charge_id)
        .outerjoin(E, _entry_of_charge())
        .where(link.c.claim_id.in_(claim_ids))
        .order_by(C.created_at, C.id),
    )
    return _grouped(rows, "claim_id")
