"""Rows as FHIR R4 resources (JSON). Ids are the rows' UUIDs, the same as the ids in event and
webhook payloads; references are relative (`Patient/<id>`) and each names a resource this API serves."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from app.operations.fhir import Found
from app.rules import fhir as rules
from app.rules.visits import Stay, effective_modality, minutes_present

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NPI = "http://hl7.org/fhir/sid/us-npi"
CPT = "http://www.ama-assn.org/go/cpt"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
RELATED_CLAIM = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
PLACE_OF_SERVICE = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
UCUM = "http://unitsofmeasure.org"


def _instant(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _meta(row: Any) -> dict:
    return {"lastUpdated": _instant(row.last_updated)}


def ref(resource_type: str, pk: uuid.UUID) -> dict:
    return {"reference": f"{resource_type}/{pk}"}


def _money(amount: Decimal) -> dict:
    return {"value": float(amount), "currency": "USD"}


def _mrn_system(facility_id: uuid.UUID) -> str:
    """Each facility assigns its own MRNs: its id names the namespace."""
    return f"urn:uuid:{facility_id}"


def patient(row: Any, found: Found) -> dict:
    """Minimum necessary: the MRN, name, birth date and gender that match a patient; no address,
    no coverage, no diagnoses."""
    resource = {
        "resourceType": "Patient",
        "id": str(row.id),
        "meta": _meta(row),
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}]},
                "system": _mrn_system(row.facility_id),
                "value": row.mrn,
            }
        ],
        "active": True,
        "name": [{"text": row.name}],
        "birthDate": row.date_of_birth.isoformat(),
    }
    if row.sex in rules.GENDER:
        resource["gender"] = rules.GENDER[row.sex]
    return resource


def practitioner(row: Any, found: Found) -> dict:
    resource = {
        "resourceType": "Practitioner",
        "id": str(row.id),
        "meta": _meta(row),
        "active": True,
        "name": [{"text": row.name}],
    }
    if row.npi:
        resource["identifier"] = [{"system": NPI, "value": row.npi}]
    return resource


def group(row: Any, found: Found) -> dict:
    """A group definition: its enrolled members (to a token that may read them) and how many there are."""
    resource = {
        "resourceType": "Group",
        "id": str(row.id),
        "meta": _meta(row),
        "active": row.deleted_at is None,
        "type": "person",
        "actual": True,
        "code": {"text": row.group_type},
        "name": row.name,
        "quantity": row.member_count,
        "managingEntity": ref("Practitioner", row.facilitator_id),
    }
    if found.patients_shown:
        members = [
            {"entity": ref("Patient", m.patient_id), "period": {"start": _instant(m.enrolled_at)}}
            if m.enrolled_at
            else {"entity": ref("Patient", m.patient_id)}
            for m in found.related.get(row.id, [])
        ]
        if members:
            resource["member"] = members
    return resource


def _patients_of(found: Found, rows: list[Any]) -> list[Any]:
    if not found.patients_shown:
        return []
    return [r for r in rows if found.only_patient is None or r.patient_id == found.only_patient]


def appointment(row: Any, found: Found, now: datetime) -> dict:
    """An occurrence of a group: its facilitators, and the members on its session's roster."""
    participants = [
        {
            "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF", "display": "primary performer"}]}],
            "actor": ref("Practitioner", row.facilitator_id),
            "required": "required",
            "status": "accepted",
        }
    ]
    if row.co_facilitator_id:
        participants.append(
            {"actor": ref("Practitioner", row.co_facilitator_id), "required": "optional", "status": "accepted"}
        )
    for member in _patients_of(found, found.related.get(row.id, [])):
        participants.append({"actor": ref("Patient", member.patient_id), "required": "required", "status": "accepted"})
    resource = {
        "resourceType": "Appointment",
        "id": str(row.id),
        "meta": _meta(row),
        "status": rules.appointment_status(row.cancelled_at is not None, row.ends_at <= now),
        "serviceType": [{"text": row.group_type}],
        "description": row.name,
        "start": _instant(row.starts_at),
        "end": _instant(row.ends_at),
        "minutesDuration": int((row.ends_at - row.starts_at).total_seconds() // 60),
        "supportingInformation": [ref("Group", row.group_id)],
        "participant": participants,
    }
    if row.cancelled_at is not None and row.cancellation_reason:
        resource["cancelationReason"] = {"text": row.cancellation_reason}
    return resource


def encounter(row: Any, found: Found) -> dict:
    """A member's attendance at a session: finished when attended (late included), cancelled when
    absent or the session was; the period is the member's stay and `length` the minutes present."""
    status = rules.encounter_status(row.status, row.cancelled_at is not None)
    code, display = rules.encounter_class(effective_modality(row.session_modality, row.modality))
    stay = Stay(row.arrived_at, row.departed_at)
    resource = {
        "resourceType": "Encounter",
        "id": str(row.id),
        "meta": _meta(row),
        "status": status,
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "type": [{"text": f"{row.group_type} group session"}],
        "subject": ref("Patient", row.patient_id),
    }
    if row.facilitator_id:
        resource["participant"] = [
            {
                "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF", "display": "primary performer"}]}],
                "individual": ref("Practitioner", row.facilitator_id),
            }
        ]
    if row.occurrence_id:
        resource["appointment"] = [ref("Appointment", row.occurrence_id)]
    if status == "finished":
        start = max(row.arrived_at or row.starts_at, row.starts_at)
        end = min(row.departed_at or row.ends_at, row.ends_at)
        resource["period"] = {"start": _instant(start), "end": _instant(end)}
        minutes = minutes_present(row.status, stay, row.starts_at, row.ends_at)
        resource["length"] = {"value": minutes, "unit": "min", "system": UCUM, "code": "min"}
    else:
        resource["period"] = {"start": _instant(row.starts_at), "end": _instant(row.ends_at)}
    return resource


def _procedure(row: Any) -> dict:
    coding = {"system": CPT, "code": row.procedure_code}
    concept: dict = {"coding": [coding]}
    if row.modifiers:
        concept["text"] = f"{row.procedure_code} {' '.join(row.modifiers)}"
    return concept


def charge_item(row: Any, found: Found) -> dict:
    resource = {
        "resourceType": "ChargeItem",
        "id": str(row.id),
        "meta": _meta(row),
        "status": rules.CHARGE_ITEM_STATUS.get(row.status, "unknown"),
        "code": _procedure(row),
        "subject": ref("Patient", row.patient_id),
        "occurrenceDateTime": row.service_date.isoformat(),
        "quantity": {"value": row.units},
        "priceOverride": _money(row.amount),
        "enteredDate": _instant(row.created_at),
    }
    if row.entry_id:
        resource["context"] = ref("Encounter", row.entry_id)
    return resource


def claim(row: Any, found: Found) -> dict:
    items = []
    for sequence, item in enumerate(found.related.get(row.id, []), start=1):
        line = {
            "sequence": sequence,
            "productOrService": _procedure(item),
            "servicedDate": item.service_date.isoformat(),
            "locationCodeableConcept": {"coding": [{"system": PLACE_OF_SERVICE, "code": item.place_of_service}]},
            "quantity": {"value": item.units},
            "net": _money(item.amount),
        }
        if item.modifiers:
            line["modifier"] = [{"text": m} for m in item.modifiers]
        if item.entry_id:
            line["encounter"] = [ref("Encounter", item.entry_id)]
        items.append(line)
    resource = {
        "resourceType": "Claim",
        "id": str(row.id),
        "meta": _meta(row),
        "identifier": [{"value": row.claim_number}],
        "status": rules.CLAIM_STATUS.get(row.status, "entered-in-error"),
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": ref("Patient", row.patient_id),
        "created": _instant(row.created_at),
        "insurer": {"display": row.payer_name, "identifier": {"value": row.payer_code}},
        "provider": ref("Practitioner", row.facilitator_id) if row.facilitator_id else {"display": "Billing provider"},
        "priority": {"coding": [{"system": PRIORITY, "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": f"{row.payer_name} coverage"}}],
        "total": _money(row.total_amount),
    }
    if row.original_claim_id:
        resource["related"] = [
            {
                "claim": ref("Claim", row.original_claim_id),
                "relationship": {"coding": [{"system": RELATED_CLAIM, "code": "prior"}]},
            }
        ]
    if items:
        resource["item"] = items
    return resource


def render(resource_type: str, row: Any, found: Found, now: datetime) -> dict:
    if resource_type == "Appointment":
        return appointment(row, found, now)
    return RENDERERS[resource_type](row, found)


RENDERERS: Mapping[str, Callable[[Any, Found], dict]] = {
    "Patient": patient,
    "Practitioner": practitioner,
    "Group": group,
    "Encounter": encounter,
    "ChargeItem": charge_item,
    "Claim": claim,
}
