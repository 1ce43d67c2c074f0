"""Reference-data operations (scope admin.reference.write to change)."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from app.db import models
from app.errors import Forbidden
from app.resolvers import reference as ops
from app.resolvers.common import visible_or_not_found
from app.schema.connection import Connection
from app.schema.enums import StaffAssignmentRole
from app.schema.node import Node, node_fetcher, resolve_node
from app.schema.pagination import page_args
from app.schema.permissions import scoped
from app.schema.reference import (
    Coverage,
    Facility,
    GroupSizeBand,
    Patient,
    Payer,
    Staff,
    StaffAssignment,
    SupervisionRule,
    Viewer,
)

ADMIN = scoped("admin.reference.write")
PATIENT_SCOPE = "pm.group_enrollments.view"


@strawberry.input
class FacilityInput:
    name: str
    state: str
    timezone: str
    npi: str | None = None
    tax_id: str | None = None
    address_line1: str | None = None
    city: str | None = None
    postal_code: str | None = None


@strawberry.input
class StaffInput:
    name: str
    facility_id: strawberry.ID
    npi: str | None = None


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


@strawberry.input
class PayerInput:
    name: str
    payer_code: str


@strawberry.input
class CoverageInput:
    patient_id: strawberry.ID
    payer_id: strawberry.ID
    member_id: str
    priority: int
    effective_from: date
    effective_to: date | None = None


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


def _band(row: models.GroupSizeBand) -> GroupSizeBand:
    return GroupSizeBand(
        min_size=row.min_size,
        max_size=row.max_size,
        procedure_code=row.procedure_code,
        modifiers=list(row.modifiers or []),
        rate=row.rate,
    )


@node_fetcher("Facility")
async def _facility_node(info: Info, pk: uuid.UUID) -> Facility:
    row = await info.context.loaders.by_id(models.Facility).load(pk)
    return Facility.from_row(visible_or_not_found(info.context, row, "Facility"))


@node_fetcher("Staff")
async def _staff_node(info: Info, pk: uuid.UUID) -> Staff:
    row = await info.context.loaders.by_id(models.Staff).load(pk)
    return Staff.from_row(visible_or_not_found(info.context, row, "Staff"))


@node_fetcher("Patient")
async def _patient_node(info: Info, pk: uuid.UUID) -> Patient:
    if not info.context.principal.has_scope(PATIENT_SCOPE):
        raise Forbidden(f"Missing scope {PATIENT_SCOPE}")  # as `patients`: a node id is no way around it
    row = await info.context.loaders.by_id(models.Patient).load(pk)
    return Patient.from_row(visible_or_not_found(info.context, row, "Patient"))


@node_fetcher("Payer")
async def _payer_node(info: Info, pk: uuid.UUID) -> Payer:
    row = await info.context.loaders.by_id(models.Payer).load(pk)
    if row is None:
        from app.errors import NotFound

        raise NotFound("No Payer with that id")
    return Payer.from_row(row)


@strawberry.type
class ReferenceQuery:
    @strawberry.field(description="Any record by its global id, within the caller's facilities.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(subject=principal.subject, scopes=sorted(principal.scopes), facility_pks=None)

    @strawberry.field(**scoped(PATIENT_SCOPE))
    async def patients(
        self, info: Info, search: str | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Patient]:
        page = page_args(first, after)
        rows, total = await ops.search_patients(info.context, search, page)
        return Connection.from_page([Patient.from_row(r) for r in rows], page, total)


@strawberry.type
class ReferenceMutation:
    @strawberry.mutation(**ADMIN)
    async def create_facility(self, info: Info, input: FacilityInput) -> Facility:
        return Facility.from_row(await ops.create_facility(info.context, input))

    @strawberry.mutation(**ADMIN)
    async def create_staff(self, info: Info, input: StaffInput) -> Staff:
        return Staff.from_row(await ops.create_staff(info.context, input))

    @strawberry.mutation(**ADMIN)
    async def create_patient(self, info: Info, input: PatientInput) -> Patient:
        return Patient.from_row(await ops.create_patient(info.context, input))

    @strawberry.mutation(**ADMIN)
    async def create_payer(self, info: Info, input: PayerInput) -> Payer:
        return Payer.from_row(await ops.create_payer(info.context, input))

    @strawberry.mutation(**ADMIN)
    async def add_coverage(self, info: Info, input: CoverageInput) -> Coverage:
        return Coverage.from_row(await ops.add_coverage(info.context, input))

    @strawberry.mutation(**ADMIN)
    async def assign_staff(self, info: Info, input: StaffAssignmentInput) -> StaffAssignment:
        return StaffAssignment.from_row(await ops.assign_staff(info.context, input))

    @strawberry.mutation(**ADMIN)
    async def set_supervision_rule(self, info: Info, input: SupervisionRuleInput) -> SupervisionRule:
        row = await ops.set_supervision_rule(info.context, input)
        return SupervisionRule(
            state=row.state,
            max_participants_per_supervisor=row.max_participants_per_supervisor,
            payer_pk=row.payer_id,
        )

    @strawberry.mutation(**ADMIN)
    async def set_group_size_bands(self, info: Info, input: GroupSizeBandsInput) -> list[GroupSizeBand]:
        return [_band(r) for r in await ops.set_group_size_bands(info.context, input)]
