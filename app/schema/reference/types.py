"""Reference-data types: each wraps its row; ids are global ids."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from app.auth import Principal
from app.db import models
from app.db.queries import reference as queries
from app.operations.common import facilities_seen
from app.rules import diagnoses as diagnosis_rules
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import DisplayNameFormat, StaffAssignmentRole
from app.schema.history.queries import From, GroupFilter, To, attendance_of
from app.schema.loaders import billing, notes, reference, remittance
from app.schema.node import Node, global_id, rows_of
from app.schema.permissions import scoped

ChargeType = Annotated["Charge", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
FacilityFeeType = Annotated["FacilityFee", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
DocumentationRuleType = Annotated["DocumentationRule", strawberry.lazy("app.schema.notes.types")]  # noqa: F821 - resolved lazily
AttendanceHistoryType = Annotated["AttendanceHistory", strawberry.lazy("app.schema.history.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class Facility(Node):
    id: strawberry.ID = global_id("Facility")
    name: str
    state: str
    timezone: str
    npi: str | None
    tax_id: str | None
    address_line1: str | None
    city: str | None
    postal_code: str | None
    taxonomy: str | None
    submitter_id: str | None
    display_name_format: DisplayNameFormat = strawberry.field(description="How its room displays show patients' names.")
    note_late_entry_hours: int = strawberry.field(
        description="Hours after a session within which its notes are signed on time, where the payer sets none."
    )

    @strawberry.field(
        **scoped(Scope.BILLING_READ), description="What every charge is billed at, by code and modifiers."
    )
    async def fee_schedule(facility: strawberry.Parent[models.Facility], info: Info) -> list[FacilityFeeType]:
        return await billing.fee_schedules(info).load(facility.id)

    is_type_of = rows_of(models.Facility)


@strawberry.type
class Staff(Node):
    id: strawberry.ID = global_id("Staff")
    name: str
    npi: str | None
    taxonomy: str | None

    @strawberry.field
    async def facility(staff: strawberry.Parent[models.Staff], info: Info) -> Facility:
        return await reference.facilities(info).load(staff.facility_id)

    is_type_of = rows_of(models.Staff)


@strawberry.type
class Payer(Node):
    id: strawberry.ID = global_id("Payer")
    name: str
    payer_code: str
    claim_filing_indicator: str
    receiver_id: str | None
    taxonomy_required: bool
    test_mode: bool
    timely_filing_days: int = strawberry.field(
        description="Days from the date of service the payer takes a claim in (claimsNearingFilingLimit counts them)."
    )

    @strawberry.field(description="What the payer requires of documentation, and how it codes telehealth.")
    async def documentation_rule(payer: strawberry.Parent[models.Payer], info: Info) -> DocumentationRuleType:
        return await notes.documentation_rules(info).load(payer.id)

    is_type_of = rows_of(models.Payer)


@strawberry.type
class Coverage:
    id: strawberry.ID = global_id("Coverage")
    member_id: str
    priority: int
    effective_from: date
    effective_to: date | None

    @strawberry.field
    async def payer(coverage: strawberry.Parent[models.Coverage], info: Info) -> Payer:
        return await reference.payers(info).load(coverage.payer_id)


@strawberry.type(description="One of a patient's ICD-10-CM diagnoses; position 1 is the principal diagnosis.")
class Diagnosis:
    id: strawberry.ID = global_id("Diagnosis")
    code: str
    description: str | None
    position: int
    effective_from: date
    effective_to: date | None


@strawberry.type
class Patient(Node):
    id: strawberry.ID = global_id("Patient")
    mrn: str
    name: str
    date_of_birth: date
    sex: str | None

    @strawberry.field
    async def facility(patient: strawberry.Parent[models.Patient], info: Info) -> Facility:
        return await reference.facilities(info).load(patient.facility_id)

    @strawberry.field
    async def coverages(patient: strawberry.Parent[models.Patient], info: Info) -> list[Coverage]:
        return await reference.coverages(info).load(patient.id)

    @strawberry.field(
        description="The patient's diagnoses in order; with activeOn, only those active that day (what a claim points at).",
        **scoped(Scope.SESSION_READ),
    )
    async def diagnoses(
        patient: strawberry.Parent[models.Patient], info: Info, active_on: date | None = None
    ) -> list[Diagnosis]:
        rows = await reference.diagnoses(info).load(patient.id)
        if active_on is None:
            return rows
        return [
            row
            for row in rows
            if diagnosis_rules.Diagnosis(row.code, row.effective_from, row.effective_to).is_active_on(active_on)
        ]

    @strawberry.field(
        description="The member's Encounters tab: every charge built for them.", **scoped(Scope.BILLING_READ)
    )
    async def charges(patient: strawberry.Parent[models.Patient], info: Info) -> list[ChargeType]:
        return await billing.charges_by_patient(info).load(patient.id)

    @strawberry.field(
        description="What the patient owes: the patient responsibility (CAS PR) the payers' 835s posted.",
        **scoped(Scope.BILLING_READ),
    )
    async def balance(patient: strawberry.Parent[models.Patient], info: Info) -> Decimal:
        return await remittance.patient_balances(info).load(patient.id)

    @strawberry.field(
        description="Every session the patient was on the roster of in the range, newest first, with tallies per group.",
        **scoped(Scope.SESSION_READ),
    )
    async def attendance(
        patient: strawberry.Parent[models.Patient],
        info: Info,
        from_: From = None,
        to: To = None,
        group_id: GroupFilter = None,
        first: int | None = None,
        after: str | None = None,
    ) -> AttendanceHistoryType:
        return await attendance_of(info, patient, from_, to, group_id, first, after)

    is_type_of = rows_of(models.Patient)


@strawberry.type
class StaffAssignment:
    id: strawberry.ID = global_id("StaffAssignment")
    role: StaffAssignmentRole

    @strawberry.field
    async def staff(assignment: strawberry.Parent[models.StaffAssignment], info: Info) -> Staff:
        return await reference.staff(info).load(assignment.staff_id)

    @strawberry.field
    async def patient(assignment: strawberry.Parent[models.StaffAssignment], info: Info) -> Patient:
        return await reference.patients(info).load(assignment.patient_id)


@strawberry.type
class GroupSizeBand:
    """A band row of a payer's table, or the band a preview resolved (app.rules.billing.Band)."""

    min_size: int
    max_size: int
    procedure_code: str
    modifiers: list[str]
    rate: Decimal


@strawberry.type
class SupervisionRule:
    state: str
    max_participants_per_supervisor: int

    @strawberry.field
    async def payer(rule: strawberry.Parent[models.SupervisionRule], info: Info) -> Payer:
        return await reference.payers(info).load(rule.payer_id)


@strawberry.type
class Viewer:
    """The caller (a Principal): who they are, what they may do, where."""

    subject: str

    @strawberry.field
    def scopes(viewer: strawberry.Parent[Principal]) -> list[str]:
        return sorted(viewer.scopes)

    @strawberry.field
    async def facilities(viewer: strawberry.Parent[Principal], info: Info) -> list[Facility]:
        among = facilities_seen(viewer)
        async with info.context.db() as db:
            rows = await queries.facilities(db, among)
        if among is not None:
            order = {f: i for i, f in enumerate(viewer.facilities)}
            rows = sorted(rows, key=lambda r: order.get(str(r.id), len(order)))
        return rows
