"""Reference-data types: facilities, staff, patients, payers, coverage, payer rules."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.db import models
from app.ids import encode_id
from app.schema.enums import StaffAssignmentRole
from app.schema.node import Node

if TYPE_CHECKING:
    from app.schema.billing import Charge


@strawberry.type
class Facility(Node):
    id: strawberry.ID
    name: str
    state: str
    timezone: str
    npi: str | None
    tax_id: str | None
    address_line1: str | None
    city: str | None
    postal_code: str | None
    pk: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: models.Facility) -> "Facility":
        return cls(
            id=strawberry.ID(encode_id("Facility", row.id)),
            name=row.name,
            state=row.state,
            timezone=row.timezone,
            npi=row.npi,
            tax_id=row.tax_id,
            address_line1=row.address_line1,
            city=row.city,
            postal_code=row.postal_code,
            pk=row.id,
        )


async def load_facility(info: Info, pk: uuid.UUID) -> Facility:
    return Facility.from_row(await info.context.loaders.by_id(models.Facility).load(pk))


@strawberry.type
class Staff(Node):
    id: strawberry.ID
    name: str
    npi: str | None
    facility_pk: strawberry.Private[uuid.UUID]
    pk: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def facility(self, info: Info) -> Facility:
        return await load_facility(info, self.facility_pk)

    @classmethod
    def from_row(cls, row: models.Staff) -> "Staff":
        return cls(
            id=strawberry.ID(encode_id("Staff", row.id)),
            name=row.name,
            npi=row.npi,
            facility_pk=row.facility_id,
            pk=row.id,
        )


async def load_staff(info: Info, pk: uuid.UUID) -> Staff:
    return Staff.from_row(await info.context.loaders.by_id(models.Staff).load(pk))


@strawberry.type
class Payer(Node):
    id: strawberry.ID
    name: str
    payer_code: str
    pk: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: models.Payer) -> "Payer":
        return cls(id=strawberry.ID(encode_id("Payer", row.id)), name=row.name, payer_code=row.payer_code, pk=row.id)


async def load_payer(info: Info, pk: uuid.UUID) -> Payer:
    return Payer.from_row(await info.context.loaders.by_id(models.Payer).load(pk))


@strawberry.type
class Coverage:
    id: strawberry.ID
    member_id: str
    priority: int
    effective_from: date
    effective_to: date | None
    payer_pk: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def payer(self, info: Info) -> Payer:
        return await load_payer(info, self.payer_pk)

    @classmethod
    def from_row(cls, row: models.Coverage) -> "Coverage":
        return cls(
            id=strawberry.ID(encode_id("Coverage", row.id)),
            member_id=row.member_id,
            priority=row.priority,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            payer_pk=row.payer_id,
        )


@strawberry.type
class Patient(Node):
    id: strawberry.ID
    mrn: str
    name: str
    date_of_birth: date
    sex: str | None
    facility_pk: strawberry.Private[uuid.UUID]
    pk: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def facility(self, info: Info) -> Facility:
        return await load_facility(info, self.facility_pk)

    @strawberry.field
    async def coverages(self, info: Info) -> list[Coverage]:
        loader = info.context.loaders.children(
            models.Coverage.patient_id, models.Coverage.priority, models.Coverage.effective_from
        )
        return [Coverage.from_row(row) for row in await loader.load(self.pk)]

    @strawberry.field(description="The member's Encounters tab: every charge built for them.")
    async def charges(
        self, info: Info
    ) -> list[Annotated["Charge", strawberry.lazy("app.schema.billing")]]:
        from app.schema.billing import patient_charges

        return await patient_charges(info, self.pk)

    @classmethod
    def from_row(cls, row: models.Patient) -> "Patient":
        return cls(
            id=strawberry.ID(encode_id("Patient", row.id)),
            mrn=row.mrn,
            name=row.name,
            date_of_birth=row.date_of_birth,
            sex=row.sex,
            facility_pk=row.facility_id,
            pk=row.id,
        )


async def load_patient(info: Info, pk: uuid.UUID) -> Patient:
    return Patient.from_row(await info.context.loaders.by_id(models.Patient).load(pk))


@strawberry.type
class StaffAssignment:
    id: strawberry.ID
    role: StaffAssignmentRole
    staff_pk: strawberry.Private[uuid.UUID]
    patient_pk: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def staff(self, info: Info) -> Staff:
        return await load_staff(info, self.staff_pk)

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        return await load_patient(info, self.patient_pk)

    @classmethod
    def from_row(cls, row: models.StaffAssignment) -> "StaffAssignment":
        return cls(
            id=strawberry.ID(encode_id("StaffAssignment", row.id)),
            role=StaffAssignmentRole(row.role),
            staff_pk=row.staff_id,
            patient_pk=row.patient_id,
        )


@strawberry.type
class GroupSizeBand:
    min_size: int
    max_size: int
    procedure_code: str
    modifiers: list[str]
    rate: Decimal


@strawberry.type
class SupervisionRule:
    state: str
    max_participants_per_supervisor: int
    payer_pk: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def payer(self, info: Info) -> Payer:
        return await load_payer(info, self.payer_pk)


@strawberry.type
class Viewer:
    subject: str
    scopes: list[str]
    facility_pks: strawberry.Private[list[uuid.UUID] | None]

    @strawberry.field
    async def facilities(self, info: Info) -> list[Facility]:
        from app.resolvers.reference import viewer_facilities

        return [Facility.from_row(row) for row in await viewer_facilities(info.context)]
