"""The payer's answers: imported files, the claims they name, postings, balances and the billing office's
work queues."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, Select, and_, cast, exists, false, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page, page, rows_by_column
from app.rules.attendance import AttendanceStatus
from app.rules.claims import ClaimFrequency, ClaimStatus

# ---------------------------------------------------------------- files


async def add_edi_file(db: AsyncSession, **values: object) -> uuid.UUID | None:
    """Keep an imported file; None when a file with the same content hash was imported already (a transaction
    importing it at the same time makes this one wait for its end)."""
    taken = await db.execute(
        upsert(models.EdiFile)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["content_hash"])
        .returning(models.EdiFile.id)
    )
    return taken.scalar()


async def edi_file_by_hash(db: AsyncSession, content_hash: str) -> models.EdiFile | None:
    return await db.scalar(select(models.EdiFile).where(models.EdiFile.content_hash == content_hash))


async def edi_files_page(
    db: AsyncSession, kind: str | None, every_facility: bool, window: Page
) -> tuple[list[models.EdiFile], int]:
    """Imported files, newest first. A file can answer claims of every facility: only a caller of every
    facility lists them."""
    query = select(models.EdiFile)
    if not every_facility:
        query = query.where(false())
    if kind:
        query = query.where(models.EdiFile.kind == kind)
    return await page(db, query, models.EdiFile.imported_at.desc(), models.EdiFile.id, window=window)


# ---------------------------------------------------------------- the claims an answer names


async def lock_claims_of_interchanges(db: AsyncSession, numbers: Sequence[int]) -> list[models.Claim]:
    """The claims our 837P interchanges carried (ISA13/GS06: what a 999's AK102 answers), locked."""
    if not numbers:
        return []
    rows = await db.scalars(
        select(models.Claim)
        .where(models.Claim.interchange_number.in_(numbers))
        .order_by(models.Claim.created_at, models.Claim.id)
        .with_for_update()
    )
    return list(rows.all())


async def lock_claims_by_number(db: AsyncSession, numbers: Sequence[str]) -> dict[str, models.Claim]:
    """Our claims by CLM01, locked."""
    if not numbers:
        return {}
    rows = await db.scalars(
        select(models.Claim)
        .where(models.Claim.claim_number.in_(numbers))
        .order_by(models.Claim.created_at, models.Claim.id)
        .with_for_update()
    )
    return {c.claim_number: c for c in rows.all()}


async def lock_lineage(db: AsyncSession, claim: models.Claim) -> list[models.Claim]:
    """Every claim of the claim's member for its session, oldest first: the original and each void and
    replacement that corrected it (they share session and patient), locked."""
    rows = await db.scalars(
        select(models.Claim)
        .where(models.Claim.session_id == claim.session_id, models.Claim.patient_id == claim.patient_id)
        .order_by(models.Claim.created_at, models.Claim.id)
        .with_for_update()
    )
    return list(rows.all())


# ---------------------------------------------------------------- postings


async def posted_payment_keys(db: AsyncSession, keys: Sequence[str]) -> set[str]:
    """The claim payments (app.rules.remittance.payment_key) some file posted already."""
    if not keys:
        return set()
    rows = await db.scalars(
        select(models.RemittanceLine.payment_key).where(models.RemittanceLine.payment_key.in_(keys)).distinct()
    )
    return set(rows.all())


async def kept_adjustment_keys(db: AsyncSession, keys: Sequence[str]) -> set[str]:
    """The PLB adjustments (app.rules.remittance.adjustment_key) some file kept already."""
    if not keys:
        return set()
    rows = await db.scalars(
        select(models.ProviderAdjustment.adjustment_key).where(models.ProviderAdjustment.adjustment_key.in_(keys))
    )
    return set(rows.all())


async def lines_by_charge(db: AsyncSession, charge_ids: Sequence[uuid.UUID]) -> list[list[models.RemittanceLine]]:
    return await rows_by_column(
        db, models.RemittanceLine.charge_id, charge_ids, models.RemittanceLine.created_at, models.RemittanceLine.id
    )


async def lines_by_claim(db: AsyncSession, claim_ids: Sequence[uuid.UUID]) -> list[list[models.RemittanceLine]]:
    return await rows_by_column(
        db, models.RemittanceLine.claim_id, claim_ids, models.RemittanceLine.created_at, models.RemittanceLine.id
    )


async def provider_adjustments_of_files(
    db: AsyncSession, file_ids: Sequence[uuid.UUID]
) -> list[list[models.ProviderAdjustment]]:
    return await rows_by_column(
        db, models.ProviderAdjustment.edi_file_id, file_ids, models.ProviderAdjustment.created_at,
        models.ProviderAdjustment.id,
    )  # fmt: skip


async def patient_balances(db: AsyncSession, patient_ids: Sequence[uuid.UUID]) -> list[Decimal]:
    """What each patient owes: the patient responsibility (CAS PR) the payers posted, reversals taking theirs
    back."""
    rows = (
        await db.execute(
            select(models.RemittanceLine.patient_id, func.sum(models.RemittanceLine.patient_responsibility))
            .where(models.RemittanceLine.patient_id.in_(patient_ids))
            .group_by(models.RemittanceLine.patient_id)
        )
    ).all()
    found = {pk: total for pk, total in rows}
    return [Decimal(found.get(pk) or 0) for pk in patient_ids]


# ---------------------------------------------------------------- work queues


def _claims_of_facilities(query: Select, among: Sequence[uuid.UUID] | None) -> Select:
    if among is None:
        return query
    return query.join(models.GroupSession, models.GroupSession.id == models.Claim.session_id).where(
        models.GroupSession.facility_id.in_(among)
    )


async def rejected_claims_page(
    db: AsyncSession, among: Sequence[uuid.UUID] | None, payer_id: uuid.UUID | None, window: Page
) -> tuple[list[models.Claim], int]:
    """Claims the payer rejected (999 or 277CA), newest answer first."""
    query = _claims_of_facilities(select(models.Claim).where(models.Claim.status == ClaimStatus.REJECTED), among)
    if payer_id is not None:
        query = query.where(models.Claim.payer_id == payer_id)
    return await page(db, query, models.Claim.answered_at.desc(), models.Claim.id, window=window)


async def denied_claims_page(
    db: AsyncSession,
    among: Sequence[uuid.UUID] | None,
    payer_id: uuid.UUID | None,
    carc: str | None,
    window: Page,
) -> tuple[list[models.Claim], int]:
    """Claims the payer denied, optionally of one CARC, by CARC then newest answer first."""
    query = _claims_of_facilities(select(models.Claim).where(models.Claim.status == ClaimStatus.DENIED), among)
    if payer_id is not None:
        query = query.where(models.Claim.payer_id == payer_id)
    if carc:
        query = query.where(models.Claim.denial_carc == carc)
    return await page(
        db, query, models.Claim.denial_carc, models.Claim.answered_at.desc(), models.Claim.id, window=window
    )


async def sessions_awaiting_page(
    db: AsyncSession, among: Sequence[uuid.UUID] | None, ended_before: datetime, window: Page
) -> tuple[list[models.GroupSession], int]:
    """Sessions still awaiting finalization (not billed, not cancelled) that ended before the moment given."""
    session = models.GroupSession
    query = select(session).where(
        session.billed_at.is_(None),
        session.cancelled_at.is_(None),
        session.awaiting_finalization_at.is_not(None),
        session.ends_at <= ended_before,
    )
    if among is not None:
        query = query.where(session.facility_id.in_(among))
    return await page(db, query, session.ends_at, session.id, window=window)


async def awaiting_session_ends(db: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID, datetime]]:
    """Every session awaiting finalization: (id, facility, end)."""
    session = models.GroupSession
    rows = await db.execute(
        select(session.id, session.facility_id, session.ends_at).where(
            session.billed_at.is_(None), session.cancelled_at.is_(None), session.awaiting_finalization_at.is_not(None)
        )
    )
    return [(row[0], row[1], row[2]) for row in rows.all()]


async def facility_zones(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    rows = await db.execute(select(models.Facility.id, models.Facility.timezone))
    return [(row[0], row[1]) for row in rows.all()]


async def sessions_closed_unmarked_page(
    db: AsyncSession, among: Sequence[uuid.UUID] | None, window: Page
) -> tuple[list[models.GroupSession], int]:
    """Sessions billed (closed) while no member of their roster had been marked: the finalization deadline
    closed them, and nobody recorded who came (not "nobody came", which is everyone marked absent)."""
    session, entry = models.GroupSession, models.RosterEntry
    has_roster = exists().where(entry.session_id == session.id)
    marked = exists().where(entry.session_id == session.id, entry.status != AttendanceStatus.SCHEDULED)
    query = select(session).where(session.billed_at.is_not(None), session.cancelled_at.is_(None), has_roster, ~marked)
    if among is not None:
        query = query.where(session.facility_id.in_(among))
    return await page(db, query, session.ends_at.desc(), session.id, window=window)


async def claims_near_filing_limit_page(
    db: AsyncSession, among: Sequence[uuid.UUID] | None, now: datetime, within_days: int, window: Page
) -> tuple[list[tuple[models.Claim, date, int, int]], int]:
    """Claims the payer does not hold yet (DRAFT, or REJECTED and not corrected) whose date of service is
    within `within_days` of the payer's timely-filing limit (or past it): each with its date of service and
    its days left (counted on the facility's calendar) and the payer's limit, fewest days left first."""
    claim, charge, payer = models.Claim, models.Charge, models.Payer
    session, facility = models.GroupSession, models.Facility
    service_date = (
        select(func.min(charge.service_date))
        .join(models.claim_charges, models.claim_charges.c.charge_id == charge.id)
        .where(models.claim_charges.c.claim_id == claim.id)
        .scalar_subquery()
    )
    today = cast(func.timezone(facility.timezone, literal(now)), Date)
    days_left = payer.timely_filing_days - cast(today - service_date, Integer)
    query = (
        select(claim, service_date.label("service_date"), days_left.label("days_left"), payer.timely_filing_days)
        .join(payer, payer.id == claim.payer_id)
        .join(session, session.id == claim.session_id)
        .join(facility, facility.id == session.facility_id)
        .where(
            claim.frequency != ClaimFrequency.VOID,
            or_(
                claim.status == ClaimStatus.DRAFT,
                and_(
                    claim.status == ClaimStatus.REJECTED,
                    ~exists().where(models.Claim.original_claim_id == claim.id),
                ),
            ),
            service_date.is_not(None),
            days_left <= within_days,
        )
    )
    if among is not None:
        query = query.where(session.facility_id.in_(among))
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await db.execute(query.order_by(days_left, claim.id).offset(window.offset).limit(window.limit))).all()
    return [(row[0], row[1], int(row[2]), int(row[3])) for row in rows], int(total or 0)
