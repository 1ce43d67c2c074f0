"""Billing: accepted warnings, running the pipeline for one session, submitting a claim as an 837P."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.auth import Principal
from app.db import models
from app.db.queries import billing as queries
from app.db.queries import sessions as session_queries
from app.db.queries.coverage import authorization_numbers_of_charges
from app.db.queries.notes import member_note_cosigner
from app.db.queries.reference import diagnoses_by_patient, payer_coverage
from app.db.queries.sessions import Lock
from app.db.uow import UnitOfWork
from app.errors import BadInput, IllegalTransition, NotFound
from app.live.publish import stage_billing_change
from app.operations.billing_pipeline import finalize, occurrence_refusal
from app.operations.common import camel, check, require_text, visible_or_not_found
from app.operations.consequences import BillingIssueAccepted, ClaimCorrected, handle
from app.operations.remittance import pyx12_findings
from app.operations.sessions import visible_session
from app.rules import edi837
from app.rules.attendance import AttendanceStatus
from app.rules.billing import (
    MEMBER_ISSUES,
    NOT_RECHECKED,
    BillingIssue,
    BillingIssueCode,
    IssueSeverity,
    Preview,
    findings_still_raised,
)
from app.rules.claims import ClaimFrequency, ClaimStatus
from app.rules.diagnoses import Diagnosis, active_diagnosis_codes, diagnosis_pointers
from app.rules.fees import fee_key, fee_schedule_problems
from app.rules.finalization import Finalization, awaiting_message
from app.rules.notes import cosign_required
from app.rules.reference import identifier_problem
from app.rules.remittance import BillingQueue
from app.rules.updates import touched
from app.rules.visits import Modality, Stay, stay_problem


@dataclass(frozen=True)
class SubmitterContact:
    """Who the payer calls about a claim (the 837P's 1000A PER segment)."""

    name: str
    phone: str


async def visible_claim(db, actor: Principal, claim_id: uuid.UUID, *, lock: bool = False) -> models.Claim:
    claim = await db.get(models.Claim, claim_id, with_for_update=lock)
    if claim is None:
        raise NotFound("No Claim with that id")
    visible_or_not_found(actor, await db.get(models.GroupSession, claim.session_id), "Claim")
    return claim


async def accept_billing_issue(
    uow: UnitOfWork, actor: Principal, session_id: uuid.UUID, code: BillingIssueCode, note: str
) -> Preview:
    """Record a note on a WARNING of the preview; BLOCKING issues cannot be accepted. On a billed
    session, the warning is accepted on the unsent (DRAFT) claims that carry it too, a per-diem day's
    among them when this is the day's last session: a claim is submitted only with every warning accepted."""
    note = require_text("note", note, 2000)
    session = await visible_session(uow.db, actor, session_id, lock=Lock.BILL)
    issue = next((i for i in (await queries.previews(uow.db, [session.id]))[0].issues if i.code == code), None)
    drafts = []
    if session.billed_at is not None:
        drafts = [
            c
            for c in await queries.draft_claims_for_update(uow.db, session.id)
            if any(i["code"] == code for i in c.validation or [])
        ]
        if issue is None and drafts:
            issue = next(BillingIssue.from_json(i) for i in drafts[0].validation if i["code"] == code)
    if issue is None:
        raise BadInput(f"The preview has no {code} issue to accept")
    if issue.severity != IssueSeverity.WARNING:
        raise BadInput(f"{code} is BLOCKING and cannot be accepted; resolve it instead")
    await queries.accept_issue(uow.db, session.id, code, note, uow.actor)
    for claim in drafts:
        claim.validation = [
            {**i, "accepted": True} if i["code"] == code and i["severity"] == IssueSeverity.WARNING else i
            for i in claim.validation
        ]
    uow.audit(
        "billing_issue.accept",
        "GroupSession",
        session.id,
        before={"code": code, "accepted": issue.accepted},
        after={"code": code, "accepted": True, "claims": [str(c.id) for c in drafts]},
        reason=note,
        session_id=session.id,
    )
    await handle(uow, BillingIssueAccepted(session))
    await uow.db.flush()
    return (await queries.previews(uow.db, [session.id]))[0]


@dataclass(frozen=True)
class FeeSpec:
    procedure_code: str
    amount: Decimal
    modifiers: tuple[str, ...] = ()


async def set_fee_schedule(
    uow: UnitOfWork, actor: Principal, facility_id: uuid.UUID, fees: list[FeeSpec]
) -> models.Facility:
    """Replace the facility's fee schedule: one price per procedure code and modifiers, what every
    charge is billed at (the payer's band rate is kept as the charge's expected payment)."""
    specs = [(f.procedure_code.strip().upper(), [m.strip().upper() for m in f.modifiers], f.amount) for f in fees]
    problems = fee_schedule_problems(specs)
    if problems:
        raise BadInput("; ".join(problems))
    facility = visible_or_not_found(
        actor, await uow.db.get(models.Facility, facility_id, with_for_update=True), "Facility"
    )
    old = await queries.fee_schedule(uow.db, facility.id)
    await queries.delete_fee_schedule(uow.db, facility.id)
    rows = [
        models.FacilityFee(
            facility_id=facility.id, procedure_code=code, modifiers=list(fee_key(code, mods)[1]), amount=amount
        )
        for code, mods, amount in specs
    ]
    uow.db.add_all(rows)
    await uow.db.flush()
    uow.audit(
        "fee_schedule.set",
        "Facility",
        facility.id,
        before={"fees": [_fee_json(f) for f in old]},
        after={"fees": [_fee_json(f) for f in rows]},
    )
    return facility


def _fee_json(fee: models.FacilityFee) -> dict:
    return {"procedureCode": fee.procedure_code, "modifiers": list(fee.modifiers or []), "amount": str(fee.amount)}


@dataclass(frozen=True)
class ClaimCorrection:
    """What a claim-level correction changes (only the fields given): how and when the member was
    there, and the member id on the payer's coverage. A diagnosis or payer is corrected on the
    patient's record (setPatientDiagnoses, addCoverage) and then sent with a correction giving none."""

    modality: Modality | None = None
    patient_at_home: bool | None = None
    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    member_id: str | None = None


CORRECTION_FIELDS = ("modality", "patient_at_home", "arrived_at", "departed_at", "member_id")


async def correct_claim(
    uow: UnitOfWork,
    actor: Principal,
    claim_id: uuid.UUID,
    correction: ClaimCorrection,
    *,
    given: set[str],
    reason: str,
) -> models.GroupSession:
    """A forced, audited correction of a billed (locked) session's claim: the member's row and
    coverage are corrected, and the same void/replace engine as an attendance correction answers
    the claim the payer holds with a REPLACEMENT (or a void), whatever changed. A per-diem day's
    claim hangs on the day's last session, billed but not locked when it has no lines of its own:
    its day is corrected the same way (and with it the member's other claims when the member id
    changed, as they carry it too)."""
    reason = require_text("reason", reason, 2000)
    db = uow.db
    claim = await visible_claim(db, actor, claim_id)
    session = await session_queries.session(db, claim.session_id, lock=Lock.WRITE)
    if session.cancelled_at is not None:
        raise IllegalTransition("The session is cancelled; it has no claims to correct")
    if session.locked_at is None and not (claim.per_diem and session.billed_at is not None):
        raise IllegalTransition("The session is not billed and locked: correct the records themselves")
    if claim.frequency == ClaimFrequency.VOID or claim.status in (ClaimStatus.VOIDED, ClaimStatus.REPLACED):
        raise IllegalTransition(f"The claim is a {claim.frequency} {claim.status}: correct the member's current claim")
    roster = (await session_queries.rosters(db, [session.id]))[0]
    entry_id = next((e.id for e in roster if e.patient_id == claim.patient_id), None)
    entry = (await session_queries.lock_roster_entries(db, session.id, [entry_id])).get(entry_id)
    before, after = _correction_snapshot(entry), {}
    if {"arrived_at", "departed_at"} & given and entry.status not in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE):
        raise BadInput("arrivedAt and departedAt are recorded only for ATTENDED or LATE")
    stay = Stay(
        correction.arrived_at if "arrived_at" in given else entry.arrived_at,
        correction.departed_at if "departed_at" in given else entry.departed_at,
    )
    check(stay_problem(stay, session.starts_at, session.ends_at))
    for name in ("modality", "patient_at_home"):
        if name in given and getattr(correction, name) is None:
            raise BadInput(f"{camel(name)} must be given a value")
    coverage = None
    if "member_id" in given:
        check(identifier_problem("memberId", correction.member_id) or require_problem(correction.member_id))
        coverage = await payer_coverage(db, claim.patient_id, claim.payer_id)
        if coverage is None:
            raise BadInput("The patient has no coverage with the claim's payer; add it (addCoverage) first")
        before["memberId"] = coverage.member_id
        coverage.member_id = correction.member_id.strip()
    entry.arrived_at, entry.departed_at = stay.arrived_at, stay.departed_at
    for name in ("modality", "patient_at_home"):
        if name in given:
            setattr(entry, name, getattr(correction, name))
    entry.updated_at = uow.clock.now()
    after = _correction_snapshot(entry) | ({"memberId": coverage.member_id} if coverage else {})
    uow.audit(
        "claim.correct",
        "Claim",
        claim.id,
        before=before,
        after={**after, "fields": sorted(camel(f) for f in given)},
        reason=reason,
        session_id=session.id,
    )
    member = frozenset({claim.patient_id})
    everywhere = coverage is not None
    await handle(
        uow,
        ClaimCorrected(
            session,
            member if everywhere or not claim.per_diem else frozenset(),
            [touched("RosterEntry", entry.id)],
            days=member if everywhere or claim.per_diem else frozenset(),
        ),
    )
    return session


def _correction_snapshot(entry) -> dict:
    return {
        "patientId": str(entry.patient_id),
        "arrivedAt": entry.arrived_at.isoformat() if entry.arrived_at else None,
        "departedAt": entry.departed_at.isoformat() if entry.departed_at else None,
        "modality": entry.modality,
        "patientAtHome": entry.patient_at_home,
    }


def require_problem(value: str | None) -> str | None:
    return None if (value or "").strip() else "memberId must not be empty"


async def run_billing(uow: UnitOfWork, actor: Principal, session_id: uuid.UUID) -> models.GroupSession:
    """Bill one ended session now as the sweep would; a billed session is left as it is, and one
    awaiting finalization (a BLOCKING issue before its deadline) is refused with its reasons."""
    session = await visible_session(uow.db, actor, session_id, lock=Lock.BILL)
    if session.cancelled_at is not None:
        raise IllegalTransition("A cancelled session is not billed")
    if session.billed_at is not None:
        return session  # already billed: running it again changes nothing
    if session.ends_at > uow.clock.now():
        raise IllegalTransition("The session has not ended yet")
    refusal = await occurrence_refusal(uow.db, session, uow.clock.now())
    if refusal is not None:
        raise IllegalTransition(refusal)
    outcome = await finalize(uow, session, uow.clock.now())
    if outcome.decision is Finalization.WAIT:
        raise IllegalTransition(awaiting_message(outcome.issues, outcome.deadline))
    return session


async def submit_claim(
    uow: UnitOfWork, actor: Principal, claim_id: uuid.UUID, contact: SubmitterContact, *, production: bool = True
) -> models.Claim:
    """Render a DRAFT claim as an X12 837P and mark it SUBMITTED."""
    claim = await visible_claim(uow.db, actor, claim_id, lock=True)
    control = await queries.next_interchange_number(uow.db)
    return await submit_in_interchange(uow, claim, contact, control, production=production)


async def submit_in_interchange(
    uow: UnitOfWork,
    claim: models.Claim,
    contact: SubmitterContact,
    control: int,
    *,
    production: bool = True,
    set_number: str = "0001",
) -> models.Claim:
    """The claim (its row held) rendered under the interchange control number given, as transaction set
    `set_number` of that interchange, and marked SUBMITTED; refused with nothing changed when it may not go."""
    db = uow.db
    if claim.status != ClaimStatus.DRAFT:
        raise IllegalTransition(f"Only a DRAFT claim can be submitted; this one is {claim.status}")
    await _release_when_payer_number_known(db, claim)
    await recheck_findings(db, claim)
    findings = [BillingIssue.from_json(issue) for issue in claim.validation or []]
    blocking = [i for i in findings if i.severity == IssueSeverity.BLOCKING]
    if blocking:
        raise IllegalTransition(
            "The claim has blocking validation issues: " + "; ".join(f"{i.code}: {i.message}" for i in blocking)
        )
    # The attendance guide: a session is ready to bill only when every warning is accepted; a claim
    # carrying a warning nobody accepted is not sent.
    unaccepted = [i for i in findings if i.severity == IssueSeverity.WARNING and not i.accepted]
    if unaccepted:
        raise IllegalTransition(
            "The claim has warnings not accepted (acceptBillingIssue, with a note, or resolve them): "
            + "; ".join(f"{i.code}: {i.message}" for i in unaccepted)
        )
    document = await _render(db, claim, uow.clock.now(), contact, control, production=production)
    session_facility = (await db.get(models.GroupSession, claim.session_id)).facility_id
    problems = edi837.rejections(document)
    if problems:
        raise BadInput("A clearinghouse would reject the 837P: " + "; ".join(map(str, problems)))
    await refuse_unless_map_accepts(document)
    claim.edi837 = document
    claim.interchange_number = control  # ISA13 and GS06: what the payer's 999 answers in AK102
    claim.transaction_set_number = set_number  # ST02: what its AK202 answers
    claim.status = ClaimStatus.SUBMITTED
    claim.submitted_at = uow.clock.now()
    await stage_billing_change(uow, session_facility, [BillingQueue.TIMELY_FILING], claim_id=claim.id)
    uow.audit(
        "claim.submit",
        "Claim",
        claim.id,
        before={"status": ClaimStatus.DRAFT},
        after={"status": ClaimStatus.SUBMITTED, "frequency": claim.frequency, "claimNumber": claim.claim_number},
        session_id=claim.session_id,
    )
    return claim


async def refuse_unless_map_accepts(document: str) -> None:
    """Every 837P written is read by pyx12 against the guide's map (005010X222A1) before it is sent, in a thread
    (the event loop serves others meanwhile): a file the map refuses is not sent, its first finding named."""
    findings = await asyncio.to_thread(pyx12_findings, document)
    if findings:
        ordinal, segment_id, message = findings[0]
        where = f"{segment_id} (segment {ordinal})" if ordinal else segment_id or "the file"
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        raise BadInput(f"The guide's map (005010X222A1) refuses the 837P: {where}: {message}{more}")


async def _release_when_payer_number_known(db, claim: models.Claim) -> None:
    """A correction held for the payer's claim number (PAYER_CLAIM_NUMBER_UNKNOWN) is released once it is known."""
    held = BillingIssueCode.PAYER_CLAIM_NUMBER_UNKNOWN
    if claim.original_claim_id is None or not any(i.get("code") == held for i in claim.validation or []):
        return
    if (await db.get(models.Claim, claim.original_claim_id)).payer_claim_number:
        claim.validation = [i for i in claim.validation if i.get("code") != held]


async def recheck_findings(db, claim: models.Claim) -> None:
    """The findings the DRAFT claim stored when it was built, re-checked against the data as it stands: one
    whose cause was fixed since (a diagnosis or an address recorded, a coverage settled) no longer holds it
    (rules.billing.findings_still_raised). A void carries only the payer's number it waits for."""
    stored = claim.validation or []
    holding = [f for f in stored if f.get("code") not in NOT_RECHECKED and not f.get("accepted")]
    if claim.frequency == ClaimFrequency.VOID or not holding:
        return  # nothing re-checkable holds the claim: no need to read the session again
    inputs = (await queries.billing_inputs(db, [claim.session_id])).get(claim.session_id)
    entries = {
        entry for entry, patient in (inputs.patient_by_entry if inputs else {}).items() if patient == claim.patient_id
    }
    if not entries:
        return  # the member is no longer on the session's roster: nothing to re-check against
    current = [i for i in inputs.preview().issues if i.code not in MEMBER_ISSUES or entries & set(i.roster_entry_ids)]
    still = findings_still_raised(stored, current)
    if len(still) != len(stored):
        claim.validation = still


def _held(code: BillingIssueCode, message: str) -> IllegalTransition:
    return IllegalTransition(f"{code}: {message}", issue=code)


async def _render(db, claim: models.Claim, now, contact: SubmitterContact, control: int, *, production: bool) -> str:
    session = await db.get(models.GroupSession, claim.session_id)
    facility = await db.get(models.Facility, session.facility_id)
    patient = await db.get(models.Patient, claim.patient_id)
    payer = await db.get(models.Payer, claim.payer_id)
    missing = [
        label
        for label, value in [
            ("facility NPI", facility.npi),
            ("facility tax id", facility.tax_id),
            ("facility address", facility.address_line1 and facility.city and facility.postal_code),
        ]
        if not value
    ]
    if missing:
        raise BadInput("Set the " + ", ".join(missing) + " before submitting claims")
    coverage = await payer_coverage(db, patient.id, payer.id)
    charges = (await queries.charges_of_claims(db, [claim.id]))[0]
    service_date = min(c.service_date for c in charges)
    kept = (await diagnoses_by_patient(db, [patient.id]))[0]
    codes = active_diagnosis_codes((Diagnosis(d.code, d.effective_from, d.effective_to) for d in kept), service_date)
    if not codes:
        raise IllegalTransition(
            f"The patient has no active diagnosis on {service_date.isoformat()}; add one before submitting the claim"
        )
    pointers = diagnosis_pointers(len(codes))
    original_number = None
    if claim.original_claim_id and claim.frequency != ClaimFrequency.ORIGINAL:
        # REF*F8 is the payer's claim control number (277CA, 835); until it is known the correction is held.
        # An original after a rejection names its predecessor only here, never to the payer.
        original_number = (await db.get(models.Claim, claim.original_claim_id)).payer_claim_number
        if not original_number:
            raise _held(
                BillingIssueCode.PAYER_CLAIM_NUMBER_UNKNOWN,
                "the payer's claim number for the claim corrected has not arrived (277CA or 835); the "
                f"{claim.frequency} is held until it does",
            )
    facilitator = await db.get(models.Staff, session.facilitator_id) if session.facilitator_id else None
    if facilitator is None or not facilitator.npi:
        raise _held(
            BillingIssueCode.MISSING_RENDERING_PROVIDER,
            "the session has no rendering clinician with an NPI (837P 2310B)",
        )
    if not (patient.address_line1 and patient.city and patient.state and patient.postal_code):
        raise _held(
            BillingIssueCode.MISSING_SUBSCRIBER_ADDRESS,
            "the patient has no address; the subscriber (837P 2010BA N3/N4) needs it",
        )
    supervisor = await _supervising_provider(db, session, facility, payer, patient.id)
    taxonomy = payer.taxonomy_required
    last, first = edi837.split_person_name(patient.name)
    rendering_last, rendering_first = edi837.split_person_name(facilitator.name)
    address = edi837.Address(patient.address_line1, patient.city, patient.state, patient.postal_code)
    return edi837.render_837p(
        edi837.Claim837(
            interchange_control_number=control,
            # ISA15: T when the service sends test files (GS_EDI_PRODUCTION=0) or the payer takes only test files.
            production=production and not payer.test_mode,
            created_at=now,
            submitter=edi837.Submitter(
                id=facility.submitter_id or facility.tax_id,
                name=facility.name,
                contact_name=contact.name,
                contact_phone=contact.phone,
            ),
            receiver=edi837.Receiver(id=payer.receiver_id or payer.payer_code, name=payer.name),
            billing_provider=edi837.BillingProvider(
                name=facility.name,
                npi=facility.npi,
                tax_id=facility.tax_id,
                address=edi837.Address(facility.address_line1, facility.city, facility.state, facility.postal_code),
                taxonomy=facility.taxonomy if taxonomy else None,
            ),
            subscriber=edi837.Subscriber(
                last_name=last,
                first_name=first,
                member_id=coverage.member_id if coverage else "UNKNOWN",
                date_of_birth=patient.date_of_birth,
                sex=patient.sex or "U",
                address=address,
            ),
            payer=edi837.PayerParty(name=payer.name, payer_code=payer.payer_code),
            claim_number=claim.claim_number,
            service_lines=[
                edi837.ServiceLine(
                    procedure_code=c.procedure_code,
                    modifiers=tuple(c.modifiers or ()),
                    amount=c.amount,
                    units=c.units,
                    service_date=c.service_date,
                    diagnosis_pointers=pointers,
                    place_of_service=c.place_of_service,
                )
                for c in charges
            ],
            place_of_service=charges[0].place_of_service if charges else edi837.OFFICE,
            frequency_code=edi837.FREQUENCY_CODES[ClaimFrequency(claim.frequency)],
            diagnosis_codes=codes,
            original_claim_number=original_number,
            rendering_provider=edi837.RenderingProvider(
                rendering_last,
                rendering_first,
                facilitator.npi,
                taxonomy=facilitator.taxonomy if taxonomy else None,
            ),
            supervising_provider=supervisor,
            claim_filing_indicator=payer.claim_filing_indicator,
            prior_authorization=next(iter(await authorization_numbers_of_charges(db, [c.id for c in charges])), None),
        )
    )


async def _supervising_provider(
    db, session: models.GroupSession, facility: models.Facility, payer: models.Payer, patient_id: uuid.UUID
) -> edi837.SupervisingProvider | None:
    """2310D: the supervisor who co-signed the member's note, where the payer's rule has a supervisor co-sign
    in the facility's state (the clinician practises under supervision there)."""
    rule = await db.get(models.PayerDocumentationRule, payer.id)
    if rule is None or not cosign_required(rule.cosign_states or (), facility.state):
        return None
    cosigner = await member_note_cosigner(db, session.id, patient_id)
    staff = await db.get(models.Staff, cosigner) if cosigner else None
    if staff is None or not staff.npi or staff.id == session.facilitator_id:
        return None
    last, first = edi837.split_person_name(staff.name)
    return edi837.SupervisingProvider(last, first, staff.npi)
