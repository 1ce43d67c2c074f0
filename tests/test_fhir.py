"""The FHIR R4 read API (issue 30) against the demo clinic: every resource it produces validates
(fhir.resources, and the second check of tests/support/fhir.py) and every reference resolves;
searches, paging links, the CapabilityStatement, scopes (ours and SMART's), facility walls, and
OperationOutcome errors with their HTTP statuses."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.demo import load_demo
from app.ids import split_id
from app.main import create_app
from app.rules import fhir as rules
from tests.conftest import make_token, started
from tests.support.fhir import relative_references, validate

BASE = "/fhir/R4"
TYPES = list(rules.RESOURCE_SCOPES)


@pytest.fixture
async def demo(services):
    assert "Loaded" in await load_demo(services)


async def get(http, path: str, token: str | None = None, **headers) -> tuple[int, dict, dict]:
    all_headers = {"Authorization": f"Bearer {token or make_token()}", **headers}
    if token == "":
        del all_headers["Authorization"]
    response = await http.get(path if path.startswith("http") else f"{BASE}{path}", headers=all_headers)
    return response.status_code, response.json(), dict(response.headers)


async def every_page(http, first: str, token: str | None = None) -> list[dict]:
    """Every entry of a search, following the Bundle's next links."""
    entries, url, pages = [], first, 0
    while url:
        status, bundle, headers = await get(http, url, token)
        assert status == 200, bundle
        assert headers["content-type"] == "application/fhir+json; charset=utf-8"
        validate(bundle)
        assert bundle["type"] == "searchset"
        entries += bundle.get("entry", [])
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        pages += 1
        assert pages < 200
    return entries


async def test_every_resource_the_demo_produces_validates_and_its_references_resolve(http, demo):
    seen: dict[str, int] = {}
    references: set[str] = set()
    for resource_type in TYPES:
        entries = await every_page(http, f"/{resource_type}?_count=100")
        seen[resource_type] = len(entries)
        for entry in entries:
            resource = entry["resource"]
            validate(resource)
            assert entry["fullUrl"].endswith(f"{BASE}/{resource_type}/{resource['id']}")
            references |= relative_references(resource)
    assert all(count > 0 for count in seen.values()), seen
    for reference in sorted(references):
        status, resource, _ = await get(http, f"/{reference}")
        assert status == 200, (reference, resource)
        validate(resource)
        assert f"{resource['resourceType']}/{resource['id']}" == reference


async def test_the_capability_statement_lists_exactly_what_is_served(http, demo):
    status, statement, _ = await get(http, "/metadata", token="")
    assert status == 200
    validate(statement)
    assert statement["fhirVersion"] == "4.0.1" and statement["format"] == ["json"]
    [rest] = statement["rest"]
    # No SMART App Launch is offered (no /.well-known/smart-configuration); the tests' app allows every origin.
    assert "service" not in rest["security"] and rest["security"]["cors"] is True
    status, _, _ = await get(http, "/.well-known/smart-configuration", token="")
    assert status == 404
    served = {r["type"]: r for r in rest["resource"]}
    assert sorted(served) == sorted(TYPES)
    for resource_type, declared in served.items():
        assert [i["code"] for i in declared["interaction"]] == ["read", "search-type"]
        names = [p["name"] for p in declared["searchParam"]]
        assert names == [p.name for p in rules.SEARCH_PARAMETERS[resource_type]]
    # Everything it lists answers; what it does not list does not.
    for resource_type, declared in served.items():
        for parameter in declared["searchParam"]:
            value = {"date": "ge2000-01-01", "token": "x", "reference": "Patient/00000000-0000-0000-0000-000000000000"}[
                parameter["type"]
            ]
            if parameter["name"] == "practitioner":
                value = "Practitioner/00000000-0000-0000-0000-000000000000"
            status, body, _ = await get(
                http, f"/{resource_type}?{parameter['name']}={value}", **{"Prefer": "handling=strict"}
            )
            assert status == 200, (resource_type, parameter, body)
    status, body, _ = await get(http, "/Observation")
    assert status == 404 and body["resourceType"] == "OperationOutcome"
    status, body, _ = await get(http, "/Encounter?subject=Patient/x", **{"Prefer": "handling=strict"})
    assert status == 400 and body["issue"][0]["code"] == "not-supported"


async def test_the_capability_statements_cors_flag_follows_the_allowed_origins(settings):
    """A server allowing no other origin (GS_ALLOWED_ORIGINS empty, the default outside dev) says cors false,
    and a browser's request from elsewhere gets no Access-Control-Allow-Origin."""
    application = create_app(dataclasses.replace(settings, allowed_origins=()), background=False)
    async with started(application):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test")
        try:
            response = await client.get(f"{BASE}/metadata", headers={"Origin": "https://ehr.example.org"})
        finally:
            await client.aclose()
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    [rest] = response.json()["rest"]
    assert rest["security"]["cors"] is False
    validate(response.json())


async def test_paging_follows_next_links_without_gaps_or_repeats(http, demo):
    everything = await every_page(http, "/Encounter?_count=100")
    paged = await every_page(http, "/Encounter?_count=7")
    assert [e["resource"]["id"] for e in paged] == [e["resource"]["id"] for e in everything]
    status, bundle, _ = await get(http, "/Encounter?_count=7&status=finished")
    next_link = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    query = parse_qs(urlsplit(next_link).query)
    assert query["status"] == ["finished"] and query["_count"] == ["7"] and query["_offset"] == ["7"]
    assert bundle["total"] > 7


async def test_searches_by_patient_date_status_and_last_updated(http, demo, services):
    encounters = [e["resource"] for e in await every_page(http, "/Encounter?_count=100")]
    patient = encounters[0]["subject"]["reference"]
    mine = [e["resource"] for e in await every_page(http, f"/Encounter?patient={patient}")]
    assert mine and all(e["subject"]["reference"] == patient for e in mine)
    assert len(mine) == sum(1 for e in encounters if e["subject"]["reference"] == patient)
    bare = [e["resource"]["id"] for e in await every_page(http, f"/Encounter?patient={patient.split('/')[1]}")]
    assert bare == [e["id"] for e in mine]

    for status in rules.ENCOUNTER_STATUSES:
        found = [e["resource"] for e in await every_page(http, f"/Encounter?status={status}&_count=100")]
        assert len(found) == sum(1 for e in encounters if e["status"] == status)
        assert all(e["status"] == status for e in found)

    day = min(e["period"]["start"][:10] for e in encounters)
    on_day = [e["resource"] for e in await every_page(http, f"/Encounter?date={day}&_count=100")]
    assert on_day and len(on_day) < len(encounters)
    later = await every_page(http, f"/Encounter?date=gt{day}&_count=100")
    assert len(on_day) + len(later) + len(await every_page(http, f"/Encounter?date=lt{day}&_count=100")) == len(
        encounters
    )

    assert await every_page(http, "/Patient?_lastUpdated=gt2999-01-01") == []
    recent = await every_page(http, f"/Patient?_lastUpdated=ge{services.clock.now().date().isoformat()}")
    assert recent and len(recent) == len(await every_page(http, "/Patient?_count=100"))

    appointments = [e["resource"] for e in await every_page(http, "/Appointment?_count=100")]
    for status in rules.APPOINTMENT_STATUSES:
        found = [e["resource"] for e in await every_page(http, f"/Appointment?status={status}&_count=100")]
        assert [a["id"] for a in found] == [a["id"] for a in appointments if a["status"] == status]
    assert {a["status"] for a in appointments} >= {"booked", "fulfilled"}
    claims = [e["resource"] for e in await every_page(http, f"/Claim?patient={patient}")]
    assert all(c["patient"]["reference"] == patient for c in claims)


async def test_an_encounter_carries_class_period_and_minutes_present(http, demo):
    encounters = [e["resource"] for e in await every_page(http, "/Encounter?_count=100")]
    finished = [e for e in encounters if e["status"] == "finished"]
    assert finished and all(e["length"]["unit"] == "min" and e["length"]["value"] >= 0 for e in finished)
    assert {e["class"]["code"] for e in encounters} <= {"AMB", "VR"}
    virtual = [e["resource"] for e in await every_page(http, "/Encounter?class=VR&_count=100")]
    assert all(e["class"]["code"] == "VR" for e in virtual)
    assert len(virtual) == sum(1 for e in encounters if e["class"]["code"] == "VR")


async def test_each_resource_needs_its_scope_or_a_smart_spelling(http, demo):
    for resource_type, scope in rules.RESOURCE_SCOPES.items():
        status, body, _ = await get(
            http, f"/{resource_type}", make_token(scopes=[s for s in rules.RESOURCE_SCOPES.values() if s != scope])
        )
        assert status == 403 and body["issue"][0]["code"] == "forbidden", resource_type
        for scopes in ([scope], [f"user/{resource_type}.read"], ["user/*.read"], ["user/*.rs"], ["system/*.read"]):
            status, body, _ = await get(http, f"/{resource_type}", make_token(scopes=scopes))
            assert status == 200, (resource_type, scopes, body)
    status, _, _ = await get(http, "/Patient", make_token(scopes=["user/Patient.write"]))
    assert status == 403


async def test_a_patient_scope_reads_only_its_patients_records(http, demo):
    encounters = [e["resource"] for e in await every_page(http, "/Encounter?_count=100")]
    patient_id = encounters[0]["subject"]["reference"].split("/")[1]
    token = make_token(scopes=["patient/*.read"], subject="patient-app")
    status, body, _ = await get(http, "/Patient", token)
    assert status == 403  # no patient claim: the scope has no patient to be about
    from app.auth import mint_token
    from tests.conftest import SECRET

    token = mint_token(SECRET, "patient-app", ["patient/*.read"], ["*"])
    import jwt

    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    token = jwt.encode({**claims, "patient": patient_id}, SECRET, algorithm="HS256")
    patients = await every_page(http, "/Patient", token)
    assert [p["resource"]["id"] for p in patients] == [patient_id]
    theirs = await every_page(http, "/Encounter?_count=100", token)
    assert theirs and all(e["resource"]["subject"]["reference"] == f"Patient/{patient_id}" for e in theirs)
    for entry in await every_page(http, "/Appointment?_count=100", token):
        patients_listed = {
            p["actor"]["reference"] for p in entry["resource"]["participant"] if "Patient/" in p["actor"]["reference"]
        }
        assert patients_listed == {f"Patient/{patient_id}"}
    other = next(e["subject"]["reference"] for e in encounters if e["subject"]["reference"] != f"Patient/{patient_id}")
    status, _, _ = await get(http, f"/{other}", token)
    assert status == 404
    assert await every_page(http, f"/Encounter?patient={other}", token) == []
    status, _, _ = await get(http, "/Group", token)
    assert status == 403  # a group lists other members


async def test_another_facilitys_records_are_not_found(http, demo, gql, clinic):
    away = make_token(facilities=[split_id(clinic.facility_id)[1]])
    encounters = [e["resource"] for e in await every_page(http, "/Encounter?_count=5")]
    status, body, _ = await get(http, f"/Encounter/{encounters[0]['id']}", away)
    assert status == 404 and body["issue"][0]["code"] == "not-found"
    for resource_type in TYPES:
        status, bundle, _ = await get(http, f"/{resource_type}", away)
        own = 2 if resource_type == "Practitioner" else 0  # the other facility's own two staff
        assert status == 200 and bundle["total"] == own, resource_type


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("GET", "/Patient", {"Authorization": ""}, 401, "login"),
        ("GET", "/Patient", {"Authorization": "Bearer not-a-token"}, 401, "login"),
        ("GET", "/Patient?_count=0", {}, 400, "invalid"),
        ("GET", "/Patient?_count=101", {}, 400, "invalid"),
        ("GET", "/Encounter?date=yesterday", {}, 400, "invalid"),
        ("GET", "/Encounter?date=ne2026-01-01", {}, 400, "invalid"),
        ("GET", "/Encounter?patient=Practitioner/1", {}, 400, "invalid"),
        ("GET", "/Patient/not-a-uuid", {}, 404, "not-found"),
        ("GET", "/Patient/00000000-0000-0000-0000-000000000000", {}, 404, "not-found"),
        ("GET", "/Patient", {"Accept": "application/fhir+xml"}, 406, "not-supported"),
        ("POST", "/Patient", {}, 405, "not-supported"),
        ("PUT", "/Patient/00000000-0000-0000-0000-000000000000", {}, 405, "not-supported"),
        ("DELETE", "/Patient/00000000-0000-0000-0000-000000000000", {}, 405, "not-supported"),
    ],
)
async def test_errors_are_operation_outcomes_with_their_status(http, method, path, headers, status, code):
    all_headers = {"Authorization": f"Bearer {make_token()}", **headers}
    all_headers = {k: v for k, v in all_headers.items() if v}
    response = await http.request(method, f"{BASE}{path}", headers=all_headers)
    body = response.json()
    assert response.status_code == status, body
    assert response.headers["content-type"].startswith("application/fhir+json")
    validate(body)
    assert body["issue"][0]["code"] == code
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_patients_inside_a_resource_are_listed_only_to_a_token_that_may_read_them(http, demo):
    groups = [e["resource"] for e in await every_page(http, "/Group?_count=100")]
    assert any(g.get("member") for g in groups)
    no_patients = make_token(scopes=["pm.group_definitions.view", "pm.group_schedule.view"])
    for entry in await every_page(http, "/Group?_count=100", no_patients):
        assert "member" not in entry["resource"] and entry["resource"]["quantity"] >= 0
    for entry in await every_page(http, "/Appointment?_count=100", no_patients):
        assert not [p for p in entry["resource"]["participant"] if p["actor"]["reference"].startswith("Patient/")]
