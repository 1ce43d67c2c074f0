"""What the billing rules need for a set of sessions, loaded in a fixed number of statements."""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.ids import encode_id
from app.rules import billing as rules


@dataclass
class BillingInputs:
    """The arguments of rules.build_billing_preview for one session, plus lookups for charges."""

    session: models.GroupSession
    session_date: date
    state: str
    members: list[rules.Participant] = field(default_factory=list)
    supervisors: list[rules.Participant] = field(default_factory=list)
    bands_by_payer: dict[uuid.UUID, list[rules.Band]] = field(default_factory=dict)
    ratio_by_payer: dict[uuid.UUID, int] = field(default_factory=dict)
    accepted_codes: frozenset[str] = frozenset()
    patient_by_participant: dict[str, uuid.UUID] = field(default_factory=dict)

    def preview(self) -> rules.Preview:
        return rules.build_billing_preview(
            members=self.members,
            supervisors=self.supervisors,
            session_date=self.session_date,
            state=self.state,
            bands_by_payer=self.bands_by_payer,
            ratio_by_payer=self.ratio_by_payer,
            accepted_codes=self.accepted_codes,
        )

    def charge_lines(self) -> tuple[rules.ChargeLine, ...]:
        return rules.charge_lines(self.members, session_date=self.session_date, bands_by_payer=self.bands_by_payer)


def roster_entry_id(participant_id: uuid.UUID) -> str:
    return encode_id("RosterEntry", participant_id)


async def billing_inputs_for_sessions(
    db: AsyncSession, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, BillingInputs]:
    rows = (
        await db.execute(
            select(models.GroupSession, models.Facility)
            .join(models.Facility, models.Facility.id == models.GroupSession.facility_id)
            .where(models.GroupSession.id.in_(session_ids))
        )
    ).all()
    inputs: dict[uuid.UUID, BillingInputs] = {}
    for session, facility in rows:
        local_date = session.starts_at.astimezone(ZoneInfo(facility.timezone)).date()
        inputs[session.id] = BillingInputs(session=session, session_date=local_date, state=facility.state)
    if not inputs:
        return inputs

    participants = (
        await db.scalars(
            select(models.SessionParticipant)
            .where(models.SessionParticipant.session_id.in_(inputs))
            .order_by(models.SessionParticipant.created_at, models.SessionParticipant.id)
        )
    ).all()
    patient_ids = {p.patient_id for p in participants}
    coverages: dict[uuid.UUID, list[rules.Coverage]] = defaultdict(list)
    if patient_ids:
        for coverage, payer_code in (
            await db.execute(
                select(models.Coverage, models.Payer.payer_code)
                .join(models.Payer, models.Payer.id == models.Coverage.payer_id)
                .where(models.Coverage.patient_id.in_(patient_ids))
            )
        ).all():
            coverages[coverage.patient_id].append(
                rules.Coverage(
                    payer_id=coverage.payer_id,
                    payer_code=payer_code,
                    priority=coverage.priority,
                    effective_from=coverage.effective_from,
                    effective_to=coverage.effective_to,
                    member_id=coverage.member_id,
                )
            )
    for p in participants:
        entry = inputs[p.session_id]
        rid = roster_entry_id(p.id)
        entry.members.append(rules.Participant(id=rid, status=p.status, coverages=tuple(coverages[p.patient_id])))
        entry.patient_by_participant[rid] = p.patient_id

    supervisors = await supervisors_for_sessions(db, inputs.keys(), participants)
    for session_id, marks in supervisors.items():
        inputs[session_id].supervisors = [
            rules.Participant(id=encode_id("SupervisorAttendance", f"{session_id}.{staff_id}"), status=status)
            for staff_id, status in marks
        ]

    states = {i.state for i in inputs.values()}
    bands: dict[tuple[str, uuid.UUID], list[rules.Band]] = defaultdict(list)
    for band in (
        await db.scalars(
            select(models.GroupSizeBand)
            .where(models.GroupSizeBand.state.in_(states))
            .order_by(models.GroupSizeBand.min_size)
        )
    ).all():
        bands[(band.state, band.payer_id)].append(
            rules.Band(band.min_size, band.max_size, band.procedure_code, tuple(band.modifiers or ()), band.rate)
        )
    ratios = {
        (r.state, r.payer_id): r.max_participants_per_supervisor
        for r in (await db.scalars(select(models.SupervisionRule).where(models.SupervisionRule.state.in_(states)))).all()
    }
    accepted: dict[uuid.UUID, set[str]] = defaultdict(set)
    for issue in (
        await db.scalars(
            select(models.AcceptedBillingIssue).where(models.AcceptedBillingIssue.session_id.in_(inputs))
        )
    ).all():
        accepted[issue.session_id].add(issue.code)
    for session_id, entry in inputs.items():
        entry.bands_by_payer = {payer: b for (state, payer), b in bands.items() if state == entry.state}
        entry.ratio_by_payer = {payer: r for (state, payer), r in ratios.items() if state == entry.state}
        entry.accepted_codes = frozenset(accepted[session_id])
    return inputs


async def supervisors_for_sessions(
    db: AsyncSession, session_ids, participants: Sequence[models.SessionParticipant]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """Every distinct staff member SUPERVISING a rostered patient, with their attendance (default SCHEDULED)."""
    session_ids = list(session_ids)
    patients_by_session: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for p in participants:
        patients_by_session[p.session_id].add(p.patient_id)
    all_patients = set().union(*patients_by_session.values()) if patients_by_session else set()
    supervising: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if all_patients:
        for staff_id, patient_id in (
            await db.execute(
                select(models.StaffAssignment.staff_id, models.StaffAssignment.patient_id).where(
                    models.StaffAssignment.patient_id.in_(all_patients),
                    models.StaffAssignment.role == "SUPERVISING",
                )
            )
        ).all():
            supervising[patient_id].add(staff_id)
    marks = {
        (row.session_id, row.staff_id): row.status
        for row in (
            await db.scalars(
                select(models.SupervisorAttendanceRow).where(models.SupervisorAttendanceRow.session_id.in_(session_ids))
            )
        ).all()
    }
    out: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for session_id in session_ids:
        staff = sorted({s for patient in patients_by_session.get(session_id, ()) for s in supervising[patient]}, key=str)
        out[session_id] = [(s, marks.get((session_id, s), "SCHEDULED")) for s in staff]
    return out
