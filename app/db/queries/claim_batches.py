"""The daily submission's reads: the drafts that may go, and the batches that went."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page, page, rows_by_column
from app.rules.claims import ClaimStatus


async def lock_drafts(
    db: AsyncSession, facility_ids: Sequence[uuid.UUID] | None
) -> list[tuple[models.Claim, uuid.UUID]]:
    """Every DRAFT claim of the facilities named (all when None) with its session's facility, by facility, payer
    and age, locked (a claim already being submitted elsewhere is skipped)."""
    query = (
        select(models.Claim, models.GroupSession.facility_id)
        .join(models.GroupSession, models.GroupSession.id == models.Claim.session_id)
        .where(models.Claim.status == ClaimStatus.DRAFT)
        .order_by(models.GroupSession.facility_id, models.Claim.payer_id, models.Claim.created_at, models.Claim.id)
        .with_for_update(of=models.Claim, skip_locked=True)
    )
    if facility_ids is not None:
        query = query.where(models.GroupSession.facility_id.in_(facility_ids))
    return [(claim, facility_id) for claim, facility_id in (await db.execute(query)).all()]


async def batches_page(
    db: AsyncSession, facility_ids: Sequence[uuid.UUID] | None, payer_id: uuid.UUID | None, window: Page
) -> tuple[list[models.ClaimBatch], int]:
    query = select(models.ClaimBatch)
    if facility_ids is not None:
        query = query.where(models.ClaimBatch.facility_id.in_(facility_ids))
    if payer_id is not None:
        query = query.where(models.ClaimBatch.payer_id == payer_id)
    return await page(db, query, models.ClaimBatch.created_at.desc(), models.ClaimBatch.id, window=window)


async def claims_of_batches(db: AsyncSession, batch_ids: Sequence[uuid.UUID]) -> list[list[models.Claim]]:
    return await rows_by_column(db, models.Claim.batch_id, batch_ids, models.Claim.transaction_set_number)
