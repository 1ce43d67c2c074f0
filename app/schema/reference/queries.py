"""Reference-data reads: the viewer, patient search, and the node fetchers of this area."""

from __future__ import annotations

import uuid

import strawberry

from app.db.queries import reference as queries
from app.errors import NotFound
from app.ids import decode_id
from app.operations.common import facilities_seen, require_scope, visible_or_not_found
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.enums import StaffAssignmentRole
from app.schema.loaders import reference
from app.schema.pagination import page_args
from app.schema.permissions import scoped
from app.schema.reference.types import Facility, Patient, Payer, Staff, StaffAssignment, Viewer


async def facility_node(info: Info, pk: uuid.UUID) -> Facility:
    return visible_or_not_found(info.context.principal, await reference.facilities(info).load(pk), "Facility")


async def staff_node(info: Info, pk: uuid.UUID) -> Staff:
    return visible_or_not_found(info.context.principal, await reference.staff(info).load(pk), "Staff")


async def patient_node(info: Info, pk: uuid.UUID) -> Patient:
    require_scope(info.context.principal, Scope.ENROLLMENTS_VIEW)  # as `patients`: a node id is no way around it
    return visible_or_not_found(info.context.principal, await reference.patients(info).load(pk), "Patient")


async def payer_node(info: Info, pk: uuid.UUID) -> Payer:
    row = await reference.payers(info).load(pk)
    if row is None:
        raise NotFound("No Payer with that id")
    return row


@strawberry.type
class ReferenceQuery:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        return info.context.principal

    @strawberry.field(**scoped(Scope.ENROLLMENTS_VIEW))
    async def patients(
        self, info: Info, search: str | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Patient]:
        window = page_args(first, after)
        async with info.context.db() as db:
            rows, total = await queries.patients_page(db, facilities_seen(info.context.principal), search, window)
        return Connection.from_page(rows, window, total)

    @strawberry.field(
        description="Staff of the caller's facilities (or of one), by name; `search` matches part of a name (the facilitator picker).",
        **scoped(Scope.GROUP_DEFINITIONS_VIEW),
    )
    async def staff(
        self,
        info: Info,
        facility_id: strawberry.ID | None = None,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Staff]:
        window = page_args(first, after)
        among = _facilities(info, facility_id)
        async with info.context.db() as db:
            rows, total = await queries.staff_page(db, among, search, window)
        return Connection.from_page(rows, window, total)

    @strawberry.field(
        description="Who supervises or renders for whom, oldest first; filter by facility, staff member, patient or role.",
        **scoped(Scope.ENROLLMENTS_VIEW),
    )
    async def staff_assignments(
        self,
        info: Info,
        facility_id: strawberry.ID | None = None,
        staff_id: strawberry.ID | None = None,
        patient_id: strawberry.ID | None = None,
        role: StaffAssignmentRole | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[StaffAssignment]:
        window = page_args(first, after)
        among = _facilities(info, facility_id)
        async with info.context.db() as db:
            rows, total = await queries.staff_assignments_page(
                db,
                among,
                staff_id=decode_id(staff_id, "Staff") if staff_id else None,
                patient_id=decode_id(patient_id, "Patient") if patient_id else None,
                role=role,
                window=window,
            )
        return Connection.from_page(rows, window, total)


def _facilities(info: Info, facility_id: strawberry.ID | None) -> list[uuid.UUID] | None:
    """One facility the caller sees (another is NOT_FOUND), or every facility the caller sees."""
    if facility_id is None:
        return facilities_seen(info.context.principal)
    pk = decode_id(facility_id, "Facility")
    if not info.context.principal.sees_facility(pk):
        raise NotFound("No Facility with that id")
    return [pk]
