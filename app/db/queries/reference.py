"""Reference data: facilities, staff, patients, payers, coverage, assignments, payer rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import Page, contains_pattern, page, rows_by_column
from app.rules.reference import StaffAssignmentRole


async def facilities(db: AsyncSession, among: Sequence[uuid.UUID] | None) -> list[models.Facility]:
    """The facilities named (every one when `among` is None), by name."""
    query = select(models.Facility).order_by(models.Facility.name)
    if among is not None:
        query = query.where(models.Facility.id.in_(among))
    return list((await db.scalars(query)).all())


async def patients_page(
    db: AsyncSession, among_facilities: Sequence[uuid.UUID] | None, search: str | None, window: Page
) -> tuple[list[models.Patient], int]:
    """Patients of the facilities named (all when None) whose name or MRN contains `search`."""
    query = select(models.Patient)
    if among_facilities is not None:
        query = query.where(models.Patient.facility_id.in_(among_facilities))
    if search:
        term = contains_pattern(search)
        query = query.where(
            or_(models.Patient.name.ilike(term, escape="\\"), models.Patient.mrn.ilike(term, escape="\\"))
        )
    return await page(db, query, models.Patient.name, models.Patient.id, window=window)


async def staff_page(
    db: AsyncSession, among_facilities: Sequence[uuid.UUID] | None, search: str | None, window: Page
) -> tuple[list[models.Staff], int]:
    """Staff of the facilities named (all when None) whose name contains `search`, by name."""
    query = select(models.Staff)
    if among_facilities is not None:
        query = query.where(models.Staff.facility_id.in_(among_facilities))
    if search:
        query = query.where(models.Staff.name.ilike(contains_pattern(search), escape="\\"))
    return await page(db, query, models.Staff.name, models.Staff.id, window=window)


async def staff_assignments_page(
    db: AsyncSession,
    among_facilities: Sequence[uuid.UUID] | None,
    *,
    staff_id: uuid.UUID | None,
    patient_id: uuid.UUID | None,
    role: StaffAssignmentRole | None,
    window: Page,
) -> tuple[list[models.StaffAssignment], int]:
    """Assignments whose patient belongs to the facilities named (all when None), oldest first."""
    query = select(models.StaffAssignment).join(models.Patient, models.Patient.id == models.StaffAssignment.patient_id)
    if among_facilities is not None:
        query = query.where(models.Patient.facility_id.in_(among_facilities))
    if staff_id is not None:
        query = query.where(models.StaffAssignment.staff_id == staff_id)
    if patient_id is not None:
        query = query.where(models.StaffAssignment.patient_id == patient_id)
    if role is not None:
        query = query.where(models.StaffAssignment.role == role)
    return await page(db, query, models.StaffAssignment.created_at, models.StaffAssignment.id, window=window)


async def delete_staff_assignment(db: AsyncSession, assignment_id: uuid.UUID) -> None:
    await db.execute(delete(models.StaffAssignment).where(models.StaffAssignment.id == assignment_id))


async def patient_with_mrn(db: AsyncSession, facility_id: uuid.UUID, mrn: str) -> uuid.UUID | None:
    return await db.scalar(
        select(models.Patient.id).where(models.Patient.facility_id == facility_id, models.Patient.mrn == mrn)
    )


async def lock_patient(db: AsyncSession, patient_id: uuid.UUID) -> models.Patient | None:
    """The patient, locked for a change (FOR UPDATE) and read as it stands after any change before it."""
    return await db.scalar(
        select(models.Patient)
        .where(models.Patient.id == patient_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def facilities_of_patients(db: AsyncSession, patient_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each existing patient's facility, by patient."""
    if not patient_ids:
        return {}
    rows = await db.execute(
        select(models.Patient.id, models.Patient.facility_id).where(models.Patient.id.in_(patient_ids))
    )
    return dict(rows.all())


async def payer_with_code(db: AsyncSession, payer_code: str) -> uuid.UUID | None:
    return await db.scalar(select(models.Payer.id).where(models.Payer.payer_code == payer_code))


async def lock_payer(db: AsyncSession, payer_id: uuid.UUID) -> None:
    """Serializes replacements of one payer's tables, so two admins cannot interleave."""
    await db.execute(select(models.Payer.id).where(models.Payer.id == payer_id).with_for_update())


async def coverages_by_patient(db: AsyncSession, patient_ids: Sequence[uuid.UUID]) -> list[list[models.Coverage]]:
    return await rows_by_column(
        db, models.Coverage.patient_id, patient_ids, models.Coverage.priority, models.Coverage.effective_from
    )


async def diagnoses_by_patient(db: AsyncSession, patient_ids: Sequence[uuid.UUID]) -> list[list[models.Diagnosis]]:
    """Each patient's diagnoses in their order (position 1 the principal)."""
    return await rows_by_column(db, models.Diagnosis.patient_id, patient_ids, models.Diagnosis.position)


async def delete_diagnoses(db: AsyncSession, patient_id: uuid.UUID) -> None:
    await db.execute(delete(models.Diagnosis).where(models.Diagnosis.patient_id == patient_id))


async def payer_coverage(db: AsyncSession, patient_id: uuid.UUID, payer_id: uuid.UUID) -> models.Coverage | None:
    """The patient's coverage with the payer, primary first, the newest of equal priority."""
    return await db.scalar(
        select(models.Coverage)
        .where(models.Coverage.patient_id == patient_id, models.Coverage.payer_id == payer_id)
        .order_by(models.Coverage.priority, models.Coverage.effective_from.desc())
        .limit(1)
    )


async def staff_assignment(
    db: AsyncSession, staff_id: uuid.UUID, patient_id: uuid.UUID, role: StaffAssignmentRole
) -> models.StaffAssignment | None:
    return await db.scalar(
        select(models.StaffAssignment).where(
            models.StaffAssignment.staff_id == staff_id,
            models.StaffAssignment.patient_id == patient_id,
            models.StaffAssignment.role == role,
        )
    )


async def supervision_rule_for_update(
    db: AsyncSession, payer_id: uuid.UUID, state: str
) -> models.SupervisionRule | None:
    return await db.scalar(
        select(models.SupervisionRule)
        .where(models.SupervisionRule.payer_id == payer_id, models.SupervisionRule.state == state)
        .with_for_update()
    )


async def band_table(db: AsyncSession, payer_id: uuid.UUID, state: str) -> list[models.GroupSizeBand]:
    rows = await db.scalars(
        select(models.GroupSizeBand).where(
            models.GroupSizeBand.payer_id == payer_id, models.GroupSizeBand.state == state
        )
    )
    return list(rows.all())


async def delete_band_table(db: AsyncSession, payer_id: uuid.UUID, state: str) -> None:
    await db.execute(
        delete(models.GroupSizeBand).where(
            models.GroupSizeBand.payer_id == payer_id, models.GroupSizeBand.state == state
        )
    )


async def demote_coverages(db: AsyncSession, patient_id: uuid.UUID, payer_id: uuid.UUID, priority: int) -> None:
    """The patient's coverages by the payer set to `priority` (a primary entered in error becomes secondary)."""
    await db.execute(
        update(models.Coverage)
        .where(models.Coverage.patient_id == patient_id, models.Coverage.payer_id == payer_id)
        .values(priority=priority)
    )
