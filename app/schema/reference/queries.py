"""Reference-data reads: the viewer, patient search, and the node fetchers of this area."""
from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from app.db import models
from app.db.queries import reference as queries
from app.errors import NotFound
from app.operations.common import facilities_seen, require_scope, visible_or_not_found
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.pagination import page_args
from app.schema.permissions import scoped
from app.schema.reference.types import Facility, Patient, Payer, Staff, Viewer


async def facility_node(info: Info, pk: uuid.UUID) -> Facility:
    return visible_or_not_found(info.context.principal, await info.context.loaders.by_id(models.Facility).load(pk), "Facility")


async def staff_node(info: Info, pk: uuid.UUID) -> Staff:
    return visible_or_not_found(info.context.principal, await info.context.loaders.by_id(models.Staff).load(pk), "Staff")


async def patient_node(info: Info, pk: uuid.UUID) -> Patient:
    require_scope(info.context.principal, Scope.ENROLLMENTS_VIEW)  # as `patients`: a node id is no way around it
    return visible_or_not_found(info.context.principal, await info.context.loaders.by_id(models.Patient).load(pk), "Patient")


async def payer_node(info: Info, pk: uuid.UUID) -> Payer:
    row = await info.context.loaders.by_id(models.Payer).load(pk)
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
