"""Reference-data changes (scope admin.reference.write)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from app.ids import decode_id
from app.operations import reference as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import StaffAssignmentRole
from app.schema.inputs import given, plain
from app.schema.permissions import scoped
from app.schema.reference.types import (
    Coverage,
    Diagnosis,
    Facility,
    GroupSizeBand,
    Patient,
    Payer,
    Staff,
    StaffAssignment,
    SupervisionRule,
)

ADMIN = scoped(Scope.REFERENCE_WRITE)


@strawberry.input
class FacilityInput:
    name: str
    state: str
    timezone: str
    npi: str | None = None
    tax_id: str | None = None
    address_line1: str | None = None
    city: str | None = None
    postal_code: str | None = strawberry.field(
        default=None, description="ZIP+4 (85016-4312): the claims' billing provider address needs all nine digits."
    )
    taxonomy: str | None = strawberry.field(default=None, description="Provider taxonomy code, sent as PRV*BI.")
    submitter_id: str | None = strawberry.field(
        default=None, description="The submitter id the clearinghouse assigned (ISA06, GS02, 1000A NM109)."
    )

    note_late_entry_hours: int | None = strawberry.field(
        default=None,
        description="Hours after a session within which its notes are signed on time (default 72); a payer's "
        "documentation rule may set its own.",
    )


@strawberry.input(description="The facility's billing identity; a field left out stays as it is.")
class FacilityBillingInput:
    npi: str | None = None
    tax_id: str | None = None
    address_line1: str | None = None
    city: str | None = None
    postal_code: str | None = strawberry.field(default=None, description="ZIP+4 (85016-4312).")
    taxonomy: str | None = None
    submitter_id: str | None = None


@strawberry.input
class StaffInput:
    name: str
    facility_id: strawberry.ID
    npi: str | None = None
    taxonomy: str | None = strawberry.field(default=None, description="Provider taxonomy code, sent as PRV*PE.")


@strawberry.input
class PatientInput:
    mrn: str
    name: str
    date_of_birth: date
    facility_id: strawberry.ID
    sex: str | None = None
    address_line1: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


@strawberry.input(
    description="Corrections to a patient's record: only the fields given change; null clears an optional one "
    "(sex, addressLine1, city, state, postalCode). Checked as createPatient checks them."
)
class PatientUpdateInput:
    mrn: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    date_of_birth: date | None = strawberry.UNSET
    sex: str | None = strawberry.UNSET
    address_line1: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    state: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET


@strawberry.input
class PayerInput:
    name: str
    payer_code: str
    claim_filing_indicator: str | None = strawberry.field(
        default=None, description="SBR09: MC Medicaid, MB Medicare Part B, CI commercial (the default), BL, HM, ..."
    )
    receiver_id: str | None = strawberry.field(
        default=None, description="The receiver id the clearinghouse assigned (ISA08, GS03, 1000B NM109)."
    )
    taxonomy_required: bool | None = strawberry.field(
        default=None, description="The payer wants taxonomy codes (PRV*BI, PRV*PE)."
    )
    test_mode: bool | None = strawberry.field(default=None, description="Claims go out as test interchanges (ISA15 T).")
    timely_filing_days: int | None = strawberry.field(
        default=None, description="The payer's timely-filing limit, 1 to 3650 days from the date of service (365)."
    )


@strawberry.input(description="A payer's claim settings; a setting left out stays as it is.")
class PayerClaimSettingsInput:
    claim_filing_indicator: str | None = None
    receiver_id: str | None = None
    taxonomy_required: bool | None = None
    test_mode: bool | None = None
    timely_filing_days: int | None = strawberry.field(
        default=None, description="The payer's timely-filing limit, 1 to 3650 days from the date of service."
    )


@strawberry.input
class CoverageInput:
    patient_id: strawberry.ID
    payer_id: strawberry.ID
    member_id: str
    priority: int
    effective_from: date
    effective_to: date | None = None


@strawberry.input(description="One ICD-10-CM diagnosis, in the list's order (the first is the principal).")
class DiagnosisInput:
    code: str
    effective_from: date
    effective_to: date | None = None
    description: str | None = None


@strawberry.input
class StaffAssignmentInput:
    staff_id: strawberry.ID
    patient_id: strawberry.ID
    role: StaffAssignmentRole


@strawberry.input
class SupervisionRuleInput:
    payer_id: strawberry.ID
    state: str
    max_participants_per_supervisor: int


@strawberry.input
class GroupSizeBandInput:
    min_size: int
    max_size: int
    procedure_code: str
    rate: Decimal
    modifiers: list[str] | None = strawberry.field(default_factory=list)


@strawberry.input(description="Replaces the whole band table for one payer and state.")
class GroupSizeBandsInput:
    payer_id: strawberry.ID
    state: str
    bands: list[GroupSizeBandInput]


@strawberry.type
class ReferenceMutation:
    @strawberry.mutation(**ADMIN)
    async def create_facility(self, info: Info, input: FacilityInput) -> Facility:
        return await ops.create_facility(
            await info.context.transaction(), info.context.principal, plain(input, ops.NewFacility)
        )

    @strawberry.mutation(**ADMIN)
    async def create_staff(self, info: Info, input: StaffInput) -> Staff:
        data = plain(input, ops.NewStaff, facility_id="Facility")
        return await ops.create_staff(await info.context.transaction(), info.context.principal, data)

    @strawberry.mutation(**ADMIN, description="Change a clinician's NPI or taxonomy code (2310B, PRV*PE).")
    async def update_staff_billing(
        self, info: Info, staff_id: strawberry.ID, npi: str | None = None, taxonomy: str | None = None
    ) -> Staff:
        return await ops.update_staff_billing(
            await info.context.transaction(), info.context.principal, decode_id(staff_id, "Staff"), npi, taxonomy
        )

    @strawberry.mutation(**ADMIN)
    async def create_patient(self, info: Info, input: PatientInput) -> Patient:
        data = plain(input, ops.NewPatient, facility_id="Facility")
        return await ops.create_patient(await info.context.transaction(), info.context.principal, data)

    @strawberry.mutation(
        **ADMIN,
        description="Correct a patient's record (such as the address a claim held by MISSING_SUBSCRIBER_ADDRESS "
        "needs); a held draft claim goes once its finding no longer stands (submitClaim, the daily batch).",
    )
    async def update_patient(self, info: Info, id: strawberry.ID, input: PatientUpdateInput) -> Patient:
        return await ops.update_patient(
            await info.context.transaction(), info.context.principal, decode_id(id, "Patient"), given(input)
        )

    @strawberry.mutation(**ADMIN)
    async def create_payer(self, info: Info, input: PayerInput) -> Payer:
        return await ops.create_payer(
            await info.context.transaction(),
            info.context.principal,
            input.name,
            input.payer_code,
            plain(input, ops.NewPayer),
        )

    @strawberry.mutation(
        **ADMIN,
        description="Change a payer's claim settings (SBR09, receiver id, taxonomy, ISA15, timely-filing limit).",
    )
    async def update_payer_claim_settings(
        self, info: Info, payer_id: strawberry.ID, input: PayerClaimSettingsInput
    ) -> Payer:
        settings = ops.NewPayer("", "", **vars(input))
        return await ops.update_payer_claim_settings(
            await info.context.transaction(), info.context.principal, decode_id(payer_id, "Payer"), settings
        )

    @strawberry.mutation(**ADMIN, description="Change a facility's billing identity (NPI, tax id, ZIP+4 address, ids).")
    async def update_facility_billing(
        self, info: Info, facility_id: strawberry.ID, input: FacilityBillingInput
    ) -> Facility:
        return await ops.update_facility_billing(
            await info.context.transaction(),
            info.context.principal,
            decode_id(facility_id, "Facility"),
            plain(input, ops.FacilityBilling),
        )

    @strawberry.mutation(**ADMIN)
    async def add_coverage(self, info: Info, input: CoverageInput) -> Coverage:
        data = plain(input, ops.NewCoverage, patient_id="Patient", payer_id="Payer")
        return await ops.add_coverage(await info.context.transaction(), info.context.principal, data)

    @strawberry.mutation(
        **ADMIN, description="Replace the patient's ordered diagnoses (ICD-10-CM); an empty list clears them."
    )
    async def set_patient_diagnoses(
        self, info: Info, patient_id: strawberry.ID, diagnoses: list[DiagnosisInput]
    ) -> list[Diagnosis]:
        return await ops.set_patient_diagnoses(
            await info.context.transaction(),
            info.context.principal,
            decode_id(patient_id, "Patient"),
            [plain(d, ops.NewDiagnosis) for d in diagnoses],
        )

    @strawberry.mutation(**ADMIN)
    async def assign_staff(self, info: Info, input: StaffAssignmentInput) -> StaffAssignment:
        return await ops.assign_staff(
            await info.context.transaction(),
            info.context.principal,
            decode_id(input.staff_id, "Staff"),
            decode_id(input.patient_id, "Patient"),
            input.role,
        )

    @strawberry.mutation(
        **ADMIN, description="Take a staff member off a patient (a wrong supervisor on the Supervisors card)."
    )
    async def remove_staff_assignment(self, info: Info, id: strawberry.ID) -> StaffAssignment:
        return await ops.remove_staff_assignment(
            await info.context.transaction(), info.context.principal, decode_id(id, "StaffAssignment")
        )

    @strawberry.mutation(**ADMIN)
    async def set_supervision_rule(self, info: Info, input: SupervisionRuleInput) -> SupervisionRule:
        return await ops.set_supervision_rule(
            await info.context.transaction(),
            info.context.principal,
            decode_id(input.payer_id, "Payer"),
            input.state,
            input.max_participants_per_supervisor,
        )

    @strawberry.mutation(**ADMIN)
    async def set_group_size_bands(self, info: Info, input: GroupSizeBandsInput) -> list[GroupSizeBand]:
        bands = [plain(band, ops.BandSpec) for band in input.bands]
        return await ops.set_group_size_bands(
            await info.context.transaction(),
            info.context.principal,
            decode_id(input.payer_id, "Payer"),
            input.state,
            bands,
        )
