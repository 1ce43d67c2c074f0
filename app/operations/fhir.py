"""FHIR R4 reads (issue 30): who may read which resource, within the token's facilities and, for a
SMART `patient/…` scope, its patient; one page of a search, or one resource, with the rows the
resources list inside them. Mapping rows to resources is the edge's (app.http.fhir)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.auth import Principal
from app.db.queries import fhir as queries
from app.errors import Forbidden, NotFound
from app.ids import payload_uuid
from app.operations.common import facilities_seen
from app.rules import fhir as rules

Search = Callable[[Any, queries.Criteria], Awaitable[tuple[list[Any], int]]]
Related = Callable[[Any, Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, list[Any]]]]

SEARCHES: Mapping[str, Search] = {
    "Patient": queries.patients,
    "Practitioner": queries.practitioners,
    "Group": queries.groups,
    "Appointment": queries.appointments,
    "Encounter": queries.encounters,
    "ChargeItem": queries.charge_items,
    "Claim": queries.claims,
}
# The rows each resource lists inside it, fetched once for a whole page.
RELATED: Mapping[str, Related] = {
    "Group": queries.group_members,
    "Appointment": queries.appointment_patients,
    "Claim": queries.claim_items,
}


@dataclass(frozen=True)
class Found:
    rows: list[Any]
    total: int
    related: dict[uuid.UUID, list[Any]] = field(default_factory=dict)
    # Patients inside a resource (a group's members, an appointment's roster) are listed only to a
    # token that may read Patient; a patient-bound one sees only its own patient there.
    patients_shown: bool = False
    only_patient: uuid.UUID | None = None


def access_of(actor: Principal) -> rules.Access:
    return rules.access(actor.scopes, actor.patient is not None)


def context_patient(actor: Principal) -> uuid.UUID | None:
    if actor.patient is None:
        return None
    try:
        return payload_uuid(actor.patient, "Patient")
    except ValueError:
        return None


def _bounded(
    actor: Principal, access: rules.Access, resource_type: str, criteria: queries.Criteria
) -> queries.Criteria:
    """The criteria within the token's facilities and, when only a patient scope grants the type, its patient."""
    criteria = replace(criteria, facility_ids=facilities_seen(actor))
    if not access.patient_bound(resource_type):
        return criteria
    patient = context_patient(actor)
    if patient is None:
        raise Forbidden("A patient/ scope needs the token's patient claim")
    if resource_type == "Patient":
        ids = [patient] if criteria.ids is None else [i for i in criteria.ids if i == patient]
        return replace(criteria, ids=ids)
    if criteria.patient_id is not None and criteria.patient_id != patient:
        return replace(criteria, ids=[])
    return replace(criteria, patient_id=patient)


async def search(db, actor: Principal, resource_type: str, criteria: queries.Criteria) -> Found:
    access = access_of(actor)
    if not access.may_read(resource_type):
        raise Forbidden(
            f"Reading {resource_type} needs scope {rules.RESOURCE_SCOPES[resource_type]} (or user/{resource_type}.read)"
        )
    criteria = _bounded(actor, access, resource_type, criteria)
    rows, total = await SEARCHES[resource_type](db, criteria)
    related = await RELATED[resource_type](db, [row.id for row in rows]) if resource_type in RELATED and rows else {}
    only = context_patient(actor) if access.patient_bound(resource_type) else None
    return Found(rows, total, related, access.may_read("Patient"), only)


async def read(
    db, actor: Principal, resource_type: str, resource_id: uuid.UUID | None, criteria: queries.Criteria
) -> Found:
    """One resource: NOT_FOUND when it does not exist (None: an id no record can have) or lies beyond
    the token's walls."""
    ids = [resource_id] if resource_id is not None else []
    found = await search(db, actor, resource_type, replace(criteria, ids=ids, offset=0, limit=1))
    if not found.rows:
        raise NotFound(f"No {resource_type} with id {resource_id}")
    return found
