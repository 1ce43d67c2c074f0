"""The billing pipeline: charges and claims for ended sessions, exactly once; rebuilt after a force update.

Started three ways: the periodic sweep, `runBilling`, and `group-sessions bill-due`. Each session is
billed in its own transaction under a row lock (`SKIP LOCKED` in the sweep), and partial unique
indexes on charges and open claims are the last line of defence against a double build.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, insert, or_, select

from app.db import models
from app.db.billing_queries import BillingInputs, billing_inputs_for_sessions
from app.db.uow import UnitOfWork
from app.events.wiring import unit_of_work
from app.live.publish import stage_session_update
from app.rules.billing import ChargeLine, Preview

log = logging.getLogger(__name__)
SWEEP_ACTOR = "billing-sweep"


def new_claim_number() -> str:
    return "GS" + secrets.token_hex(6).upper()


def _issues_json(preview: Preview) -> list[dict]:
    return [issue.as_json() for issue in preview.issues]


def _occurrence_holds_billing(now: datetime):
    """The session's occurrence was cancelled or moved, and the clinical feed has not caught up yet."""
    occurrence, session = models.GroupOccurrence, models.GroupSession
    return exists().where(
        occurrence.id == session.occurrence_id,
        or_(
            occurrence.cancelled_at.is_not(None),
            occurrence.ends_at > now,
            occurrence.starts_at != session.starts_at,
            occurrence.ends_at != session.ends_at,
        ),
    )


def _due_session_query(now: datetime, skipped: set[uuid.UUID]):
    query = (
        select(models.GroupSession)
        .where(
            models.GroupSession.billed_at.is_(None),
            models.GroupSession.cancelled_at.is_(None),
            models.GroupSession.ends_at <= now,
            ~_occurrence_holds_billing(now),
        )
        .order_by(models.GroupSession.ends_at, models.GroupSession.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return query.where(models.GroupSession.id.not_in(skipped)) if skipped else query


async def occurrence_billing_refusal(db, session_row: models.GroupSession, now: datetime) -> str | None:
    """Why the session may not be billed now because of its occurrence, read after the session row
    is locked. Cancelling or moving an occurrence holds that row (FOR SHARE) until it commits, and
    the clinical feed cancels or moves the session only afterwards: this statement's fresh snapshot
    sees a cancellation or move that committed before the lock was taken; one that had not, waits
    for the billing run and then answers LOCKED."""
    if session_row.occurrence_id is None:
        return None
    occurrence = await db.scalar(
        select(models.GroupOccurrence)
        .where(models.GroupOccurrence.id == session_row.occurrence_id)
        .execution_options(populate_existing=True)
    )
    if occurrence is None:
        return None
    if occurrence.cancelled_at is not None:
        return "The session's occurrence is cancelled; a cancelled session is not billed"
    if occurrence.ends_at > now:
        return "The session's occurrence was moved and has not ended yet"
    if (occurrence.starts_at, occurrence.ends_at) != (session_row.starts_at, session_row.ends_at):
        return "The session's occurrence was just moved; bill it once the session follows"
    return None


async def bill_due_sessions(services, actor: str = SWEEP_ACTOR) -> int:
    """Bill every ended, unbilled session; safe to run from several processes at once."""
    billed = 0
    skipped: set[uuid.UUID] = set()
    while True:
        async with unit_of_work(services, actor) as uow:
            now = services.clock.now()
            session_row = await uow.session.scalar(_due_session_query(now, skipped))
            if session_row is None:
                return billed
            if await occurrence_billing_refusal(uow.session, session_row, now) is not None:
                skipped.add(session_row.id)
                continue
            await build_charges_and_claims(uow, session_row, now)
        billed += 1


async def sweep_forever(services) -> None:
    interval = services.settings.billing_sweep_seconds
    if interval <= 0:
        return
    while True:
        try:
            await bill_due_sessions(services)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next sweep retries
            log.exception("billing sweep failed")
        await asyncio.sleep(interval)


async def _inputs(uow: UnitOfWork, session_row: models.GroupSession) -> BillingInputs:
    await uow.session.flush()
    return (await billing_inputs_for_sessions(uow.session, [session_row.id]))[session_row.id]


async def build_charges_and_claims(uow: UnitOfWork, session_row: models.GroupSession, now: datetime) -> None:
    """One ACTIVE charge and one DRAFT claim per billable member; the session becomes billed (and LOCKED with claims)."""
    inputs = await _inputs(uow, session_row)
    preview = inputs.preview()
    charges, claims = [], []
    for line in inputs.charge_lines():
        charge, claim = await _charge_with_claim(uow, session_row, inputs, line, preview)
        charges.append(charge)
        claims.append(claim)
    before = {"billedAt": None, "lockedAt": None}
    session_row.billed_at = now
    if claims:
        session_row.locked_at = now
    uow.audit(
        "session.bill",
        "GroupSession",
        session_row.id,
        before=before,
        after={
            "billedAt": now.isoformat(),
            "lockedAt": now.isoformat() if claims else None,
            "charges": len(charges),
            "claims": len(claims),
            "billableCount": preview.billable_count,
        },
        session_id=session_row.id,
    )
    _record_documented(uow, session_row, charges, claims, reason="billed")
    await stage_session_update(uow, session_row.id, "LOCKED" if claims else "BILLED")


async def _charge_with_claim(
    uow: UnitOfWork,
    session_row: models.GroupSession,
    inputs: BillingInputs,
    line: ChargeLine,
    preview: Preview,
    *,
    frequency: str = "ORIGINAL",
    original: models.Claim | None = None,
) -> tuple[models.Charge, models.Claim]:
    charge = models.Charge(
        id=uuid.uuid4(),
        session_id=session_row.id,
        patient_id=inputs.patient_by_participant[line.participant_id],
        payer_id=line.payer_id,
        service_date=line.service_date,
        procedure_code=line.procedure_code,
        modifiers=list(line.modifiers),
        units=line.units,
        amount=line.amount * line.units,
        status="ACTIVE",
    )
    claim = models.Claim(
        id=uuid.uuid4(),
        claim_number=new_claim_number(),
        session_id=session_row.id,
        patient_id=charge.patient_id,
        payer_id=line.payer_id,
        status="DRAFT",
        frequency=frequency,
        original_claim_id=original.id if original else None,
        total_amount=charge.amount,
        validation=_issues_json(preview),
    )
    uow.session.add_all([charge, claim])
    await uow.session.flush()
    await uow.session.execute(insert(models.claim_charges).values(claim_id=claim.id, charge_id=charge.id))
    return charge, claim


def _record_documented(uow: UnitOfWork, session_row, charges, claims, reason: str) -> None:
    uow.record_event(
        "group_session_documented",
        {
            "sessionId": str(session_row.id),
            "facilityId": str(session_row.facility_id),
            "occurrenceId": str(session_row.occurrence_id) if session_row.occurrence_id else None,
            "groupId": str(session_row.group_id) if session_row.group_id else None,
            "reason": reason,
            "chargeIds": [str(c.id) for c in charges],
            "claimIds": [str(c.id) for c in claims],
        },
    )


def _same_charge(charge: models.Charge, line: ChargeLine) -> bool:
    return (
        charge.payer_id == line.payer_id
        and charge.procedure_code == line.procedure_code
        and list(charge.modifiers or []) == list(line.modifiers)
        and Decimal(charge.amount) == line.amount * line.units
    )


async def rebill_session(uow: UnitOfWork, session_row: models.GroupSession) -> None:
    """Re-run the pipeline after attendance changed on a billed session (a forced correction, or
    a mark after a run that found nobody billable).

    Members whose charge is unchanged keep it and their claim. For the others the ACTIVE charge is
    voided and every unsent (DRAFT) claim is voided; then, if the payer holds a claim for the
    member (the last one submitted, unless that was a VOID), it is answered with a REPLACEMENT (7)
    or a VOID (8) pointing at it, else a new ORIGINAL is built (rules.md §9). Following the
    payer-held claim rather than the latest draft means a second correction before the first was
    sent still voids or replaces what the payer has, never billing it twice.
    """
    if session_row.billed_at is None:
        return
    inputs = await _inputs(uow, session_row)
    now = uow.clock.now()
    preview = inputs.preview()
    lines = {inputs.patient_by_participant[line.participant_id]: line for line in inputs.charge_lines()}
    active = {
        c.patient_id: c
        for c in (
            await uow.session.scalars(
                select(models.Charge)
                .where(models.Charge.session_id == session_row.id, models.Charge.status == "ACTIVE")
                .with_for_update()
            )
        ).all()
    }
    claims_by_patient: dict[uuid.UUID, list[models.Claim]] = {}
    for claim in (
        await uow.session.scalars(
            select(models.Claim)
            .where(models.Claim.session_id == session_row.id)
            .order_by(models.Claim.created_at, models.Claim.id)
            .with_for_update()
        )
    ).all():
        claims_by_patient.setdefault(claim.patient_id, []).append(claim)

    voided, built, claims_out = [], [], []
    for patient_id in sorted(set(lines) | set(active) | set(claims_by_patient), key=str):
        line, charge = lines.get(patient_id), active.get(patient_id)
        history = claims_by_patient.get(patient_id, [])
        drafts = [c for c in history if c.status == "DRAFT"]
        if charge is not None and line is not None and _same_charge(charge, line):
            for draft in drafts:
                draft.validation = _issues_json(preview)
            continue
        if charge is not None:
            charge.status, charge.voided_at = "VOIDED", now
            voided.append(charge)
        for draft in drafts:
            draft.status = "VOIDED"
        await uow.session.flush()
        held = _payer_held(history)
        if held is not None:
            held.status = "REPLACED" if line is not None else "VOIDED"
            await uow.session.flush()
            if line is not None:
                new_charge, replacement = await _charge_with_claim(
                    uow, session_row, inputs, line, preview, frequency="REPLACEMENT", original=held
                )
                built.append(new_charge)
                claims_out.append(replacement)
            else:
                claims_out.append(await _void_claim(uow, held, preview))
        elif line is not None:
            new_charge, new_claim = await _charge_with_claim(uow, session_row, inputs, line, preview)
            built.append(new_charge)
            claims_out.append(new_claim)
    if claims_out and session_row.locked_at is None:
        session_row.locked_at = now
    uow.audit(
        "session.rebill",
        "GroupSession",
        session_row.id,
        before={"voidedCharges": [str(c.id) for c in voided]},
        after={"newCharges": [str(c.id) for c in built], "newClaims": [str(c.id) for c in claims_out]},
        session_id=session_row.id,
    )
    if voided or built or claims_out:
        _record_documented(uow, session_row, built, claims_out, reason="rebilled")


def _payer_held(history: list[models.Claim]) -> models.Claim | None:
    """The member's claim the payer has: the last one submitted, unless that was a VOID."""
    sent = [c for c in history if c.submitted_at is not None]
    if not sent or sent[-1].frequency == "VOID":
        return None
    return sent[-1]


async def _void_claim(uow: UnitOfWork, original: models.Claim, preview: Preview) -> models.Claim:
    void = models.Claim(
        id=uuid.uuid4(),
        claim_number=new_claim_number(),
        session_id=original.session_id,
        patient_id=original.patient_id,
        payer_id=original.payer_id,
        status="DRAFT",
        frequency="VOID",
        original_claim_id=original.id,
        total_amount=original.total_amount,
        validation=[],
    )
    uow.session.add(void)
    await uow.session.flush()
    charge_ids = (
        await uow.session.scalars(
            select(models.claim_charges.c.charge_id).where(models.claim_charges.c.claim_id == original.id)
        )
    ).all()
    if charge_ids:
        await uow.session.execute(
            insert(models.claim_charges), [{"claim_id": void.id, "charge_id": cid} for cid in charge_ids]
        )
    return void
