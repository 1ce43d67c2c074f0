"""A member's charge and DRAFT claim, and the VOID that withdraws a claim the payer holds, built one way for
both of the things billed: a session's members (app.operations.billing_pipeline) and a patient's program day
billed per diem (app.operations.program_billing). The charge is billed at the line's amount (the facility's
fee) with the payer's contracted rate as its expected amount; a self-pay line (no payer) has no claim."""

from __future__ import annotations

import secrets
import uuid

from app.db import models
from app.db.queries import billing as queries
from app.db.uow import UnitOfWork
from app.live.publish import stage_billing_change
from app.operations import authorizations
from app.rules.billing import BillingIssue, BillingIssueCode, ChargeLine, IssueSeverity
from app.rules.claims import (
    Answer,
    ChargeStatus,
    ClaimFrequency,
    ClaimRecord,
    ClaimStatus,
    MemberCorrection,
    rejected_by_payer,
)
from app.rules.remittance import BillingQueue


def new_claim_number() -> str:
    return "GS" + secrets.token_hex(6).upper()


def new_charge_with_claim(
    session_id: uuid.UUID,
    patient_id: uuid.UUID,
    line: ChargeLine,
    validation: list[dict],
    *,
    frequency: ClaimFrequency = ClaimFrequency.ORIGINAL,
    original: uuid.UUID | None = None,
    per_diem: bool = False,
) -> tuple[models.Charge, models.Claim | None]:
    """The member's charge and DRAFT claim (carrying `validation`, the findings about it), not written yet;
    a self-pay charge (no payer) has no claim."""
    charge = models.Charge(
        id=uuid.uuid4(),
        session_id=session_id,
        patient_id=patient_id,
        payer_id=line.payer_id,
        service_date=line.service_date,
        procedure_code=line.procedure_code,
        modifiers=list(line.modifiers),
        place_of_service=line.place_of_service,
        units=line.units,
        amount=line.amount * line.units,
        expected_amount=line.expected_amount * line.units if line.expected_amount is not None else None,
        status=ChargeStatus.ACTIVE,
        per_diem=per_diem,
    )
    if line.payer_id is None:
        return charge, None
    claim = models.Claim(
        id=uuid.uuid4(),
        claim_number=new_claim_number(),
        session_id=session_id,
        patient_id=patient_id,
        payer_id=line.payer_id,
        status=ClaimStatus.DRAFT,
        frequency=frequency,
        original_claim_id=original,
        total_amount=charge.amount,
        validation=validation,
        per_diem=per_diem,
    )
    return charge, claim


async def write_charge_with_claim(
    uow: UnitOfWork,
    session: models.GroupSession,
    patient_id: uuid.UUID,
    line: ChargeLine,
    validation: list[dict],
    *,
    frequency: ClaimFrequency = ClaimFrequency.ORIGINAL,
    original: uuid.UUID | None = None,
    per_diem: bool = False,
) -> tuple[models.Charge, models.Claim | None]:
    """One member's charge and claim (none for self-pay), written and linked now, the authorization drawn
    down (a correction, between its status changes; a program day)."""
    charge, claim = new_charge_with_claim(
        session.id, patient_id, line, validation, frequency=frequency, original=original, per_diem=per_diem
    )
    uow.db.add_all([charge] if claim is None else [charge, claim])
    await uow.db.flush()
    if claim is not None:
        await queries.link_claim_charges(uow.db, claim.id, [charge.id])
        await authorizations.draw_down(uow, session, [(charge, claim)])
    return charge, claim


def hold_without_payer_number(corrected: models.Claim) -> list[dict]:
    """A replacement or void names the payer's claim control number in REF*F8; until the 277CA or 835
    brings it, the correction is held (BLOCKING), never sent with our own number instead."""
    if corrected.payer_claim_number:
        return []
    message = (
        f"The payer's claim number for {corrected.claim_number} has not arrived (277CA or 835); "
        "the correction is held until it does"
    )
    return [BillingIssue(BillingIssueCode.PAYER_CLAIM_NUMBER_UNKNOWN, IssueSeverity.BLOCKING, message).as_json()]


async def void_claim(uow: UnitOfWork, original: models.Claim) -> models.Claim:
    """A DRAFT VOID of the claim the payer holds, over the same charges, held until the payer's number is known."""
    void = models.Claim(
        id=uuid.uuid4(),
        claim_number=new_claim_number(),
        session_id=original.session_id,
        patient_id=original.patient_id,
        payer_id=original.payer_id,
        status=ClaimStatus.DRAFT,
        frequency=ClaimFrequency.VOID,
        original_claim_id=original.id,
        total_amount=original.total_amount,
        validation=hold_without_payer_number(original),
        per_diem=original.per_diem,
    )
    uow.db.add(void)
    await uow.db.flush()
    await queries.link_claim_charges(uow.db, void.id, await queries.charge_ids_of_claim(uow.db, original.id))
    return void


def claim_record(claim: models.Claim) -> ClaimRecord:
    """A member's claim as the correction plan reads it (app.rules.claims.plan_correction)."""
    return ClaimRecord(
        claim.id,
        ClaimStatus(claim.status),
        ClaimFrequency(claim.frequency),
        claim.submitted_at is not None,
        claim.payer_id,
        rejected_by_payer(claim.status, claim.payer_claim_number, claim.payer_reason),
    )


async def retire_rejected(
    uow: UnitOfWork, facility_id: uuid.UUID, correction: MemberCorrection, claims: dict
) -> list[models.Claim]:
    """The claims the payer rejected that the correction answers leave the rejected queue: REPLACED by the
    claim the correction builds, or VOIDED when it builds none (the member is no longer billed). The payer
    never adjudicated them, so nothing is sent for them (005010X214: a rejected claim is corrected and sent
    again as a new claim)."""
    if not correction.answers_rejected:
        return []
    builds = correction.answer in (Answer.ORIGINAL, Answer.REPLACEMENT, Answer.VOID_AND_ORIGINAL)
    retired = []
    for claim_id in correction.answers_rejected:
        claim = claims[claim_id]
        before, claim.status = claim.status, ClaimStatus.REPLACED if builds else ClaimStatus.VOIDED
        uow.audit(
            "claim.correct_rejected",
            "Claim",
            claim.id,
            before={"status": before},
            after={"status": claim.status},
            session_id=claim.session_id,
        )
        retired.append(claim)
    await uow.db.flush()
    await stage_billing_change(
        uow, facility_id, [BillingQueue.REJECTED, BillingQueue.TIMELY_FILING], session_id=retired[0].session_id
    )
    return retired
