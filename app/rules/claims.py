"""Charges and claims after billing: their statuses, and the plan for correcting a billed session
(rules.md §9, the attendance guide's "force update").

When attendance changes on a billed session, each member's new charge line (or none) is held
against the charge that stands and the claims already made. `plan_correction` decides, member by
member, what the pipeline carries out: keep, build a new ORIGINAL, or answer the claim the payer
holds with a REPLACEMENT (CLM05-3 = 7) or a VOID (8).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.rules.billing import ChargeLine


class ChargeStatus(StrEnum):
    ACTIVE = "ACTIVE"
    VOIDED = "VOIDED"


class ClaimStatus(StrEnum):
    """A claim's life: DRAFT → SUBMITTED → ACCEPTED or REJECTED (999/277CA) → PAID, PARTIALLY_PAID or
    DENIED (835), REVERSED when the payer takes a payment back; VOIDED and REPLACED by our corrections."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    VOIDED = "VOIDED"
    REPLACED = "REPLACED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    DENIED = "DENIED"
    REVERSED = "REVERSED"


class ClaimFrequency(StrEnum):
    """X12 837P CLM05-3: ORIGINAL = 1, REPLACEMENT = 7, VOID = 8."""

    ORIGINAL = "ORIGINAL"
    REPLACEMENT = "REPLACEMENT"
    VOID = "VOID"


@dataclass(frozen=True)
class ActiveCharge:
    id: Hashable
    payer_id: Hashable
    procedure_code: str
    modifiers: tuple[str, ...]
    amount: Decimal


@dataclass(frozen=True)
class ClaimRecord:
    """One of a member's claims for the session, as the caller loaded it (oldest first)."""

    id: Hashable
    status: ClaimStatus
    frequency: ClaimFrequency
    submitted: bool
    payer_id: Hashable | None = None  # the payer the claim went to
    rejected: bool = False  # the payer rejected it at the front end (999, 277CA): never adjudicated


def rejected_by_payer(status: str, payer_claim_number: str | None, payer_reason: str | None) -> bool:
    """The payer rejected the claim at the front end and so never adjudicated it (005010X231A1 IK5 R, 005010X214
    STC01 A3/A6/A7/A8): it is REJECTED, or it was, and a correction since replaced or voided it: it carries the
    rejection's reason and never got a payer claim number (which only an acceptance or an 835 gives)."""
    if status == ClaimStatus.REJECTED:
        return True
    return status in (ClaimStatus.REPLACED, ClaimStatus.VOIDED) and not payer_claim_number and payer_reason is not None


class Answer(StrEnum):
    KEEP = "KEEP"  # the charge stands: its unsent claims only get the new findings
    ORIGINAL = "ORIGINAL"  # a new charge and a new original claim
    REPLACEMENT = "REPLACEMENT"  # a new charge whose claim replaces the one the payer holds
    VOID = "VOID"  # no charge any more: a void of the claim the payer holds
    # The member's payer changed: a void of the claim the old payer holds, and a new original to the new payer
    # (a replacement goes only to the payer that holds the claim it replaces).
    VOID_AND_ORIGINAL = "VOID_AND_ORIGINAL"
    NONE = "NONE"  # no charge any more, and the payer holds nothing to void


@dataclass(frozen=True)
class MemberCorrection:
    patient: Hashable
    answer: Answer
    line: ChargeLine | None = None  # the charge to build (ORIGINAL, REPLACEMENT)
    void_charge: Hashable | None = None  # the ACTIVE charge that no longer stands
    void_drafts: tuple[Hashable, ...] = ()  # unsent claims that no longer stand
    revalidate_drafts: tuple[Hashable, ...] = ()  # unsent claims that stand (KEEP)
    corrects: Hashable | None = None  # the payer-held claim a REPLACEMENT or VOID answers
    # Claims the payer rejected (still REJECTED) that this correction answers: they leave the rejected queue,
    # replaced by the new claim (or voided when there is none). An ORIGINAL names the last as its predecessor.
    answers_rejected: tuple[Hashable, ...] = ()


def same_charge(charge: ActiveCharge, line: ChargeLine) -> bool:
    """The standing charge already says what the new line says: same payer, code, modifiers and amount."""
    return (
        charge.payer_id == line.payer_id
        and charge.procedure_code == line.procedure_code
        and tuple(charge.modifiers) == tuple(line.modifiers)
        and Decimal(charge.amount) == line.amount * line.units
    )


def payer_held(history: Sequence[ClaimRecord]) -> ClaimRecord | None:
    """The member's claim the payer has: the last one submitted, unless that was a VOID.

    Following it, rather than the newest draft, means a second correction made before the first
    was sent still answers what the payer holds, and never bills the member twice. A claim the payer
    rejected at the front end (999, 277CA) was never adjudicated: the payer does not hold it, so its
    correction is a new ORIGINAL (CLM05-3 1, no REF*F8), or answers the claim sent before it."""
    sent = [claim for claim in history if claim.submitted and not claim.rejected]
    if not sent or sent[-1].frequency == ClaimFrequency.VOID:
        return None
    return sent[-1]


def plan_correction(
    lines: Mapping[Hashable, ChargeLine],
    active: Mapping[Hashable, ActiveCharge],
    history: Mapping[Hashable, Sequence[ClaimRecord]],
    resubmit: frozenset[Hashable] = frozenset(),
) -> tuple[MemberCorrection, ...]:
    """One correction per member who has a new line, a standing charge or a claim (by patient id).

    `resubmit` names members whose claim content changed where the charge does not show it (a
    corrected diagnosis or member id, a claim-level correction): the claim the payer holds is
    replaced even when the charge stands as it was."""
    plan = []
    for patient in sorted(set(lines) | set(active) | set(history), key=str):
        line, charge = lines.get(patient), active.get(patient)
        claims = history.get(patient, ())
        drafts = tuple(c.id for c in claims if c.status == ClaimStatus.DRAFT)
        held = payer_held(claims)
        rejected = tuple(c.id for c in claims if c.status == ClaimStatus.REJECTED)
        forced = patient in resubmit and (held is not None or bool(rejected)) and line is not None
        # An unsent REPLACEMENT or VOID while the payer holds nothing (the claim it answers was rejected after it
        # was made) answers nothing: it is dropped, and the member gets a new ORIGINAL (or nothing).
        orphaned = held is None and any(
            c.status == ClaimStatus.DRAFT and c.frequency != ClaimFrequency.ORIGINAL for c in claims
        )
        if charge is not None and line is not None and same_charge(charge, line) and not forced and not orphaned:
            plan.append(MemberCorrection(patient, Answer.KEEP, revalidate_drafts=drafts))
            continue
        if held is not None and line is not None and held.payer_id is not None and held.payer_id != line.payer_id:
            answer = Answer.VOID_AND_ORIGINAL
        elif held is not None:
            answer = Answer.REPLACEMENT if line is not None else Answer.VOID
        else:
            answer = Answer.ORIGINAL if line is not None else Answer.NONE
        plan.append(
            MemberCorrection(
                patient,
                answer,
                line=line,
                void_charge=charge.id if charge is not None else None,
                void_drafts=drafts,
                corrects=held.id if held is not None else None,
                answers_rejected=rejected,
            )
        )
    return tuple(plan)
