"""Reference data: facilities, staff, patients, payers, coverage, assignments and payer rules."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.exc import IntegrityError

from app.auth import Principal
from app.db import models
from app.db.queries import notes as notes_queries
from app.db.queries import reference as queries
from app.db.queries import remittance as remittance_queries
from app.db.uow import UnitOfWork
from app.errors import BadInput, Conflict, NotFound
from app.live.publish import stage_billing_change
from app.operations.common import camel, check, require_text, visible_or_not_found
from app.rules.bands import band_table_problems
from app.rules.diagnoses import (
    MAX_DESCRIPTION,
    Diagnosis,
    billable_code_problem,
    diagnosis_list_problems,
    normalize_icd10cm,
)
from app.rules.notes import DEFAULT_LATE_ENTRY_HOURS, SignedNoteRule, late_entry_hours_problem
from app.rules.reference import (
    StaffAssignmentRole,
    blank_problem,
    control_problem,
    filing_indicator_problem,
    identifier_problem,
    interchange_id_problem,
    name_problem,
    npi_is_valid,
    state_problem,
    taxonomy_problem,
    timely_filing_problem,
    timezone_problem,
    zip_code_problem,
    zip_plus_four_problem,
)
from app.rules.remittance import BillingQueue
from app.rules.visits import Modality, TelehealthCoding, minimum_minutes_problem, telehealth_coding_problem


@cache
def iana_zones() -> frozenset[str]:
    """The time zone names tzdata knows, read once."""
    return frozenset(available_timezones())


@dataclass(frozen=True)
class NewFacility:
    name: str
    state: str
    timezone: str
    npi: str | None = None
    tax_id: str | None = None
    address_line1: str | None = None
    city: str | None = None
    postal_code: str | None = None
    taxonomy: str | None = None
    submitter_id: str | None = None
    note_late_entry_hours: int | None = None  # None: rules.notes.DEFAULT_LATE_ENTRY_HOURS


@dataclass(frozen=True)
class NewStaff:
    name: str
    facility_id: uuid.UUID
    npi: str | None = None
    taxonomy: str | None = None


DEFAULT_TIMELY_FILING_DAYS = 365


@dataclass(frozen=True)
class NewPayer:
    name: str
    payer_code: str
    claim_filing_indicator: str | None = None
    receiver_id: str | None = None
    taxonomy_required: bool | None = None
    test_mode: bool | None = None
    timely_filing_days: int | None = None  # days from the date of service; 365 when not given


@dataclass(frozen=True)
class NewPatient:
    mrn: str
    name: str
    date_of_birth: date
    facility_id: uuid.UUID
    sex: str | None = None
    address_line1: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class NewCoverage:
    patient_id: uuid.UUID
    payer_id: uuid.UUID
    member_id: str
    priority: int
    effective_from: date
    effective_to: date | None = None


@dataclass(frozen=True)
class BandSpec:
    min_size: int
    max_size: int
    procedure_code: str
    rate: Decimal
    modifiers: list[str] = field(default_factory=list)


async def payer(db, payer_id: uuid.UUID) -> models.Payer:
    """Payers are shared reference data: any caller may name one; a missing one is NOT_FOUND."""
    row = await db.get(models.Payer, payer_id)
    if row is None:
        raise NotFound("No Payer with that id")
    return row


async def visible(db, actor: Principal, model: type, pk: uuid.UUID, label: str):
    return visible_or_not_found(actor, await db.get(model, pk), label)


def _npi(npi: str | None) -> str | None:
    if npi is not None and not npi_is_valid(npi):
        raise BadInput("npi must be 10 digits with a valid check digit")
    return npi


def _check_address(line: str | None, city: str | None, postal_code: str | None) -> None:
    check(
        control_problem("addressLine1", line)
        or control_problem("city", city)
        or identifier_problem("postalCode", postal_code, 10)
    )


async def create_facility(uow: UnitOfWork, actor: Principal, data: NewFacility) -> models.Facility:
    check(name_problem("name", data.name))
    name = data.name.strip()
    check(identifier_problem("taxId", data.tax_id, 20))
    _check_address(data.address_line1, data.city, data.postal_code)
    # The facility's address is the claims' billing provider address (2010AA N403 wants ZIP+4).
    check(zip_plus_four_problem("postalCode", data.postal_code))
    check(taxonomy_problem("taxonomy", data.taxonomy) or interchange_id_problem("submitterId", data.submitter_id))
    check(state_problem(data.state))
    check(timezone_problem(data.timezone, iana_zones()))
    check(late_entry_hours_problem("noteLateEntryHours", data.note_late_entry_hours))
    row = models.Facility(
        name=name,
        state=data.state,
        timezone=data.timezone,
        npi=_npi(data.npi),
        tax_id=data.tax_id,
        address_line1=data.address_line1,
        city=data.city,
        postal_code=data.postal_code,
        taxonomy=data.taxonomy.strip().upper() if data.taxonomy else None,
        submitter_id=data.submitter_id.strip().upper() if data.submitter_id else None,
        note_late_entry_hours=data.note_late_entry_hours or DEFAULT_LATE_ENTRY_HOURS,
    )
    uow.db.add(row)
    await uow.db.flush()
    uow.audit("facility.create", "Facility", row.id, after={"name": row.name, "state": row.state})
    return row


async def create_staff(uow: UnitOfWork, actor: Principal, data: NewStaff) -> models.Staff:
    check(name_problem("name", data.name))
    name = data.name.strip()
    npi = _npi(data.npi)
    check(taxonomy_problem("taxonomy", data.taxonomy))
    facility = await visible(uow.db, actor, models.Facility, data.facility_id, "Facility")
    taxonomy = data.taxonomy.strip().upper() if data.taxonomy else None
    row = models.Staff(name=name, npi=npi, facility_id=facility.id, taxonomy=taxonomy)
    uow.db.add(row)
    await uow.db.flush()
    uow.audit("staff.create", "Staff", row.id, after={"facilityId": str(facility.id), "npi": npi})
    return row


async def update_staff_billing(
    uow: UnitOfWork, actor: Principal, staff_id: uuid.UUID, npi: str | None, taxonomy: str | None
) -> models.Staff:
    """Change a clinician's NPI or taxonomy code (2310B NM109, PRV*PE); a value left out (None) stays."""
    check(taxonomy_problem("taxonomy", taxonomy))
    npi = _npi(npi)
    row = await visible(uow.db, actor, models.Staff, staff_id, "Staff")
    before = {"npi": row.npi, "taxonomy": row.taxonomy}
    if npi is not None:
        row.npi = npi
    if taxonomy is not None:
        row.taxonomy = taxonomy.strip().upper()
    await uow.db.flush()
    uow.audit("staff.update", "Staff", row.id, before=before, after={"npi": row.npi, "taxonomy": row.taxonomy})
    return row


# A patient's fields, in the order they are checked; the first three are required.
PATIENT_FIELDS = ("mrn", "name", "date_of_birth", "sex", "address_line1", "city", "state", "postal_code")
REQUIRED_PATIENT_FIELDS = frozenset({"mrn", "name", "date_of_birth"})
SEXES = frozenset({"F", "M", "U"})


def _check_patient(values: Mapping[str, Any], today: date) -> None:
    """What createPatient and updatePatient refuse, on the fields given (a key left out is not checked;
    None clears an optional field and is refused for a required one)."""
    for name in PATIENT_FIELDS:
        if name in REQUIRED_PATIENT_FIELDS and name in values and values[name] is None:
            raise BadInput(f"{camel(name)} cannot be cleared")
    check(
        ("mrn" in values and identifier_problem("mrn", values["mrn"], 64))
        or ("name" in values and name_problem("name", values["name"]))
        or None
    )
    _check_address(values.get("address_line1"), values.get("city"), values.get("postal_code"))
    check(
        blank_problem("addressLine1", values.get("address_line1"))
        or blank_problem("city", values.get("city"))
        or zip_code_problem("postalCode", values.get("postal_code"))
    )
    born = values.get("date_of_birth")
    if born is not None and (born > today or born.year < 1900):
        raise BadInput("dateOfBirth must be between 1900-01-01 and today")
    if values.get("sex") is not None and values["sex"] not in SEXES:
        raise BadInput("sex must be F, M or U")
    if values.get("state") is not None:
        check(state_problem(values["state"]))


async def create_patient(uow: UnitOfWork, actor: Principal, data: NewPatient) -> models.Patient:
    _check_patient({name: getattr(data, name) for name in PATIENT_FIELDS}, uow.clock.now().date())
    mrn, name = data.mrn.strip(), data.name.strip()
    facility = await visible(uow.db, actor, models.Facility, data.facility_id, "Facility")
    if await queries.patient_with_mrn(uow.db, facility.id, mrn):
        raise Conflict(MRN_TAKEN)
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
    uow.db.add(row)
    await uow.db.flush()
    # Ids only: audit rows must not carry names or dates of birth into logs or exports.
    uow.audit("patient.create", "Patient", row.id, after={"facilityId": str(facility.id)})
    return row


MRN_TAKEN = "A patient with that MRN already exists at this facility"


async def update_patient(
    uow: UnitOfWork, actor: Principal, patient_id: uuid.UUID, changes: Mapping[str, Any]
) -> models.Patient:
    """Correct a patient's record (the fix a billing office makes for a claim held by
    MISSING_SUBSCRIBER_ADDRESS): only the fields given change, None clears an optional one, and each is
    checked as createPatient checks it. The row is locked first, so two corrections follow one another."""
    changes = {name: changes[name] for name in PATIENT_FIELDS if name in changes}
    if not changes:
        raise BadInput("Give at least one field to change")
    _check_patient(changes, uow.clock.now().date())
    for name in ("mrn", "name"):
        if name in changes:
            changes[name] = changes[name].strip()
    row = visible_or_not_found(actor, await queries.lock_patient(uow.db, patient_id), "Patient")
    if "mrn" in changes and changes["mrn"] != row.mrn:
        if await queries.patient_with_mrn(uow.db, row.facility_id, changes["mrn"]):
            raise Conflict(MRN_TAKEN)
    before = {name: getattr(row, name) for name in PATIENT_FIELDS}
    for name, value in changes.items():
        setattr(row, name, value)
    try:
        await uow.db.flush()
    except IntegrityError as error:  # another patient took the MRN since it was looked up
        if "uq_patients_facility_mrn" in str(error.orig):
            raise Conflict(MRN_TAKEN) from None
        raise
    changed = [name for name in PATIENT_FIELDS if getattr(row, name) != before[name]]
    # Like patient.create: ids, never the patient's details. What changed is named, and for each field
    # whether it holds a value before and after (an address added reads False -> True).
    uow.audit(
        "patient.update",
        "Patient",
        row.id,
        before={"facilityId": str(row.facility_id), **_recorded(before)},
        after={
            "facilityId": str(row.facility_id),
            **_recorded({name: getattr(row, name) for name in PATIENT_FIELDS}),
            "fields": [camel(name) for name in changed],
        },
    )
    return row


def _recorded(values: Mapping[str, Any]) -> dict[str, bool]:
    return {camel(name): values[name] is not None for name in PATIENT_FIELDS}


async def create_payer(
    uow: UnitOfWork, actor: Principal, name: str, payer_code: str, settings: NewPayer | None = None
) -> models.Payer:
    """A payer, with its claim settings: SBR09, the clearinghouse's receiver id, taxonomy, test mode."""
    check(name_problem("name", name) or identifier_problem("payerCode", payer_code, 64))
    name, code = name.strip(), payer_code.strip()
    settings = settings or NewPayer(name, code)
    check(
        filing_indicator_problem(settings.claim_filing_indicator)
        or interchange_id_problem("receiverId", settings.receiver_id)
        or timely_filing_problem(settings.timely_filing_days)
    )
    if await queries.payer_with_code(uow.db, code):
        raise Conflict(f"Payer code {code!r} is already in use")
    row = models.Payer(
        name=name,
        payer_code=code,
        claim_filing_indicator=settings.claim_filing_indicator or "CI",
        receiver_id=settings.receiver_id.strip().upper() if settings.receiver_id else None,
        taxonomy_required=bool(settings.taxonomy_required),
        test_mode=bool(settings.test_mode),
        timely_filing_days=settings.timely_filing_days or DEFAULT_TIMELY_FILING_DAYS,
    )
    uow.db.add(row)
    await uow.db.flush()
    uow.audit(
        "payer.create",
        "Payer",
        row.id,
        after={
            "payerCode": code,
            "claimFilingIndicator": row.claim_filing_indicator,
            "testMode": row.test_mode,
            "timelyFilingDays": row.timely_filing_days,
        },
    )
    return row


async def update_payer_claim_settings(
    uow: UnitOfWork, actor: Principal, payer_id: uuid.UUID, settings: NewPayer
) -> models.Payer:
    """Change a payer's claim settings; a setting left out (None) stays as it is."""
    check(
        filing_indicator_problem(settings.claim_filing_indicator)
        or interchange_id_problem("receiverId", settings.receiver_id)
        or timely_filing_problem(settings.timely_filing_days)
    )
    row = await payer(uow.db, payer_id)
    before = _payer_settings(row)
    if settings.claim_filing_indicator is not None:
        row.claim_filing_indicator = settings.claim_filing_indicator
    if settings.receiver_id is not None:
        row.receiver_id = settings.receiver_id.strip().upper()
    if settings.taxonomy_required is not None:
        row.taxonomy_required = settings.taxonomy_required
    if settings.test_mode is not None:
        row.test_mode = settings.test_mode
    limit_changed = settings.timely_filing_days not in (None, row.timely_filing_days)
    if settings.timely_filing_days is not None:
        row.timely_filing_days = settings.timely_filing_days
    await uow.db.flush()
    if limit_changed:  # every claim to the payer has other days left: each facility's watchers read it again
        for facility_id, _ in await remittance_queries.facility_zones(uow.db):
            await stage_billing_change(uow, facility_id, [BillingQueue.TIMELY_FILING])
    uow.audit("payer.update", "Payer", row.id, before=before, after=_payer_settings(row))
    return row


def _payer_settings(row: models.Payer) -> dict[str, Any]:
    return {
        "claimFilingIndicator": row.claim_filing_indicator,
        "receiverId": row.receiver_id,
        "taxonomyRequired": row.taxonomy_required,
        "testMode": row.test_mode,
        "timelyFilingDays": row.timely_filing_days,
    }


@dataclass(frozen=True)
class FacilityBilling:
    """A facility's billing identity; a field left out (None) stays as it is."""

    npi: str | None = None
    tax_id: str | None = None
    address_line1: str | None = None
    city: str | None = None
    postal_code: str | None = None
    taxonomy: str | None = None
    submitter_id: str | None = None


async def update_facility_billing(
    uow: UnitOfWork, actor: Principal, facility_id: uuid.UUID, data: FacilityBilling
) -> models.Facility:
    """Change the facility's billing identity: its NPI, tax id, billing address (ZIP+4), taxonomy and
    clearinghouse submitter id."""
    check(identifier_problem("taxId", data.tax_id, 20))
    _check_address(data.address_line1, data.city, data.postal_code)
    check(zip_plus_four_problem("postalCode", data.postal_code))
    check(taxonomy_problem("taxonomy", data.taxonomy) or interchange_id_problem("submitterId", data.submitter_id))
    row = await visible(uow.db, actor, models.Facility, facility_id, "Facility")
    fields = ("npi", "tax_id", "address_line1", "city", "postal_code", "taxonomy", "submitter_id")
    before = {name: getattr(row, name) for name in fields}
    for name in fields:
        value = getattr(data, name)
        if value is not None:
            value = _npi(value) if name == "npi" else value.strip()
            setattr(row, name, value.upper() if name in ("taxonomy", "submitter_id") else value)
    await uow.db.flush()
    uow.audit("facility.update", "Facility", row.id, before=before, after={name: getattr(row, name) for name in fields})
    return row


async def add_coverage(uow: UnitOfWork, actor: Principal, data: NewCoverage) -> models.Coverage:
    check(identifier_problem("memberId", data.member_id, 80))
    member_id = data.member_id.strip()
    if data.priority < 1:
        raise BadInput("priority must be 1 (primary) or more")
    if data.effective_to is not None and data.effective_to < data.effective_from:
        raise BadInput("effectiveTo must not be before effectiveFrom")
    patient = await visible(uow.db, actor, models.Patient, data.patient_id, "Patient")
    covering = await payer(uow.db, data.payer_id)
    row = models.Coverage(
        patient_id=patient.id,
        payer_id=covering.id,
        member_id=member_id,
        priority=data.priority,
        effective_from=data.effective_from,
        effective_to=data.effective_to,
    )
    uow.db.add(row)
    await uow.db.flush()
    uow.audit(
        "coverage.add",
        "Coverage",
        row.id,
        after={"patientId": str(patient.id), "payerId": str(covering.id), "priority": data.priority},
    )
    return row


@dataclass(frozen=True)
class NewDiagnosis:
    code: str
    effective_from: date
    effective_to: date | None = None
    description: str | None = None


async def set_patient_diagnoses(
    uow: UnitOfWork, actor: Principal, patient_id: uuid.UUID, entries: Sequence[NewDiagnosis]
) -> list[models.Diagnosis]:
    """Replace the patient's ordered diagnoses (the first is the principal); every code is checked
    for the ICD-10-CM form first, and one bad entry refuses them all."""
    patient = await visible(uow.db, actor, models.Patient, patient_id, "Patient")
    listed: list[Diagnosis] = []
    for number, entry in enumerate(entries, 1):
        code = normalize_icd10cm(entry.code)
        if code is None:
            raise BadInput(f"diagnosis {number}: {entry.code.strip()[:20]!r} is not an ICD-10-CM code (like F33.1)")
        problem = billable_code_problem(code)
        if problem is not None:
            raise BadInput(f"diagnosis {number}: {problem}", field="code", diagnosisCode=code)
        listed.append(Diagnosis(code, entry.effective_from, entry.effective_to))
    problems = diagnosis_list_problems(listed)
    if problems:
        raise BadInput("; ".join(problems))
    descriptions = [
        require_text("description", e.description, MAX_DESCRIPTION) if e.description else None for e in entries
    ]
    before = [d.code for d in (await queries.diagnoses_by_patient(uow.db, [patient.id]))[0]]
    await queries.delete_diagnoses(uow.db, patient.id)
    rows = [
        models.Diagnosis(
            patient_id=patient.id,
            position=position,
            code=diagnosis.code,
            description=description,
            effective_from=diagnosis.effective_from,
            effective_to=diagnosis.effective_to,
        )
        for position, (diagnosis, description) in enumerate(zip(listed, descriptions, strict=False), 1)
    ]
    uow.db.add_all(rows)
    await uow.db.flush()
    uow.audit(
        "patient.diagnoses.set",
        "Patient",
        patient.id,
        before={"codes": before},
        after={
            "codes": [r.code for r in rows],
            "effective": [[str(r.effective_from), str(r.effective_to) if r.effective_to else None] for r in rows],
        },
    )
    return rows


async def remove_staff_assignment(
    uow: UnitOfWork, actor: Principal, assignment_id: uuid.UUID
) -> models.StaffAssignment:
    """Take a staff member off a patient (the Supervisors card's fix when the wrong supervisor shows)."""
    row = await uow.db.get(models.StaffAssignment, assignment_id, with_for_update=True)
    if row is None:
        raise NotFound("No StaffAssignment with that id")
    await visible(uow.db, actor, models.Patient, row.patient_id, "StaffAssignment")
    await queries.delete_staff_assignment(uow.db, row.id)
    uow.audit(
        "staff_assignment.remove",
        "StaffAssignment",
        row.id,
        before={"staffId": str(row.staff_id), "patientId": str(row.patient_id), "role": row.role, "removed": False},
        after={"staffId": str(row.staff_id), "patientId": str(row.patient_id), "role": row.role, "removed": True},
    )
    return row


async def assign_staff(
    uow: UnitOfWork, actor: Principal, staff_id: uuid.UUID, patient_id: uuid.UUID, role: StaffAssignmentRole
) -> models.StaffAssignment:
    staff = await visible(uow.db, actor, models.Staff, staff_id, "Staff")
    patient = await visible(uow.db, actor, models.Patient, patient_id, "Patient")
    if staff.facility_id != patient.facility_id:
        raise BadInput("Staff and patient must belong to the same facility")
    existing = await queries.staff_assignment(uow.db, staff.id, patient.id, role)
    if existing:
        return existing
    row = models.StaffAssignment(staff_id=staff.id, patient_id=patient.id, role=role)
    uow.db.add(row)
    await uow.db.flush()
    uow.audit(
        "staff_assignment.create",
        "StaffAssignment",
        row.id,
        after={"staffId": str(staff.id), "patientId": str(patient.id), "role": role},
    )
    return row


async def set_supervision_rule(
    uow: UnitOfWork, actor: Principal, payer_id: uuid.UUID, state: str, max_participants_per_supervisor: int
) -> models.SupervisionRule:
    check(state_problem(state))
    if max_participants_per_supervisor < 1:
        raise BadInput("maxParticipantsPerSupervisor must be at least 1")
    covering = await payer(uow.db, payer_id)
    row = await queries.supervision_rule_for_update(uow.db, covering.id, state)
    before = {"maxParticipantsPerSupervisor": row.max_participants_per_supervisor} if row else None
    if row is None:
        row = models.SupervisionRule(payer_id=covering.id, state=state)
        uow.db.add(row)
    row.max_participants_per_supervisor = max_participants_per_supervisor
    await uow.db.flush()
    uow.audit(
        "supervision_rule.set",
        "SupervisionRule",
        row.id,
        before=before,
        after={"maxParticipantsPerSupervisor": max_participants_per_supervisor},
    )
    return row


async def set_group_size_bands(
    uow: UnitOfWork, actor: Principal, payer_id: uuid.UUID, state: str, bands: list[BandSpec]
) -> list[models.GroupSizeBand]:
    """Replace the whole band table of one payer and state."""
    check(state_problem(state))
    specs = [(b.min_size, b.max_size, b.procedure_code, list(b.modifiers or []), b.rate) for b in bands]
    problems = band_table_problems(specs)
    if problems:
        raise BadInput("; ".join(problems))
    covering = await payer(uow.db, payer_id)
    await queries.lock_payer(uow.db, covering.id)
    old = await queries.band_table(uow.db, covering.id, state)
    await queries.delete_band_table(uow.db, covering.id, state)
    rows = [
        models.GroupSizeBand(
            payer_id=covering.id, state=state, min_size=lo, max_size=hi, procedure_code=code, modifiers=mods, rate=rate
        )
        for lo, hi, code, mods, rate in sorted(specs)
    ]
    uow.db.add_all(rows)
    await uow.db.flush()
    uow.audit(
        "group_size_bands.set",
        "Payer",
        covering.id,
        before={"state": state, "bands": [_band_json(b) for b in old]},
        after={"state": state, "bands": [_band_json(b) for b in rows]},
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


@dataclass(frozen=True)
class TelehealthMapping:
    """A payer's coding of one telehealth modality (rules.visits.TelehealthCoding)."""

    modality: Modality
    home_place_of_service: str
    other_place_of_service: str
    modifier: str | None = None


@dataclass(frozen=True)
class DocumentationRuleSpec:
    """A payer's documentation rule; only the fields given change."""

    signed_note: SignedNoteRule | None = None
    minimum_minutes: int | None = None
    late_entry_hours: int | None = None
    cosign_states: list[str] | None = None
    audio_only_away_from_home: bool | None = None
    telehealth: list[TelehealthMapping] | None = None


def documentation_rule_snapshot(row: models.PayerDocumentationRule | None) -> dict[str, Any]:
    if row is None:
        return {
            "exists": False,
            "signedNote": SignedNoteRule.WARNING,
            "minimumMinutes": None,
            "lateEntryHours": None,
            "audioOnlyAwayFromHome": False,
            "cosignStates": [],
            "telehealth": {},
        }
    return {
        "exists": True,
        "signedNote": row.signed_note,
        "minimumMinutes": row.minimum_minutes,
        "lateEntryHours": row.late_entry_hours,
        "audioOnlyAwayFromHome": bool(row.audio_only_away_from_home),
        "cosignStates": list(row.cosign_states or []),
        "telehealth": dict(row.telehealth or {}),
    }


async def set_documentation_rule(
    uow: UnitOfWork, actor: Principal, payer_id: uuid.UUID, spec: DocumentationRuleSpec, given: set[str]
) -> models.Payer:
    """Set what a payer requires of documentation (a signed note, a minimum visit, the states where a
    supervisor co-signs) and how it codes telehealth; a modality left out follows CMS."""
    if "minimum_minutes" in given:
        check(minimum_minutes_problem(spec.minimum_minutes))
    if "late_entry_hours" in given:
        check(late_entry_hours_problem("lateEntryHours", spec.late_entry_hours))
    if "audio_only_away_from_home" in given and spec.audio_only_away_from_home is None:
        raise BadInput("audioOnlyAwayFromHome must be true or false")
    if "signed_note" in given and spec.signed_note is None:
        raise BadInput("signedNote must be NONE, WARNING or BLOCKING")
    states = [s.strip().upper() for s in spec.cosign_states or []]
    for state in states:
        check(state_problem(state))
    mappings = spec.telehealth or []
    if len({m.modality for m in mappings}) != len(mappings):
        raise BadInput("telehealth lists a modality more than once")
    for m in mappings:
        check(
            telehealth_coding_problem(
                m.modality, TelehealthCoding(m.home_place_of_service, m.other_place_of_service, m.modifier)
            )
        )
    covering = await payer(uow.db, payer_id)
    before = documentation_rule_snapshot((await notes_queries.documentation_rule_rows(uow.db, [covering.id]))[0])
    row = await notes_queries.lock_documentation_rule(uow.db, covering.id, uow.clock.now())
    if "signed_note" in given:
        row.signed_note = spec.signed_note
    if "minimum_minutes" in given:
        row.minimum_minutes = spec.minimum_minutes
    if "late_entry_hours" in given:
        row.late_entry_hours = spec.late_entry_hours
    if "audio_only_away_from_home" in given:
        row.audio_only_away_from_home = spec.audio_only_away_from_home
    if "cosign_states" in given:
        row.cosign_states = sorted(set(states))
    if "telehealth" in given:
        row.telehealth = {
            m.modality.value: {
                "home": m.home_place_of_service,
                "other": m.other_place_of_service,
                "modifier": m.modifier,
            }
            for m in mappings
        }
    row.updated_at = uow.clock.now()
    await uow.db.flush()
    uow.audit(
        "documentation_rule.set",
        "PayerDocumentationRule",
        covering.id,
        before=before,
        after=documentation_rule_snapshot(row),
    )
    return covering
