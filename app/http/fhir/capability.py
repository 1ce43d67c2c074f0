"""The CapabilityStatement at /fhir/R4/metadata: exactly the resources, interactions and search
parameters app.rules.fhir declares and app.http.fhir.routes serves. Its security names no service: the
bearer tokens come from the operator's sign-in service, and the server publishes no SMART App Launch
configuration (/.well-known/smart-configuration) or OAuth endpoints a client could discover; `cors` says
whether the server answers cross-origin requests (GS_ALLOWED_ORIGINS)."""

from __future__ import annotations

from app.rules import fhir as rules

SMART_DOCS = "http://hl7.org/fhir/smart-app-launch/"


def capability_statement(base_url: str, date: str, *, cors: bool) -> dict:
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
                    "cors": cors,
                    "description": "Authorization: Bearer <JWT>, the GraphQL API's tokens, issued by the "
                    "operator's sign-in service (no OAuth or SMART launch endpoints are served here). Each resource "
                    "needs the scope that reads the same records there, or a SMART-style scope spelling: "
                    f"user/<Resource>.read (patient/<Resource>.read with a patient claim); see {SMART_DOCS}.",
                },
                "resource": resources,
            }
        ],
    }
