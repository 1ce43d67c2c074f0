"""The CapabilityStatement at /fhir/R4/metadata: exactly the resources, interactions and search
parameters app.rules.fhir declares and app.http.fhir.routes serves."""

from __future__ import annotations

from app.rules import fhir as rules

SMART_DOCS = "http://hl7.org/fhir/smart-app-launch/"


def capability_statement(base_url: str, date: str) -> dict:
    resources = [
        {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "conditionalCreate": False,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": p.name, "type": p.type.value, "documentation": p.documentation}
                for p in rules.SEARCH_PARAMETERS[resource_type]
            ],
        }
        for resource_type in rules.RESOURCE_SCOPES
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Group Sessions API",
        "kind": "instance",
        "software": {"name": "Group Sessions API"},
        "implementation": {
            "description": "Group therapy: groups, sessions, attendance, charges and claims",
            "url": base_url,
        },
        "fhirVersion": rules.FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only. Searches page with _count (1 to 100, default 50) and Bundle next links.",
                "security": {
                    "cors": True,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "Authorization: Bearer <JWT>, the GraphQL API's tokens. Each resource needs the "
                    "scope that reads the same records there, or SMART's user/<Resource>.read (patient/<Resource>.read "
                    f"with a patient claim); see {SMART_DOCS}.",
                },
                "resource": resources,
            }
        ],
    }
