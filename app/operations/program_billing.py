"""Program billing per diem (issue 29): once the last of a patient's program sessions of a day is billed, the
day gets one per-diem charge and claim (hung on that last session) when they were present for the payer's
minimum hours; a correction to any session of the day rebuilds the day's claim through the same plan
(app.rules.claims.plan_correction): a replacement, a void, or nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.auth import Principal
from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import coverage as queries
from app.db.queries.reference import coverages_by_patient
from app.db.uow import UnitOfWork
from app.operations import authorizations
from app.operations.claim_building import (
    claim_record,
    hold_without_payer_number,
    retire_rejected,
    void_claim,
    write_charge_with_claim,
)
from app.operations.common import check
from app.operations.reference import payer as existing_payer
from app.rules.billing import MEMBER_ISSUES, ChargeLine, Coverage, member_primary_coverage
from app.rules.claims import (
    ActiveCharge,
    Answer,
    ChargeStatus,
    ClaimFrequency,
    ClaimStatus,
    plan_correction,
)
from app.rules.fees import fee_key
from app.rules.program_billing import (
    PROGRAMS,
    DayDecision,
    anchor_session,
    local_day,
    per_diem_line,
    program_day,
    program_rule_problems,
)


async def settle_days(
    uow: UnitOfWork, session: models.GroupSession, resubmit: frozenset[uuid.UUID] = frozenset()
) -> None:
    """After the session was billed or rebilled: bill, correct or leave each of its members' program days; the
    day's claim of a patient in `resubmit` (a claim-level correction) is sent again even when its line stands."""
    if session.group_type not in PROGRAMS:
        return
    db = uow.db
    await db.flush()  # the session's billed_at, read back with the day's stays
    facility = await db.get(models.Facility, session.facility_id)
    day = local_day(session.starts_at, facility.timezone)
    zone = ZoneInfo(facility.timezone)
    starts_from = datetime.combine(day, time(), zone)
    starts_before = datetime.combine(day + timedelta(days=1), time(), zone)
    entries = await billing_queries.members_with_note_status(db, [session.id])
    patient_ids = sorted({member.entry.patient_id for member in entries})
    if not patient_ids:
        return
    primaries = {}
    for patient_id, rows in zip(patient_ids, await coverages_by_patient(db, patient_ids), strict=True):
        chosen = member_primary_coverage(
            (
                Coverage(r.payer_id, str(r.payer_id), r.priority, r.effective_from, r.effective_to, r.member_id)
                for r in rows
            ),
            day,
        )
        if chosen is not None:
            primaries[patient_id] = chosen
    programs = await queries.programs_of_payers(db, {c.payer_id for c in primaries.values()})
    fees: dict | None = None  # the facility's fee schedule, read for the first day billed
    for patient_id, coverage in primaries.items():
        row = programs.get((coverage.payer_id, session.group_type))
        if row is None:
            continue
        await queries.lock_program_day(db, patient_id, day)
        stays = (
            await queries.program_stays(db, facility.id, session.group_type, (starts_from, starts_before), [patient_id])
        ).get(patient_id, [])
        rule = queries.program_rule(row)
        outcome = program_day(stays, rule)
        if outcome.decision is DayDecision.WAIT:
            continue
        line = None
        if outcome.decision is DayDecision.BILL:
            if fees is None:
                schedule = await billing_queries.fee_schedule(db, facility.id)
                fees = {fee_key(f.procedure_code, f.modifiers or ()): f.amount for f in schedule}
            line = per_diem_line(rule, patient_id=patient_id, coverage=coverage, day=day, fees=fees)
        anchor = await db.get(models.GroupSession, anchor_session(stays))
        await _correct_day(uow, anchor, patient_id, day, line, hours=outcome.hours, resubmit=resubmit)


async def _correct_day(
    uow: UnitOfWork,
    anchor: models.GroupSession,
    patient_id: uuid.UUID,
    day,
    line: ChargeLine | None,
    *,
    hours: float,
    resubmit: frozenset[uuid.UUID] = frozenset(),
) -> None:
    db = uow.db
    now = uow.clock.now()
    charge = await queries.per_diem_charge_for_update(db, patient_id, day)
    claims = await queries.per_diem_claims_for_update(db, patient_id, day)
    active = {}
    if charge is not None:
        active[patient_id] = ActiveCharge(
            charge.id, charge.payer_id, charge.procedure_code, tuple(charge.modifiers or ()), charge.amount
        )
    history = {patient_id: [claim_record(c) for c in claims]}
    by_id = {c.id: c for c in claims}
    built: list[models.Charge] = []
    made: list[models.Claim] = []
    for correction in plan_correction(
        {patient_id: line} if line else {}, active, history if claims else {}, resubmit & {patient_id}
    ):
        if correction.answer in (Answer.KEEP, Answer.NONE) and correction.void_charge is None:
            continue
        if correction.void_charge is not None and charge is not None:
            charge.status, charge.voided_at = ChargeStatus.VOIDED, now
            await authorizations.give_back(uow, [charge])
        for claim_id in correction.void_drafts:
            by_id[claim_id].status = ClaimStatus.VOIDED
        await db.flush()
        await retire_rejected(uow, anchor.facility_id, correction, by_id)
        if correction.answer == Answer.ORIGINAL:
            before = by_id[correction.answers_rejected[-1]] if correction.answers_rejected else None
            new_charge, new_claim = await _per_diem(uow, anchor, patient_id, correction.line, original=before)
        elif correction.answer == Answer.REPLACEMENT:
            by_id[correction.corrects].status = ClaimStatus.REPLACED
            await db.flush()
            new_charge, new_claim = await _per_diem(
                uow,
                anchor,
                patient_id,
                correction.line,
                frequency=ClaimFrequency.REPLACEMENT,
                original=by_id[correction.corrects],
            )
        elif correction.answer == Answer.VOID:
            held = by_id[correction.corrects]
            held.status = ClaimStatus.VOIDED
            await db.flush()
            new_charge, new_claim = None, await void_claim(uow, held)
        else:
            continue
        if new_charge is not None:
            built.append(new_charge)
        made.append(new_claim)
    if built or made:
        uow.audit(
            "program_day.bill",
            "GroupSession",
            anchor.id,
            before={"charge": str(charge.id) if charge is not None else None},
            after={
                "patientId": str(patient_id),
                "serviceDate": day.isoformat(),
                "hours": hours,
                "charges": [str(c.id) for c in built],
                "claims": [str(c.id) for c in made],
            },
            session_id=anchor.id,
        )
        uow.record_event(
            "group_session_documented",
            {
                "sessionId": str(anchor.id),
                "facilityId": str(anchor.facility_id),
                "occurrenceId": str(anchor.occurrence_id) if anchor.occurrence_id else None,
                "groupId": str(anchor.group_id) if anchor.group_id else None,
                "reason": "program_day",
                "chargeIds": [str(c.id) for c in built],
                "claimIds": [str(c.id) for c in made],
            },
        )


async def _per_diem(
    uow: UnitOfWork,
    anchor: models.GroupSession,
    patient_id: uuid.UUID,
    line: ChargeLine,
    *,
    frequency: ClaimFrequency = ClaimFrequency.ORIGINAL,
    original: models.Claim | None = None,
) -> tuple[models.Charge, models.Claim]:
    """The day's charge and claim, built as a session's are (app.operations.claim_building), hung on the day's
    last session; a replacement is held until the payer's number of the claim it replaces is known."""
    validation = await _member_findings(uow, anchor, patient_id)
    if original is not None and frequency != ClaimFrequency.ORIGINAL:
        validation += hold_without_payer_number(original)
    charge, claim = await write_charge_with_claim(
        uow,
        anchor,
        patient_id,
        line,
        validation,
        frequency=frequency,
        original=original.id if original is not None else None,
        per_diem=True,
    )
    return charge, claim


async def _member_findings(uow: UnitOfWork, anchor: models.GroupSession, patient_id: uuid.UUID) -> list[dict]:
    """What the day's last session's preview found about the patient (coverage, authorization, their note):
    the per-diem claim carries it as the session's claims carry theirs."""
    inputs = (await billing_queries.billing_inputs(uow.db, [anchor.id]))[anchor.id]
    entries = {entry for entry, patient in inputs.patient_by_entry.items() if patient == patient_id}
    return [
        issue.as_json()
        for issue in inputs.preview().issues
        if issue.code in MEMBER_ISSUES and entries & set(issue.roster_entry_ids)
    ]


# ---------------------------------------------------------------- a payer's programs


@dataclass(frozen=True)
class ProgramSpec:
    program: str
    procedure_code: str
    modifiers: tuple[str, ...]
    rate: Decimal
    minimum_hours: Decimal
    sessions_bill_too: bool


def program_snapshot(row: models.PayerProgram | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "program": row.program,
        "procedureCode": row.procedure_code,
        "modifiers": list(row.modifiers or ()),
        "rate": str(row.rate),
        "minimumHours": str(row.minimum_hours),
        "sessionsBillToo": row.sessions_bill_too,
    }


async def set_payer_program(
    uow: UnitOfWork, actor: Principal, payer_id: uuid.UUID, spec: ProgramSpec
) -> models.PayerProgram:
    """Bill the program per diem at this payer: its code and modifiers, rate, the minimum hours a patient is
    present that day, and whether its group sessions bill on their own as well."""
    spec = ProgramSpec(
        spec.program,
        spec.procedure_code.strip().upper(),
        tuple(m.strip().upper() for m in spec.modifiers),
        spec.rate,
        spec.minimum_hours,
        spec.sessions_bill_too,
    )
    check(
        "; ".join(
            program_rule_problems(
                program=spec.program,
                procedure_code=spec.procedure_code,
                modifiers=spec.modifiers,
                rate=spec.rate,
                minimum_hours=spec.minimum_hours,
            )
        )
        or None
    )
    payer = await existing_payer(uow.db, payer_id)
    row = await queries.lock_program(uow.db, payer.id, spec.program)
    before = program_snapshot(row)
    if row is None:
        row = models.PayerProgram(payer_id=payer.id, program=spec.program)
        uow.db.add(row)
    row.procedure_code, row.modifiers, row.rate = spec.procedure_code, list(spec.modifiers), spec.rate
    row.minimum_hours, row.sessions_bill_too = spec.minimum_hours, spec.sessions_bill_too
    row.updated_at = uow.clock.now()
    await uow.db.flush()
    uow.audit("payer_program.set", "PayerProgram", payer.id, before=before or {}, after=program_snapshot(row))
    return row
