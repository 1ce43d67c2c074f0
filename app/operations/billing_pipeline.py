"""The billing pipeline: charges and claims for ended sessions, exactly once; corrected after a
change to a billed session's attendance.

Started four ways: the periodic sweep, `runBilling`, `group-sessions bill-due`, and the attendance
mark that clears an ended session's last BLOCKING issue (in the mark's transaction). Finalization
(app.rules.finalization) decides whether an ended session is billed now or awaits finalization.
Each session is billed in its own transaction under its row lock (SKIP LOCKED in the sweep), and
partial unique indexes on charges and open claims are the last line of defence against a double build.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from app.db import models
from app.db.queries import billing as queries
from app.db.queries import groups as group_queries
from app.db.queries import remittance as remittance_queries
from app.db.queries.billing import BillingInputs
from app.db.uow import UnitOfWork
from app.live.publish import stage_billing_change, stage_session_update
from app.operations import authorizations, program_billing
from app.operations.claim_building import (
    claim_record,
    hold_without_payer_number,
    new_charge_with_claim,
    retire_rejected,
    void_claim,
    write_charge_with_claim,
)
from app.operations.work import Services, unit_of_work
from app.rules.billing import (
    BillingIssue,
    ChargeLine,
    Preview,
    claim_issues,
    occurrence_billing_refusal,
)
from app.rules.claims import (
    ActiveCharge,
    Answer,
    ChargeStatus,
    ClaimFrequency,
    ClaimRecord,
    ClaimStatus,
    MemberCorrection,
    plan_correction,
)
from app.rules.finalization import Finalization, finalization, finalization_deadline
from app.rules.remittance import BillingQueue, day_changed, hour_crossed
from app.rules.updates import SessionUpdateKind

log = logging.getLogger(__name__)
SWEEP_ACTOR = "billing-sweep"
# A session billed leaves the awaiting queue, may join the closed-unmarked one, and its drafts the filing one.
BILLED_QUEUES = (BillingQueue.AWAITING_FINALIZATION, BillingQueue.CLOSED_UNMARKED, BillingQueue.TIMELY_FILING)


def _findings(preview: Preview, roster_entry_id: str | None) -> list[dict]:
    """What the member's claim carries in `validation` (rules.billing.claim_issues)."""
    return [issue.as_json() for issue in claim_issues(preview, roster_entry_id)]


async def bill_due_sessions(services: Services, actor: str = SWEEP_ACTOR) -> int:
    """Bill every ended, unbilled session that finalization lets through (no BLOCKING issue, or
    its deadline reached); mark the others awaiting finalization. Safe to run from several
    processes at once."""
    billed = 0
    skipped: set[uuid.UUID] = set()
    while True:
        async with unit_of_work(services, actor) as uow:
            now = services.clock.now()
            session = await queries.due_session(uow.db, now, skipped)
            if session is None:
                return billed
            if await occurrence_refusal(uow.db, session, now) is not None:
                skipped.add(session.id)
                continue
            if (await finalize(uow, session, now)).decision is Finalization.WAIT:
                skipped.add(session.id)
                continue
        billed += 1


@dataclass(frozen=True)
class FinalizationOutcome:
    decision: Finalization
    deadline: datetime
    issues: tuple[BillingIssue, ...]


async def finalize(uow: UnitOfWork, session: models.GroupSession, now: datetime) -> FinalizationOutcome:
    """Bill the ended, unbilled session (its row held) unless its preview has a BLOCKING issue and
    its finalization deadline is still ahead; then mark it awaiting finalization, once."""
    inputs = await _inputs(uow, session)
    deadline = finalization_deadline(session.ends_at, inputs.timezone, uow.finalize_hours)
    issues = inputs.preview().issues
    decision = finalization(issues, now=now, deadline=deadline)
    if decision is not Finalization.WAIT:
        await build_charges_and_claims(
            uow, session, now, inputs=inputs, at_deadline=decision is Finalization.BILL_AT_DEADLINE
        )
        await stage_billing_change(uow, session.facility_id, BILLED_QUEUES, session_id=session.id)
    elif session.awaiting_finalization_at is None:
        await stage_billing_change(
            uow, session.facility_id, [BillingQueue.AWAITING_FINALIZATION], session_id=session.id
        )
        session.awaiting_finalization_at = now
        uow.audit(
            "session.await_finalization",
            "GroupSession",
            session.id,
            before={"awaitingFinalizationAt": None},
            after={"awaitingFinalizationAt": now.isoformat(), "deadline": deadline.isoformat()},
            session_id=session.id,
        )
        await stage_session_update(uow, session.id, SessionUpdateKind.AWAITING_FINALIZATION)
    return FinalizationOutcome(decision, deadline, issues)


async def finalize_if_cleared(uow: UnitOfWork, session: models.GroupSession) -> None:
    """After a change that can clear a BLOCKING issue (an attendance mark, a note's signature) on a
    session awaiting finalization: bill it in that change's transaction when its last BLOCKING
    issue is gone. (An ended session the sweep has not looked at yet is left to the sweep, as one
    with nothing to clear.)"""
    now = uow.clock.now()
    if session.awaiting_finalization_at is None or session.billed_at is not None or session.cancelled_at is not None:
        return
    if session.ends_at > now:
        return
    if await occurrence_refusal(uow.db, session, now) is not None:
        return
    await finalize(uow, session, now)


async def occurrence_refusal(db, session: models.GroupSession, now: datetime) -> str | None:
    """Why the session may not be billed now because of its occurrence, read after the session row
    is locked. Cancelling or moving an occurrence holds that row (FOR SHARE) until it commits, and
    the clinical feed cancels or moves the session only afterwards: this read's fresh snapshot sees
    a cancellation or move that committed before the lock was taken; one that had not, waits for
    the billing run and then answers LOCKED."""
    if session.occurrence_id is None:
        return None
    occurrence = await group_queries.occurrence(db, session.occurrence_id, fresh=True)
    if occurrence is None:
        return None
    return occurrence_billing_refusal(
        occurrence.cancelled_at is not None,
        (occurrence.starts_at, occurrence.ends_at),
        (session.starts_at, session.ends_at),
        now,
    )


async def publish_time_queues(services: Services, last: datetime, now: datetime) -> int:
    """The queues time alone changes, published for their watchers (billingQueueUpdates) as the sweep passes:
    AWAITING_FINALIZATION for each session awaiting finalization that passed a whole hour since its end (a
    sessionsAwaitingFinalization(hoursAfterEnd: N) with a whole N gains it within one sweep), and TIMELY_FILING
    for each facility whose calendar turned a day (every claimsNearingFilingLimit row's daysLeft went down).
    How many changes were published."""
    async with unit_of_work(services, SWEEP_ACTOR) as uow:
        published = 0
        for session_id, facility_id, ended_at in await remittance_queries.awaiting_session_ends(uow.db):
            if hour_crossed(ended_at, last, now):
                await stage_billing_change(
                    uow, facility_id, [BillingQueue.AWAITING_FINALIZATION], session_id=session_id
                )
                published += 1
        for facility_id, zone in await remittance_queries.facility_zones(uow.db):
            if day_changed(last, now, zone):
                await stage_billing_change(uow, facility_id, [BillingQueue.TIMELY_FILING])
                published += 1
    return published


async def sweep_forever(services: Services) -> None:
    interval = services.settings.billing_sweep_seconds
    if interval <= 0:
        return
    last = services.clock.now()
    while True:
        try:
            await bill_due_sessions(services)
            now = services.clock.now()
            await publish_time_queues(services, last, now)
            last = now
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("billing sweep failed")
        await asyncio.sleep(interval)


async def _inputs(uow: UnitOfWork, session: models.GroupSession) -> BillingInputs:
    await uow.db.flush()
    return (await queries.billing_inputs(uow.db, [session.id]))[session.id]


async def build_charges_and_claims(
    uow: UnitOfWork,
    session: models.GroupSession,
    now: datetime,
    *,
    inputs: BillingInputs | None = None,
    at_deadline: bool = False,
) -> None:
    """One ACTIVE charge per billable member and a DRAFT claim for each covered one (a self-pay
    charge has none); the session becomes billed (LOCKED with charges, CLOSED without)."""
    inputs = inputs or await _inputs(uow, session)
    preview = inputs.preview()
    # Set-based: every member's charge and claim in one flush (one multi-row INSERT per table),
    # then every claim-charge link in one statement.
    pairs = [
        new_charge_with_claim(
            session.id, inputs.patient_by_entry[line.roster_entry_id], line, _findings(preview, line.roster_entry_id)
        )
        for line in inputs.charge_lines()
    ]
    charges = [charge for charge, _ in pairs]
    claims = [claim for _, claim in pairs if claim is not None]
    if pairs:
        uow.db.add_all([*charges, *claims])
        await uow.db.flush()
        billed = [(charge, claim) for charge, claim in pairs if claim is not None]  # self-pay charges have none
        await queries.link_claims_charges(uow.db, [(claim.id, charge.id) for charge, claim in billed])
        await authorizations.draw_down(uow, session, billed)
    session.billed_at = now
    if charges:
        session.locked_at = now
    uow.audit(
        "session.bill",
        "GroupSession",
        session.id,
        before={"billedAt": None, "lockedAt": None},
        after={
            "billedAt": now.isoformat(),
            "lockedAt": now.isoformat() if charges else None,
            "charges": len(charges),
            "claims": len(claims),
            "billableCount": preview.billable_count,
            "finalizationDeadlineReached": at_deadline,
        },
        session_id=session.id,
    )
    if charges or claims:
        _record_documented(uow, session, charges, claims, reason="billed")
    await program_billing.settle_days(uow, session)
    await stage_session_update(uow, session.id, SessionUpdateKind.LOCKED if charges else SessionUpdateKind.BILLED)


async def _charge_with_claim(
    uow: UnitOfWork,
    session: models.GroupSession,
    patient_id: uuid.UUID,
    line: ChargeLine,
    preview: Preview,
    *,
    frequency: ClaimFrequency = ClaimFrequency.ORIGINAL,
    original: uuid.UUID | None = None,
) -> tuple[models.Charge, models.Claim | None]:
    """One member's charge and claim (none for self-pay), carrying the preview's findings about them,
    written and linked now (a correction, between its status changes)."""
    validation = _findings(preview, line.roster_entry_id)
    return await write_charge_with_claim(
        uow, session, patient_id, line, validation, frequency=frequency, original=original
    )


def _record_documented(uow: UnitOfWork, session: models.GroupSession, charges, claims, reason: str) -> None:
    uow.record_event(
        "group_session_documented",
        {
            "sessionId": str(session.id),
            "facilityId": str(session.facility_id),
            "occurrenceId": str(session.occurrence_id) if session.occurrence_id else None,
            "groupId": str(session.group_id) if session.group_id else None,
            "reason": reason,
            "chargeIds": [str(c.id) for c in charges],
            "claimIds": [str(c.id) for c in claims],
        },
    )


async def rebill_session(
    uow: UnitOfWork,
    session: models.GroupSession,
    resubmit: frozenset[uuid.UUID] = frozenset(),
    resubmit_days: frozenset[uuid.UUID] = frozenset(),
) -> None:
    """Carry out the correction plan (app.rules.claims) after attendance changed on a billed
    session: a forced correction, or a mark after a run that found nobody billable; and after a
    claim-level correction, whose member's claim the payer holds is replaced (`resubmit`, and the
    member's per-diem day's claim: `resubmit_days`)."""
    if session.billed_at is None:
        return
    inputs = await _inputs(uow, session)
    now = uow.clock.now()
    preview = inputs.preview()
    lines = {inputs.patient_by_entry[line.roster_entry_id]: line for line in inputs.charge_lines()}
    charges = {c.patient_id: c for c in await queries.active_charges_for_update(uow.db, session.id)}
    claims = {}
    history: dict[uuid.UUID, list[ClaimRecord]] = {}
    for claim in await queries.claims_for_update(uow.db, session.id):
        claims[claim.id] = claim
        history.setdefault(claim.patient_id, []).append(claim_record(claim))
    active = {
        patient: ActiveCharge(c.id, c.payer_id, c.procedure_code, tuple(c.modifiers or ()), c.amount)
        for patient, c in charges.items()
    }
    voided, built, claims_out = [], [], []
    entry_of = {patient: entry for entry, patient in inputs.patient_by_entry.items()}
    for correction in plan_correction(lines, active, history, resubmit):
        for claim_id in correction.revalidate_drafts:
            claims[claim_id].validation = _findings(preview, entry_of.get(claims[claim_id].patient_id))
        if correction.answer == Answer.KEEP:
            continue
        charge = charges.get(correction.patient)
        if correction.void_charge is not None:
            charge.status, charge.voided_at = ChargeStatus.VOIDED, now
            voided.append(charge)
            await authorizations.give_back(uow, [charge])
        for claim_id in correction.void_drafts:
            claims[claim_id].status = ClaimStatus.VOIDED
        await uow.db.flush()
        await retire_rejected(uow, session.facility_id, correction, claims)
        for new_charge, new_claim in await _answer(uow, session, correction, claims, preview):
            if new_charge is not None:
                built.append(new_charge)
            if new_claim is not None:
                claims_out.append(new_claim)
    if (claims_out or built) and session.locked_at is None:
        session.locked_at = now
    uow.audit(
        "session.rebill",
        "GroupSession",
        session.id,
        before={"voidedCharges": [str(c.id) for c in voided]},
        after={"newCharges": [str(c.id) for c in built], "newClaims": [str(c.id) for c in claims_out]},
        session_id=session.id,
    )
    if voided or built or claims_out:
        _record_documented(uow, session, built, claims_out, reason="rebilled")
        await stage_billing_change(uow, session.facility_id, [BillingQueue.TIMELY_FILING], session_id=session.id)
    await program_billing.settle_days(uow, session, resubmit=resubmit_days)


async def _answer(
    uow: UnitOfWork, session: models.GroupSession, correction: MemberCorrection, claims: dict, preview: Preview
) -> list[tuple[models.Charge | None, models.Claim | None]]:
    """Build what the correction answers with: a new original, a replacement, a void, or (the member's payer
    changed) a void to the old payer and an original to the new one. A member now self-pay (no coverage)
    gets a charge and no claim; a claim the payer holds is voided."""
    if correction.answer == Answer.ORIGINAL:
        # A claim the payer rejected is answered by a new original (no REF*F8), linked to it as its predecessor.
        before = correction.answers_rejected[-1] if correction.answers_rejected else None
        return [await _charge_with_claim(uow, session, correction.patient, correction.line, preview, original=before)]
    if correction.answer == Answer.REPLACEMENT and correction.line.payer_id is None:
        held = claims[correction.corrects]
        held.status = ClaimStatus.VOIDED
        await uow.db.flush()
        void = await void_claim(uow, held)
        charge, _ = await _charge_with_claim(uow, session, correction.patient, correction.line, preview)
        return [(None, void), (charge, None)]
    if correction.answer == Answer.REPLACEMENT:
        held = claims[correction.corrects]
        held.status = ClaimStatus.REPLACED
        await uow.db.flush()
        charge, claim = await _charge_with_claim(
            uow,
            session,
            correction.patient,
            correction.line,
            preview,
            frequency=ClaimFrequency.REPLACEMENT,
            original=correction.corrects,
        )
        claim.validation = [*claim.validation, *hold_without_payer_number(held)]
        return [(charge, claim)]
    if correction.answer in (Answer.VOID, Answer.VOID_AND_ORIGINAL):
        held = claims[correction.corrects]
        held.status = ClaimStatus.VOIDED
        await uow.db.flush()
        made: list[tuple[models.Charge | None, models.Claim]] = [(None, await void_claim(uow, held))]
        if correction.answer == Answer.VOID_AND_ORIGINAL:
            made.append(await _charge_with_claim(uow, session, correction.patient, correction.line, preview))
        return made
    return []
