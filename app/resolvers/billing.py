"""Billing operations: the live preview, accepted warnings, running billing, claims and their 837P."""
from __future__ import annotations

import uuid
from collections.abc import Sequence

import strawberry
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from strawberry.types import Info

from app.db import models
from app.db.billing_queries import billing_inputs_for_sessions
from app.errors import BadInput, IllegalTransition, Locked, NotFound
from app.ids import decode_id
from app.live.publish import stage_session_update
from app.resolvers.billing_pipeline import build_charges_and_claims, occurrence_billing_refusal
from app.resolvers.common import require_text, visible_or_not_found
from app.rules import billing as rules
from app.rules import edi837
from app.schema.billing import BillingIssue, BillingPreview, Charge, Claim
from app.schema.enums import BillingIssueCode, IssueSeverity
from app.schema.reference import GroupSizeBand


def preview_type(preview: rules.Preview) -> BillingPreview:
    band = preview.band
    return BillingPreview(
        billable_count=preview.billable_count,
        state=preview.state,
        band=GroupSizeBand(
            min_size=band.min_size,
            max_size=band.max_size,
            procedure_code=band.procedure_code,
            modifiers=list(band.modifiers),
            rate=band.rate,
        )
        if band
        else None,
        present_supervisors=preview.present_supervisors,
        max_participants_per_supervisor=preview.max_participants_per_supervisor,
        issues=[
            BillingIssue(
                code=BillingIssueCode(i.code),
                severity=IssueSeverity(i.severity),
                message=i.message,
                accepted=i.accepted,
                participant_ids=[strawberry.ID(p) for p in i.participant_ids],
            )
            for i in preview.issues
        ],
        ready_to_bill=preview.ready_to_bill,
        payer_pk=preview.payer_id,
    )


def _preview_loader(info: Info):
    async def batch(session, keys: Sequence[uuid.UUID]):
        inputs = await billing_inputs_for_sessions(session, keys)
        return [inputs[k].preview() for k in keys]

    return info.context.loaders.custom("billing_preview", batch)


async def session_billing_preview(info: Info, session_row: models.GroupSession) -> BillingPreview:
    return preview_type(await _preview_loader(info).load(session_row.id))


async def session_charges(info: Info, session_pk: uuid.UUID) -> list[Charge]:
    loader = info.context.loaders.children(models.Charge.session_id, models.Charge.created_at, models.Charge.id)
    return [Charge.from_row(r) for r in await loader.load(session_pk)]


async def session_claims(info: Info, session_pk: uuid.UUID) -> list[Claim]:
    loader = info.context.loaders.children(models.Claim.session_id, models.Claim.created_at, models.Claim.id)
    return [Claim.from_row(r) for r in await loader.load(session_pk)]


async def claim_charges(info: Info, claim_pk: uuid.UUID) -> list[Charge]:
    async def batch(session, keys):
        rows = (
            await session.execute(
                select(models.claim_charges.c.claim_id, models.Charge)
                .join(models.Charge, models.Charge.id == models.claim_charges.c.charge_id)
                .where(models.claim_charges.c.claim_id.in_(keys))
                .order_by(models.Charge.created_at)
            )
        ).all()
        grouped: dict[uuid.UUID, list] = {k: [] for k in keys}
        for claim_id, charge in rows:
            grouped[claim_id].append(charge)
        return [grouped[k] for k in keys]

    return [Charge.from_row(r) for r in await info.context.loaders.custom("claim_charges", batch).load(claim_pk)]


async def _visible_session(ctx, db, global_id: str, *, for_update: bool = False) -> models.GroupSession:
    row = await db.get(models.GroupSession, decode_id(global_id, "GroupSession"), with_for_update=for_update)
    return visible_or_not_found(ctx, row, "GroupSession")


async def _visible_claim(ctx, db, global_id: str, *, for_update: bool = False) -> models.Claim:
    claim = await db.get(models.Claim, decode_id(global_id, "Claim"), with_for_update=for_update)
    if claim is None:
        raise NotFound("No Claim with that id")
    session_row = await db.get(models.GroupSession, claim.session_id)
    visible_or_not_found(ctx, session_row, "Claim")
    return claim


async def get_claim(ctx, global_id: str) -> models.Claim:
    async with ctx.db() as db:
        return await _visible_claim(ctx, db, global_id)


async def accept_billing_issue(info: Info, session_id: str, code: BillingIssueCode, note: str) -> BillingPreview:
    ctx = info.context
    note = require_text("note", note, 2000)
    async with ctx.unit_of_work() as uow:
        session_row = await _visible_session(ctx, uow.session, session_id, for_update=True)
        if session_row.locked_at is not None:
            raise Locked("The session is billed and locked")
        preview = (await billing_inputs_for_sessions(uow.session, [session_row.id]))[session_row.id].preview()
        issue = next((i for i in preview.issues if i.code == code.value), None)
        if issue is None:
            raise BadInput(f"The preview has no {code.value} issue to accept")
        if issue.severity != rules.WARNING:
            raise BadInput(f"{code.value} is BLOCKING and cannot be accepted; resolve it instead")
        await uow.session.execute(
            insert(models.AcceptedBillingIssue)
            .values(id=uuid.uuid4(), session_id=session_row.id, code=code.value, note=note, actor=uow.actor)
            .on_conflict_do_update(
                constraint="uq_accepted_billing_issues_code", set_={"note": note, "actor": uow.actor}
            )
        )
        uow.audit(
            "billing_issue.accept",
            "GroupSession",
            session_row.id,
            before={"code": code.value, "accepted": issue.accepted},
            after={"code": code.value, "accepted": True},
            reason=note,
            session_id=session_row.id,
        )
        await stage_session_update(uow, session_row.id, "ISSUE_ACCEPTED")
        await uow.session.flush()
        preview = (await billing_inputs_for_sessions(uow.session, [session_row.id]))[session_row.id].preview()
    return preview_type(preview)


async def run_billing(ctx, session_id: str) -> models.GroupSession:
    async with ctx.unit_of_work() as uow:
        session_row = await _visible_session(ctx, uow.session, session_id, for_update=True)
        if session_row.cancelled_at is not None:
            raise IllegalTransition("A cancelled session is not billed")
        if session_row.billed_at is not None:
            return session_row  # already billed: running it again changes nothing
        if session_row.ends_at > uow.clock.now():
            raise IllegalTransition("The session has not ended yet")
        refusal = await occurrence_billing_refusal(uow.session, session_row, uow.clock.now())
        if refusal is not None:
            raise IllegalTransition(refusal)
        await build_charges_and_claims(uow, session_row, uow.clock.now())
    return session_row


async def submit_claim(ctx, claim_id: str) -> models.Claim:
    async with ctx.unit_of_work() as uow:
        db = uow.session
        claim = await _visible_claim(ctx, db, claim_id, for_update=True)
        if claim.status != "DRAFT":
            raise IllegalTransition(f"Only a DRAFT claim can be submitted; this one is {claim.status}")
        blocking = [i for i in claim.validation or [] if i.get("severity") == rules.BLOCKING]
        if blocking:
            raise IllegalTransition(
                "The claim has blocking validation issues: " + "; ".join(i["message"] for i in blocking)
            )
        document = await _render(db, claim, uow.clock.now())
        problems = edi837.edi_problems(document)
        if problems:
            raise BadInput("The 837P would be invalid: " + "; ".join(problems))
        claim.edi837 = document
        claim.status = "SUBMITTED"
        claim.submitted_at = uow.clock.now()
        uow.audit(
            "claim.submit",
            "Claim",
            claim.id,
            before={"status": "DRAFT"},
            after={"status": "SUBMITTED", "frequency": claim.frequency, "claimNumber": claim.claim_number},
            session_id=claim.session_id,
        )
    return claim


async def _render(db, claim: models.Claim, now) -> str:
    session_row = await db.get(models.GroupSession, claim.session_id)
    facility = await db.get(models.Facility, session_row.facility_id)
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
    coverage = await db.scalar(
        select(models.Coverage)
        .where(models.Coverage.patient_id == patient.id, models.Coverage.payer_id == payer.id)
        .order_by(models.Coverage.priority, models.Coverage.effective_from.desc())
        .limit(1)
    )
    charges = (
        await db.scalars(
            select(models.Charge)
            .join(models.claim_charges, models.claim_charges.c.charge_id == models.Charge.id)
            .where(models.claim_charges.c.claim_id == claim.id)
            .order_by(models.Charge.created_at)
        )
    ).all()
    original_number = None
    if claim.original_claim_id:
        original_number = (await db.get(models.Claim, claim.original_claim_id)).claim_number
    control = await db.scalar(text("SELECT nextval('edi_interchange_seq')"))
    last, first = edi837.split_person_name(patient.name)
    address = None
    if patient.address_line1 and patient.city and patient.state and patient.postal_code:
        address = edi837.Address(patient.address_line1, patient.city, patient.state, patient.postal_code)
    return edi837.render_837p(
        edi837.Claim837(
            interchange_control_number=int(control),
            created_at=now,
            submitter=edi837.Submitter(
                id=facility.tax_id, name=facility.name, contact_name="BILLING OFFICE", contact_phone="6025550100"
            ),
            receiver=edi837.Receiver(id=payer.payer_code, name=payer.name),
            billing_provider=edi837.BillingProvider(
                name=facility.name,
                npi=facility.npi,
                tax_id=facility.tax_id,
                address=edi837.Address(facility.address_line1, facility.city, facility.state, facility.postal_code),
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
                )
                for c in charges
            ],
            frequency_code=edi837.FREQUENCY_CODES[claim.frequency],
            original_claim_number=original_number,
        )
    )
