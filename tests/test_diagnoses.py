"""Diagnoses on claims through the endpoint: a patient's ordered ICD-10-CM diagnoses, the preview's
BLOCKING MISSING_DIAGNOSIS, and the 837P's HI segment and SV107 pointers (pyx12 clean)."""

from __future__ import annotations

from app.auth import ALL_SCOPES
from app.operations.billing_pipeline import bill_due_sessions
from app.rules.edi837 import edi_problems, parse_segments
from tests.conftest import make_token
from tests.support.builders_notes import no_note_rule
from tests.support.builders_sessions import SET_ATTENDANCE, at, create_session, set_now
from tests.support.x12 import pyx12_errors

SET = """mutation($p: ID!, $d: [DiagnosisInput!]!) {
  setPatientDiagnoses(patientId: $p, diagnoses: $d) { code description position effectiveFrom effectiveTo } }"""
READ = """query($id: ID!, $on: Date) { node(id: $id) { ... on Patient {
  diagnoses(activeOn: $on) { code position effectiveFrom effectiveTo } } } }"""
PREVIEW = """query($id: ID!) { groupSession(id: $id) { status billingPreview { readyToBill
  issues { code severity participantIds } } claims { id patient { id } validation { code severity } } } }"""
# Thirteen billable (leaf) ICD-10-CM codes: one more than the 837P's HI holds.
THIRTEEN_BILLABLE = "F33.1 F41.1 F43.10 F43.21 F32.9 F10.20 F11.20 F12.20 F31.9 F40.10 F42.2 F50.00 F60.3".split()
SUBMIT = "mutation($id: ID!) { submitClaim(claimId: $id) { status edi837 } }"


async def test_diagnoses_are_kept_in_order_normalized_and_read_by_clinical_scopes(gql, clinic):
    await clinic.facility()
    patient = await clinic.add_patient(diagnoses=())
    written = (
        await gql.execute(
            SET,
            {
                "p": patient,
                "d": [
                    {
                        "code": "f1020",
                        "effectiveFrom": "2025-06-01",
                        "description": "Alcohol dependence, uncomplicated",
                    },
                    {"code": "F33.1", "effectiveFrom": "2024-01-01", "effectiveTo": "2026-02-28"},
                    {"code": "Z63.0", "effectiveFrom": "2026-03-01"},
                ],
            },
        )
    )["setPatientDiagnoses"]
    assert [(d["code"], d["position"]) for d in written] == [("F10.20", 1), ("F33.1", 2), ("Z63.0", 3)]
    assert written[0]["description"] == "Alcohol dependence, uncomplicated"
    active = (await gql.execute(READ, {"id": patient, "on": "2026-03-10"}))["node"]["diagnoses"]
    assert [d["code"] for d in active] == ["F10.20", "Z63.0"]
    every = (await gql.execute(READ, {"id": patient}))["node"]["diagnoses"]
    assert len(every) == 3
    facilitator = gql.as_(scopes=["pm.group_enrollments.view", "clinical.group-session.read"])
    assert len((await facilitator.execute(READ, {"id": patient}))["node"]["diagnoses"]) == 3
    clerk = gql.as_(scopes=["pm.group_enrollments.view"])
    _, code, _ = await clerk.error(READ, {"id": patient})
    assert code == "FORBIDDEN"
    cleared = (await gql.execute(SET, {"p": patient, "d": []}))["setPatientDiagnoses"]
    assert cleared == [] and (await gql.execute(READ, {"id": patient}))["node"]["diagnoses"] == []


async def test_a_bad_diagnosis_list_is_refused_whole_and_writes_nothing(gql, clinic):
    await clinic.facility()
    patient = await clinic.add_patient(diagnoses=("F41.1",))
    cases = [
        (
            [{"code": "F33.1", "effectiveFrom": "2025-01-01"}, {"code": "depression", "effectiveFrom": "2025-01-01"}],
            "diagnosis 2: 'depression' is not an ICD-10-CM code",
        ),
        (
            [{"code": "F33.1", "effectiveFrom": "2025-01-01", "effectiveTo": "2024-01-01"}],
            "effectiveTo must not be before",
        ),
        (
            [{"code": "F33.1", "effectiveFrom": "2025-01-01"}, {"code": "f331", "effectiveFrom": "2025-06-01"}],
            "F33.1 is listed twice",
        ),
        ([{"code": code, "effectiveFrom": "2025-01-01"} for code in THIRTEEN_BILLABLE], "at most 12 diagnoses"),
        ([{"code": "F33.1", "effectiveFrom": "2025-01-01", "description": " "}], "description"),
    ]
    for diagnoses, message in cases:
        _, code, body = await gql.error(SET, {"p": patient, "d": diagnoses})
        assert code == "BAD_USER_INPUT" and message in body["errors"][0]["message"], body
    assert [d["code"] for d in (await gql.execute(READ, {"id": patient}))["node"]["diagnoses"]] == ["F41.1"]


async def test_another_facilitys_patient_is_not_found(gql, clinic):
    await clinic.facility()
    patient = await clinic.add_patient()
    elsewhere = gql.as_(facilities=[await clinic.facility("Elsewhere")])
    _, code, _ = await elsewhere.error(SET, {"p": patient, "d": []})
    assert code == "NOT_FOUND"


async def ended_session(gql, clinic, test_clock, patients):
    """The patients, all ATTENDED, in a session that has just ended; their payer asks for no signed
    note (documentation has tests of its own)."""
    await no_note_rule(gql, clinic)
    set_now(test_clock, at(9, 20))
    session = await create_session(gql, clinic, patients=patients, starts_at=at(9))
    for entry in session["roster"]:
        await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})
    set_now(test_clock, at(10, 31))
    return session


async def test_a_billable_member_without_an_active_diagnosis_blocks_billing_until_one_is_added(
    gql, clinic, test_clock, services
):
    await clinic.bands([(1, 4, "90853", "40.00")])
    diagnosed = await clinic.add_patient()
    undiagnosed = await clinic.add_patient(diagnoses=())
    lapsed = await clinic.add_patient(diagnoses=())
    await clinic.diagnose(lapsed, "F33.1", effective_from="2020-01-01", effective_to="2026-03-09")
    for patient in (diagnosed, undiagnosed, lapsed):
        await clinic.cover(patient)
    session = await ended_session(gql, clinic, test_clock, [diagnosed, undiagnosed, lapsed])
    entries = {e["patient"]["id"]: e["id"] for e in session["roster"]}
    data = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]
    [issue] = data["billingPreview"]["issues"]
    assert (issue["code"], issue["severity"]) == ("MISSING_DIAGNOSIS", "BLOCKING")
    assert sorted(issue["participantIds"]) == sorted([entries[undiagnosed], entries[lapsed]])
    assert await bill_due_sessions(services) == 0
    assert (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["status"] == "AWAITING_FINALIZATION"
    await clinic.diagnose(undiagnosed, "F41.1")
    await clinic.diagnose(lapsed, "F33.1", effective_from="2020-01-01", effective_to="2026-03-09")
    await clinic.diagnose(lapsed, "F33.2", effective_from="2026-03-10")
    assert await bill_due_sessions(services) == 1
    data = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]
    assert data["status"] == "LOCKED" and len(data["claims"]) == 3
    assert all(c["validation"] == [] for c in data["claims"])


async def test_the_837p_points_at_the_patients_active_diagnoses_in_order_and_pyx12_is_clean(
    gql, clinic, test_clock, services
):
    await clinic.bands([(1, 4, "90853", "40.00")])
    patient = await clinic.add_patient(diagnoses=())
    await gql.execute(
        SET,
        {
            "p": patient,
            "d": [
                {"code": "F10.20", "effectiveFrom": "2024-01-01"},
                {
                    "code": "F32.9",
                    "effectiveFrom": "2024-01-01",
                    "effectiveTo": "2025-12-31",
                },  # ended: not on the claim
                {"code": "F33.1", "effectiveFrom": "2024-01-01"},
                {"code": "F41.1", "effectiveFrom": "2024-01-01"},
                {"code": "Z63.0", "effectiveFrom": "2024-01-01"},
                {"code": "T74.11XA", "effectiveFrom": "2026-01-01"},
            ],
        },
    )
    companion = await clinic.add_patient()  # a group code needs two patients
    for covered in (patient, companion):
        await clinic.cover(covered)
    session = await ended_session(gql, clinic, test_clock, [patient, companion])
    assert await bill_due_sessions(services) == 1
    claims = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["claims"]
    claim = next(c for c in claims if c["patient"]["id"] == patient)
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    segments = parse_segments(edi)
    assert [s for s in segments if s[0] == "HI"] == [
        ["HI", "ABK:F1020", "ABF:F331", "ABF:F411", "ABF:Z630", "ABF:T7411XA"]
    ]
    assert next(s for s in segments if s[0] == "SV1")[7] == "1:2:3:4"
    assert "F329" not in edi  # the diagnosis that ended before the service date


async def test_a_claim_billed_at_the_deadline_without_a_diagnosis_carries_the_issue_and_is_not_submitted(
    gql, clinic, test_clock, services
):
    await clinic.bands([(1, 4, "90853", "40.00")])
    patient = await clinic.add_patient(diagnoses=())
    companion = await clinic.add_patient()  # a group code needs two patients
    for covered in (patient, companion):
        await clinic.cover(covered)
    session = await ended_session(gql, clinic, test_clock, [patient, companion])
    assert await bill_due_sessions(services) == 0
    set_now(test_clock, at(10, 30, day=11))
    assert await bill_due_sessions(services) == 1
    claims = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["claims"]
    claim = next(c for c in claims if c["patient"]["id"] == patient)
    assert claim["validation"] == [{"code": "MISSING_DIAGNOSIS", "severity": "BLOCKING"}]
    status, code, body = await gql.error(SUBMIT, {"id": claim["id"]})
    assert (status, code) == (409, "ILLEGAL_TRANSITION") and "no active diagnosis" in body["errors"][0]["message"]


async def test_setting_diagnoses_needs_the_reference_scope(gql, clinic):
    await clinic.facility()
    patient = await clinic.add_patient()
    lacking = gql.__class__(gql.http, make_token(scopes=[s for s in ALL_SCOPES if s != "admin.reference.write"]))
    _, code, _ = await lacking.error(SET, {"p": patient, "d": []})
    assert code == "FORBIDDEN"
