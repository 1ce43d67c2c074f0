"""Reference data: facilities, staff, patients, payers, coverage, assignments and payer rules."""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from zoneinfo import available_timezones

from sqlalchemy import delete, func, or_, select

from app.db import models
from app.errors import BadInput, Conflict, NotFound
from app.ids import decode_id
from app.resolvers.common import check, contains_pattern, get_visible
from app.rules.bands import band_table_problems
from app.rules.reference import (
    control_problem,
    identifier_problem,
    name_problem,
    npi_is_valid,
    state_problem,
    timezone_problem,
)

from app.schema.pagination import Page


@cache
def iana_zones() -> frozenset[str]:
    """The time zone names tzdata knows, read once."""
    return frozenset(available_timezones())


async def _payer(session, global_id: str) -> models.Payer:
    """Payers are shared reference data: any caller may name one; a missing one is NOT_FOUND."""
    payer = await session.get(models.Payer, decode_id(global_id, "Payer"))
    if payer is None:
        raise NotFound("No Payer with that id")
    return payer


def _check_npi(npi: str | None) -> str | None:
    if npi is None:
        return None
    if not npi_is_valid(npi):
        raise BadInput("npi must be 10 digits with a valid check digit")
    return npi


async def viewer_facilities(ctx) -> Sequence[models.Facility]:
    principal = ctx.principal
    async with ctx.db() as session:
        query = select(models.Facility).order_by(models.Facility.name)
        if not principal.all_facilities:
            query = query.where(models.Facility.id.in_(principal.facility_uuids))
        rows = (await session.scalars(query)).all()
    if not principal.all_facilities:
        order = {f: i for i, f in enumerate(principal.facilities)}
        rows = sorted(rows, key=lambda r: order.get(str(r.id), len(order)))
    return rows


def _check_address(line: str | None, city: str | None, postal_code: str | None) -> None:
    check(control_problem("addressLine1", line) or control_problem("city", city)
          or identifier_problem("postalCode", postal_code, 10))


async def create_facility(ctx, data) -> models.Facility:
    check(name_problem("name", data.name))
    name = data.name.strip()
    check(identifier_problem("taxId", data.tax_id, 20))
    _check_address(data.address_line1, data.city, data.postal_code)
    check(state_problem(data.state))
    check(timezone_problem(data.timezone, iana_zones()))
    row = models.Facility(
        name=name,
        state=data.state,
        timezone=data.timezone,
        npi=_check_npi(data.npi),
        tax_id=data.tax_id,
        address_line1=data.address_line1,
        city=data.city,
        postal_code=data.postal_code,
    )
    async with ctx.unit_of_work() as uow:
        uow.session.add(row)
        await uow.session.flush()
        uow.audit("facility.create", "Facility", row.id, after={"name": row.name, "state": row.state})
    return row


async def create_staff(ctx, data) -> models.Staff:
    check(name_problem("name", data.name))
    name = data.name.strip()
    npi = _check_npi(data.npi)
    async with ctx.unit_of_work() as uow:
        facility = await get_visible(ctx, uow.session, models.Facility, data.facility_id, "Facility")
        row = models.Staff(name=name, npi=npi, facility_id=facility.id)
        uow.session.add(row)
        await uow.session.flush()
        uow.audit("staff.create", "Staff", row.id, after={"facilityId": str(facility.id), "npi": npi})
    return row


async def create_patient(ctx, data) -> models.Patient:
    check(identifier_problem("mrn", data.mrn, 64) or name_problem("name", data.name))
    _check_address(data.address_line1, data.city, data.postal_code)
    mrn, name = data.mrn.strip(), data.name.strip()
    if data.date_of_birth > ctx.services.clock.now().date() or data.date_of_birth.year < 1900:
        raise BadInput("dateOfBirth must be between 1900-01-01 and today")
    if data.sex is not None and data.sex not in {"F", "M", "U"}:
        raise BadInput("sex must be F, M or U")
    if data.state is not None:
        check(state_problem(data.state))
    async with ctx.unit_of_work() as uow:
        facility = await get_visible(ctx, uow.session, models.Facility, data.facility_id, "Facility")
        clash = await uow.session.scalar(
            select(models.Patient.id).where(
                models.Patient.facility_id == facility.id, models.Patient.mrn == mrn
            )
        )
        if clash:
            raise Conflict("A patient with that MRN already exists at this facility")
        row = models.Patient(
            mrn=mrn,
            name=name,
            date_of_birth=data.date_of_birth,
            facility_id=facility.id,
            sex=data.sex,
            address_line1=data.address_line1,
            city=data.city,
            state=data.state,
            postal_code=data.postal_code,
        )
        uow.session.add(row)
        await uow.session.flush()
        # Ids only: audit rows must not carry names or dates of birth into logs or exports.
        uow.audit("patient.create", "Patient", row.id, after={"facilityId": str(facility.id)})
    return row


async def create_payer(ctx, data) -> models.Payer:
    check(name_problem("name", data.name) or identifier_problem("payerCode", data.payer_code, 64))
    name, code = data.name.strip(), data.payer_code.strip()
    async with ctx.unit_of_work() as uow:
        if await uow.session.scalar(select(models.Payer.id).where(models.Payer.payer_code == code)):
            raise Conflict(f"Payer code {code!r} is already in use")
        row = models.Payer(name=name, payer_code=code)
        uow.session.add(row)
        await uow.session.flush()
        uow.audit("payer.create", "Payer", row.id, after={"payerCode": code})
    return row


async def add_coverage(ctx, data) -> models.Coverage:
    check(identifier_problem("memberId", data.member_id, 80))
    member_id = data.member_id.strip()
    if data.priority < 1:
        raise BadInput("priority must be 1 (primary) or more")
    if data.effective_to is not None and data.effective_to < data.effective_from:
        raise BadInput("effectiveTo must not be before effectiveFrom")
    async with ctx.unit_of_work() as uow:
        patient = await get_visible(ctx, uow.session, models.Patient, data.patient_id, "Patient")
        payer = await _payer(uow.session, data.payer_id)
        row = models.Coverage(
            patient_id=patient.id,
            payer_id=payer.id,
            member_id=member_id,
            priority=data.priority,
            effective_from=data.effective_from,
            effective_to=data.effective_to,
        )
        uow.session.add(row)
        await uow.session.flush()
        uow.audit(
            "coverage.add",
            "Coverage",
            row.id,
            after={"patientId": str(patient.id), "payerId": str(payer.id), "priority": data.priority},
        )
    return row


async def assign_staff(ctx, data) -> models.StaffAssignment:
    async with ctx.unit_of_work() as uow:
        staff = await get_visible(ctx, uow.session, models.Staff, data.staff_id, "Staff")
        patient = await get_visible(ctx, uow.session, models.Patient, data.patient_id, "Patient")
        if staff.facility_id != patient.facility_id:
            raise BadInput("Staff and patient must belong to the same facility")
        existing = await uow.session.scalar(
            select(models.StaffAssignment).where(
                models.StaffAssignment.staff_id == staff.id,
                models.StaffAssignment.patient_id == patient.id,
                models.StaffAssignment.role == data.role.value,
            )
        )
        if existing:
            return existing
        row = models.StaffAssignment(staff_id=staff.id, patient_id=patient.id, role=data.role.value)
        uow.session.add(row)
        await uow.session.flush()
        uow.audit(
            "staff_assignment.create",
            "StaffAssignment",
            row.id,
            after={"staffId": str(staff.id), "patientId": str(patient.id), "role": data.role.value},
        )
    return row


async def set_supervision_rule(ctx, data) -> models.SupervisionRule:
    check(state_problem(data.state))
    if data.max_participants_per_supervisor < 1:
        raise BadInput("maxParticipantsPerSupervisor must be at least 1")
    async with ctx.unit_of_work() as uow:
        payer = await _payer(uow.session, data.payer_id)
        row = await uow.session.scalar(
            select(models.SupervisionRule)
            .where(models.SupervisionRule.payer_id == payer.id, models.SupervisionRule.state == data.state)
            .with_for_update()
        )
        before = {"maxParticipantsPerSupervisor": row.max_participants_per_supervisor} if row else None
        if row is None:
            row = models.SupervisionRule(payer_id=payer.id, state=data.state)
            uow.session.add(row)
        row.max_participants_per_supervisor = data.max_participants_per_supervisor
        await uow.session.flush()
        uow.audit(
            "supervision_rule.set",
            "SupervisionRule",
            row.id,
            before=before,
            after={"maxParticipantsPerSupervisor": data.max_participants_per_supervisor},
        )
    return row


async def set_group_size_bands(ctx, data) -> list[models.GroupSizeBand]:
    check(state_problem(data.state))
    bands = [
        (b.min_size, b.max_size, b.procedure_code, list(b.modifiers or []), b.rate) for b in data.bands
    ]
    problems = band_table_problems(bands)
    if problems:
        raise BadInput("; ".join(problems))
    async with ctx.unit_of_work() as uow:
        payer = await _payer(uow.session, data.payer_id)
        # Serialise replacements of one table so two admins cannot interleave.
        await uow.session.execute(
            select(models.Payer.id).where(models.Payer.id == payer.id).with_for_update()
        )
        old = (
            await uow.session.scalars(
                select(models.GroupSizeBand).where(
                    models.GroupSizeBand.payer_id == payer.id, models.GroupSizeBand.state == data.state
                )
            )
        ).all()
        await uow.session.execute(
            delete(models.GroupSizeBand).where(
                models.GroupSizeBand.payer_id == payer.id, models.GroupSizeBand.state == data.state
            )
        )
        rows = [
            models.GroupSizeBand(
                payer_id=payer.id,
                state=data.state,
                min_size=lo,
                max_size=hi,
                procedure_code=code,
                modifiers=mods,
                rate=rate,
            )
            for lo, hi, code, mods, rate in sorted(bands)
        ]
        uow.session.add_all(rows)
        await uow.session.flush()
        uow.audit(
            "group_size_bands.set",
            "Payer",
            payer.id,
            before={"state": data.state, "bands": [_band_json(b) for b in old]},
            after={"state": data.state, "bands": [_band_json(b) for b in rows]},
        )
    return rows


def _band_json(b: models.GroupSizeBand) -> dict:
    return {
        "minSize": b.min_size,
        "maxSize": b.max_size,
        "procedureCode": b.procedure_code,
        "modifiers": list(b.modifiers or []),
        "rate": str(b.rate),
    }


async def search_patients(ctx, search: str | None, page: Page) -> tuple[list[models.Patient], int]:
    principal = ctx.principal
    query = select(models.Patient)
    if not principal.all_facilities:
        query = query.where(models.Patient.facility_id.in_(principal.facility_uuids))
    if search:
        term = contains_pattern(search)
        query = query.where(or_(models.Patient.name.ilike(term, escape="\\"), models.Patient.mrn.ilike(term, escape="\\")))
    async with ctx.db() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await session.scalars(
                query.order_by(models.Patient.name, models.Patient.id).offset(page.offset).limit(page.limit)
            )
        ).all()
    return list(rows), int(total or 0)
