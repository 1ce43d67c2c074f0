"""Reference data: facilities, staff, patients, payers, coverage, assignments, payer rules."""

from __future__ import annotations

import pytest

from app.auth import ALL_SCOPES


async def test_create_facility_validates_state_timezone_and_npi(gql):
    doc = "mutation($input: FacilityInput!) { createFacility(input: $input) { id } }"
    base = {"name": "Clinic", "state": "AZ", "timezone": "America/Phoenix"}
    for bad, fragment in [
        ({"state": "ZZ"}, "state"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"npi": "1234567890"}, "npi"),
        ({"name": ""}, "name"),
    ]:
        _, code, body = await gql.error(doc, {"input": {**base, **bad}})
        assert code == "BAD_USER_INPUT" and fragment in body["errors"][0]["message"]
    assert (await gql.execute(doc, {"input": base}))["createFacility"]["id"]


async def test_patient_mrn_is_unique_per_facility(gql, clinic):
    doc = "mutation($input: PatientInput!) { createPatient(input: $input) { id mrn facility { id } } }"
    patient = {"mrn": "A-1", "name": "Pat One", "dateOfBirth": "1990-01-02", "facilityId": clinic.facility_id}
    await gql.execute(doc, {"input": patient})
    status, code, _ = await gql.error(doc, {"input": patient})
    assert (status, code) == (409, "CONFLICT")
    other = await clinic.facility(name="Second Site")
    assert (await gql.execute(doc, {"input": {**patient, "facilityId": other}}))["createPatient"]["mrn"] == "A-1"


async def test_patient_date_of_birth_must_be_plausible(gql, clinic):
    doc = "mutation($input: PatientInput!) { createPatient(input: $input) { id } }"
    _, code, _ = await gql.error(
        doc, {"input": {"mrn": "X", "name": "Future", "dateOfBirth": "2999-01-01", "facilityId": clinic.facility_id}}
    )
    assert code == "BAD_USER_INPUT"


async def test_patient_search_paginates_within_the_callers_facilities(gql, clinic):
    for name in ["Avery Stone", "Blake Stone", "Casey Rivers"]:
        await clinic.add_patient(name)
    other = await clinic.facility(name="Other")
    await clinic.add_patient("Drew Stone", facility_id=other)
    local = gql.as_(facilities=[clinic.facility_id])
    data = await local.execute('{ patients(search: "stone") { totalCount edges { node { name } } } }')
    assert data["patients"]["totalCount"] == 2
    assert [e["node"]["name"] for e in data["patients"]["edges"]] == ["Avery Stone", "Blake Stone"]
    page = await local.execute("{ patients(first: 2) { pageInfo { hasNextPage } edges { node { name } } } }")
    assert page["patients"]["pageInfo"]["hasNextPage"] is True


async def test_coverage_and_node_lookup(gql, clinic):
    patient = await clinic.add_patient("Emery Lane")
    await clinic.cover(patient)
    data = await gql.execute(
        """query($id: ID!) { node(id: $id) { ... on Patient { name coverages { priority memberId payer { payerCode } } } } }""",
        {"id": patient},
    )
    assert data["node"]["coverages"][0]["priority"] == 1


async def test_coverage_rejects_inverted_dates_and_bad_priority(gql, clinic):
    patient = await clinic.add_patient()
    doc = "mutation($input: CoverageInput!) { addCoverage(input: $input) { id } }"
    base = {
        "patientId": patient,
        "payerId": clinic.payer_id,
        "memberId": "M1",
        "priority": 1,
        "effectiveFrom": "2026-01-01",
    }
    for bad in [{"priority": 0}, {"effectiveTo": "2025-12-31"}, {"memberId": " "}]:
        _, code, _ = await gql.error(doc, {"input": {**base, **bad}})
        assert code == "BAD_USER_INPUT"


async def test_payer_code_is_unique(gql, clinic):
    doc = 'mutation { createPayer(input: {name: "Dup", payerCode: "DUP1"}) { id } }'
    await gql.execute(doc)
    status, code, _ = await gql.error(doc)
    assert (status, code) == (409, "CONFLICT")


async def test_set_group_size_bands_replaces_the_table(gql, clinic):
    await clinic.bands([(1, 4, "90853", "30.00"), (5, 8, "90853", "25.00")])
    await clinic.bands([(2, 6, "90853", "28.50")])
    data = await gql.execute(
        """mutation($input: GroupSizeBandsInput!) { setGroupSizeBands(input: $input) { minSize maxSize rate modifiers } }""",
        {
            "input": {
                "payerId": clinic.payer_id,
                "state": "AZ",
                "bands": [
                    {"minSize": 10, "maxSize": 12, "procedureCode": "90853", "rate": "20.00"},
                    {"minSize": 3, "maxSize": 8, "procedureCode": "90853", "rate": "26.00", "modifiers": ["HQ"]},
                ],
            }
        },
    )
    assert data["setGroupSizeBands"] == [
        {"minSize": 3, "maxSize": 8, "rate": "26.00", "modifiers": ["HQ"]},
        {"minSize": 10, "maxSize": 12, "rate": "20.00", "modifiers": []},
    ]


@pytest.mark.parametrize(
    "bands, fragment",
    [
        ([(1, 5), (5, 8)], "overlap"),
        ([(6, 3)], "below minSize"),
        ([(0, 3)], "at least 1"),
    ],
)
async def test_set_group_size_bands_rejects_overlapping_or_inverted_bands(gql, clinic, bands, fragment):
    _, code, body = await gql.error(
        """mutation($input: GroupSizeBandsInput!) { setGroupSizeBands(input: $input) { minSize } }""",
        {
            "input": {
                "payerId": clinic.payer_id,
                "state": "AZ",
                "bands": [
                    {"minSize": lo, "maxSize": hi, "procedureCode": "90853", "rate": "10.00"} for lo, hi in bands
                ],
            }
        },
    )
    assert code == "BAD_USER_INPUT" and fragment in body["errors"][0]["message"]


async def test_negative_rate_is_rejected(gql, clinic):
    _, code, _ = await gql.error(
        """mutation($input: GroupSizeBandsInput!) { setGroupSizeBands(input: $input) { minSize } }""",
        {
            "input": {
                "payerId": clinic.payer_id,
                "state": "AZ",
                "bands": [{"minSize": 1, "maxSize": 3, "procedureCode": "90853", "rate": "-1.00"}],
            }
        },
    )
    assert code == "BAD_USER_INPUT"


async def test_supervision_rule_is_upserted(gql, clinic):
    await clinic.supervision_rule(8)
    await clinic.supervision_rule(6)
    _, code, _ = await gql.error(
        """mutation($input: SupervisionRuleInput!) { setSupervisionRule(input: $input) { state } }""",
        {"input": {"payerId": clinic.payer_id, "state": "AZ", "maxParticipantsPerSupervisor": 0}},
    )
    assert code == "BAD_USER_INPUT"


async def test_staff_assignment_needs_same_facility(gql, clinic):
    other = await clinic.facility(name="Other")
    patient = await clinic.add_patient(facility_id=other)
    _, code, _ = await gql.error(
        """mutation($input: StaffAssignmentInput!) { assignStaff(input: $input) { id } }""",
        {"input": {"staffId": clinic.staff[0], "patientId": patient, "role": "SUPERVISING"}},
    )
    assert code == "BAD_USER_INPUT"


async def test_reference_writes_need_the_admin_scope(gql, clinic):
    without = gql.as_(scopes=[s for s in ALL_SCOPES if s != "admin.reference.write"])
    _, code, body = await without.error('mutation { createPayer(input: {name: "X", payerCode: "X1"}) { id } }')
    assert code == "FORBIDDEN" and body["data"] is None


async def test_another_facility_cannot_add_staff_or_read_patients(gql, clinic):
    patient = await clinic.add_patient()
    other = await clinic.facility(name="Other")
    outsider = gql.as_(facilities=[other])
    _, code, _ = await outsider.error("query($id: ID!) { node(id: $id) { id } }", {"id": patient})
    assert code == "NOT_FOUND"
    _, code, _ = await outsider.error(
        "mutation($input: StaffInput!) { createStaff(input: $input) { id } }",
        {"input": {"name": "Sneaky", "facilityId": clinic.facility_id}},
    )
    assert code == "NOT_FOUND"


async def test_malformed_id_is_bad_user_input(gql):
    _, code, _ = await gql.error('{ node(id: "%%%not-an-id") { id } }')
    assert code == "BAD_USER_INPUT"


async def test_reference_writes_are_audited(gql, clinic, services):
    from sqlalchemy import select

    from app.db.models import AuditEntry

    await clinic.add_patient("Quinn Audit")
    async with services.sessionmaker() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    actions = [e.action for e in entries]
    assert actions[:4] == ["facility.create", "payer.create", "staff.create", "staff.create"]
    assert actions[-2:] == ["patient.create", "patient.diagnoses.set"]  # the builder gives a patient a diagnosis
    assert all(e.actor == "tester" for e in entries)
    assert "Quinn" not in str([e.after for e in entries])


async def test_concurrent_duplicate_patients_answer_conflict_not_internal(gql, clinic):
    import asyncio

    doc = "mutation($input: PatientInput!) { createPatient(input: $input) { id } }"
    patient = {"mrn": "RACE-1", "name": "Pat Race", "dateOfBirth": "1990-01-02", "facilityId": clinic.facility_id}
    responses = await asyncio.gather(*(gql.post(doc, {"input": patient}) for _ in range(8)))
    codes = sorted(
        (r.json().get("errors") or [{"extensions": {"code": "OK"}}])[0]["extensions"]["code"] for r in responses
    )
    assert codes == ["CONFLICT"] * 7 + ["OK"]
    assert {r.status_code for r in responses} == {200, 409}


async def test_patient_search_treats_percent_and_underscore_literally(gql, clinic):
    await clinic.add_patient("Ann_Lee")
    await clinic.add_patient("Annie Lee")
    data = await gql.execute('{ patients(search: "n_L") { edges { node { name } } } }')
    assert [e["node"]["name"] for e in data["patients"]["edges"]] == ["Ann_Lee"]
    assert (await gql.execute('{ patients(search: "%") { totalCount } }'))["patients"]["totalCount"] == 0
