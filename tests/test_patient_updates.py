"""updatePatient: a billing office corrects a patient's record (the address a claim's subscriber needs, a
misspelt name) after createPatient. Only the fields given change, null clears an optional one, each is
checked as createPatient checks it, the facility wall and scope are createPatient's, the change is audited
without the patient's details, and a claim held by MISSING_SUBSCRIBER_ADDRESS goes once the address is there."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select, update

from app.db import models
from app.ids import decode_id, encode_id
from app.rules.edi837 import parse_segments
from tests.conftest import make_token
from tests.support.builders_notes import no_note_rule
from tests.support.builders_sessions import at, create_session, set_now
from tests.test_claim_content import RUN, billed_claims, clean, mark, segment, send_claim

UPDATE = """mutation($id: ID!, $input: PatientUpdateInput!) {
  updatePatient(id: $id, input: $input) { id mrn name dateOfBirth sex } }"""
CREATE = "mutation($input: PatientInput!) { createPatient(input: $input) { id } }"
ADDRESS = {"addressLine1": "2200 E Camelback Rd", "city": "Phoenix", "state": "AZ", "postalCode": "85016"}
FIELDS = ("mrn", "name", "date_of_birth", "sex", "address_line1", "city", "state", "postal_code")


async def stored(services, patient_id: str) -> dict:
    """The patient's row as kept (the API does not show the address)."""
    async with services.sessionmaker() as session:
        row = await session.get(models.Patient, decode_id(patient_id, "Patient"))
        return {name: getattr(row, name) for name in FIELDS} | {"date_of_birth": row.date_of_birth.isoformat()}


async def audit_entries(services, action: str) -> list[models.AuditEntry]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(
            select(models.AuditEntry).where(models.AuditEntry.action == action).order_by(models.AuditEntry.id)
        )
        return list(rows)


async def patient_without_address(gql, clinic, mrn: str = "NOADDR-1") -> str:
    created = await gql.execute(
        CREATE,
        {"input": {"mrn": mrn, "name": "Ana Quiroga", "dateOfBirth": "1971-04-02", "facilityId": clinic.facility_id}},
    )
    return created["createPatient"]["id"]


# ------------------------------------------------------------------ partial updates and clearing


async def test_only_the_fields_given_change(gql, clinic, services):
    patient = await clinic.add_patient("Dana Misspelt")
    before = await stored(services, patient)
    data = await gql.execute(UPDATE, {"id": patient, "input": {"name": "  Dana Corrected ", "city": "Tempe"}})
    assert data["updatePatient"]["name"] == "Dana Corrected"
    assert data["updatePatient"]["mrn"] == before["mrn"] and data["updatePatient"]["sex"] == "F"
    after = await stored(services, patient)
    assert after == before | {"name": "Dana Corrected", "city": "Tempe"}


async def test_an_explicit_null_clears_an_optional_field_and_a_required_one_cannot_be_cleared(gql, clinic, services):
    patient = await clinic.add_patient("Rosa Clears")
    before = await stored(services, patient)
    data = await gql.execute(UPDATE, {"id": patient, "input": {"sex": None, "postalCode": None}})
    assert data["updatePatient"]["sex"] is None
    assert await stored(services, patient) == before | {"sex": None, "postal_code": None}
    for field in ("name", "mrn", "dateOfBirth"):
        _, code, body = await gql.error(UPDATE, {"id": patient, "input": {field: None}})
        assert code == "BAD_USER_INPUT" and body["errors"][0]["message"] == f"{field} cannot be cleared"
    assert await stored(services, patient) == before | {"sex": None, "postal_code": None}


async def test_an_input_with_no_field_is_refused(gql, clinic):
    patient = await clinic.add_patient()
    _, code, body = await gql.error(UPDATE, {"id": patient, "input": {}})
    assert code == "BAD_USER_INPUT" and "at least one field" in body["errors"][0]["message"]


# ------------------------------------------------------------------ createPatient's checks, nothing half-written


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Ana\u202eagiuQ"),  # a direction override shows the name backwards on a claim
        ("name", "\u200b\u200b"),
        ("name", "   "),
        ("mrn", "MRN*7"),  # an X12 delimiter
        ("addressLine1", "1 Main St\x07"),
        ("city", "Mesa\x1b"),
        ("postalCode", "85~201"),
        ("postalCode", "8501"),  # the subscriber's N403 takes five digits or nine
        ("postalCode", "85016-43"),
        ("addressLine1", "   "),  # blank reads as an address to billing
        ("city", ""),
        ("state", "ZZ"),
        ("sex", "X"),
        ("dateOfBirth", "2150-01-01"),  # a Date, but after today
        ("dateOfBirth", "1899-12-31"),  # before any Date (refused by the scalar)
    ],
    ids=[
        "name-bidi",
        "name-zero-width",
        "name-blank",
        "mrn-delimiter",
        "address-control",
        "city-control",
        "zip-delimiter",
        "zip-short",
        "zip-partial",
        "address-blank",
        "city-empty",
        "state",
        "sex",
        "dob-future",
        "dob-old",
    ],
)
async def test_a_bad_value_is_bad_user_input_naming_the_field_and_writes_nothing(gql, clinic, services, field, value):
    patient = await clinic.add_patient("Kept As Is")
    before = await stored(services, patient)
    audited = len(await audit_entries(services, "patient.update"))
    # a good change beside the bad one is not kept either
    _, code, body = await gql.error(UPDATE, {"id": patient, "input": {"city": "Tempe", field: value}})
    assert code == "BAD_USER_INPUT"
    assert field in body["errors"][0]["message"]
    assert body.get("data") is None
    assert await stored(services, patient) == before
    assert len(await audit_entries(services, "patient.update")) == audited


async def test_createpatient_refuses_what_updatepatient_refuses(gql, clinic):
    """One set of checks: the same bad name is refused by both, with the same message."""
    patient = await clinic.add_patient()
    _, code, updated = await gql.error(UPDATE, {"id": patient, "input": {"name": "Ana\u202eagiuQ"}})
    _, create_code, created = await gql.error(
        CREATE,
        {
            "input": {
                "mrn": "X-1",
                "name": "Ana\u202eagiuQ",
                "dateOfBirth": "1980-01-01",
                "facilityId": clinic.facility_id,
            }
        },
    )
    assert code == create_code == "BAD_USER_INPUT"
    assert updated["errors"][0]["message"] == created["errors"][0]["message"]


async def test_an_mrn_another_patient_holds_is_a_conflict_and_its_own_is_fine(gql, clinic, services):
    first, second = await clinic.add_patient(), await clinic.add_patient()
    taken = (await stored(services, first))["mrn"]
    _, code, body = await gql.error(UPDATE, {"id": second, "input": {"mrn": taken}})
    assert code == "CONFLICT" and "MRN" in body["errors"][0]["message"]
    own = (await stored(services, second))["mrn"]
    assert (await gql.execute(UPDATE, {"id": second, "input": {"mrn": f" {own} "}}))["updatePatient"]["mrn"] == own


async def test_two_corrections_at_once_both_hold(gql, clinic, services):
    """The row is locked for a change: two callers changing different fields at once keep both."""
    patient = await clinic.add_patient()
    results = await asyncio.gather(
        gql.post(UPDATE, {"id": patient, "input": {"city": "Tempe"}}),
        gql.post(UPDATE, {"id": patient, "input": {"name": "Both Kept"}}),
    )
    assert [r.json().get("errors") for r in results] == [None, None]
    after = await stored(services, patient)
    assert (after["city"], after["name"]) == ("Tempe", "Both Kept")


async def test_an_mrn_taken_while_the_update_runs_is_a_conflict_not_a_fault(gql, clinic, services):
    """Another writer gives a second patient the MRN after this update looked and before it wrote: the
    unique index makes it wait, and when that writer commits the update is CONFLICT, with nothing kept."""
    one, other = await clinic.add_patient(), await clinic.add_patient()
    before = await stored(services, one)
    async with services.sessionmaker() as session:
        async with session.begin():
            await session.execute(
                update(models.Patient).where(models.Patient.id == decode_id(other, "Patient")).values(mrn="SHARED-1")
            )
            racing = asyncio.create_task(gql.post(UPDATE, {"id": one, "input": {"mrn": "SHARED-1"}}))
            await asyncio.sleep(1)
            assert not racing.done(), "the update waits on the uncommitted MRN"
    body = (await racing).json()
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT", body
    assert "MRN" in body["errors"][0]["message"]
    assert await stored(services, one) == before


# ------------------------------------------------------------------ scope and facility wall


async def test_another_facility_gets_the_answer_of_a_patient_that_does_not_exist(gql, clinic, services):
    patient = await clinic.add_patient("Walled Off")
    before = await stored(services, patient)
    facility = await gql.execute(
        "mutation($input: FacilityInput!) { createFacility(input: $input) { id } }",
        {"input": {"name": "North Clinic", "state": "AZ", "timezone": "America/Phoenix"}},
    )
    other = gql.as_(facilities=[decode_id(facility["createFacility"]["id"], "Facility")])
    _, code, walled = await other.error(UPDATE, {"id": patient, "input": {"city": "Tempe"}})
    missing = encode_id("Patient", uuid.UUID(int=0))
    _, missing_code, absent = await gql.error(UPDATE, {"id": missing, "input": {"city": "Tempe"}})
    assert code == missing_code == "NOT_FOUND"
    assert walled["errors"][0]["message"] == absent["errors"][0]["message"]
    assert walled["data"] is None
    assert await stored(services, patient) == before


async def test_updating_a_patient_needs_admin_reference_write(gql, clinic, services):
    patient = await clinic.add_patient()
    before = await stored(services, patient)
    reader = gql.as_(scopes=["billing.read", "billing.write", "clinical.group-session.read"])
    _, code, _ = await reader.error(UPDATE, {"id": patient, "input": {"city": "Tempe"}})
    assert code == "FORBIDDEN"
    assert await stored(services, patient) == before


# ------------------------------------------------------------------ audit


async def test_the_change_is_audited_with_who_and_which_fields_never_the_details(gql, clinic, services):
    patient = await patient_without_address(gql, clinic, mrn="AUDIT-1")
    editor = gql.__class__(gql.http, make_token(subject="billing-office-3"))
    await editor.execute(UPDATE, {"id": patient, "input": {**ADDRESS, "name": "Ana Quiroga-Ruiz", "sex": None}})
    [entry] = [
        e for e in await audit_entries(services, "patient.update") if e.entity_id == decode_id(patient, "Patient")
    ]
    assert entry.actor == "billing-office-3" and entry.entity_type == "Patient"
    facility = str(decode_id(clinic.facility_id, "Facility"))
    assert entry.before == {
        "facilityId": facility,
        "mrn": True,
        "name": True,
        "dateOfBirth": True,
        "sex": False,
        "addressLine1": False,
        "city": False,
        "state": False,
        "postalCode": False,
    }
    assert entry.after == {
        "facilityId": facility,
        "mrn": True,
        "name": True,
        "dateOfBirth": True,
        "sex": False,
        "addressLine1": True,
        "city": True,
        "state": True,
        "postalCode": True,
        "fields": ["name", "addressLine1", "city", "state", "postalCode"],
    }
    text = f"{entry.before} {entry.after}"
    for detail in ("Quiroga", "AUDIT-1", "1971-04-02", "Camelback", "Phoenix", "85016"):
        assert detail not in text


async def test_a_refused_update_writes_no_audit_entry_and_no_event(gql, clinic, services):
    patient = await clinic.add_patient()
    async with services.sessionmaker() as session:
        events = await session.scalar(select(func.count()).select_from(models.IntegrationEvent))
    audited = len(await audit_entries(services, "patient.update"))
    await gql.error(UPDATE, {"id": patient, "input": {"state": "XX"}})
    await gql.execute(UPDATE, {"id": patient, "input": {"state": "NM"}})
    assert len(await audit_entries(services, "patient.update")) == audited + 1
    async with services.sessionmaker() as session:
        # createPatient publishes nothing on the integration feed; neither does a correction (no PHI there)
        assert await session.scalar(select(func.count()).select_from(models.IntegrationEvent)) == events


# ------------------------------------------------------------------ the billing loop


@pytest.mark.parametrize("sent_by", ["submitClaim", "submitClaimBatches"])
async def test_a_claim_held_for_the_subscribers_address_goes_once_updatepatient_adds_it(
    gql, clinic, test_clock, sent_by
):
    """A member with no address: the preview's BLOCKING MISSING_SUBSCRIBER_ADDRESS holds the session until its
    finalization deadline, when it is billed with the finding on the member's claim, which cannot be sent. The
    billing office adds the address with updatePatient; the submission re-checks the finding, sends the claim,
    and its 837P carries the address in 2010BA N3/N4."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 4, "90853", "40.00")])
    await no_note_rule(gql, clinic)
    patient = await patient_without_address(gql, clinic)
    await clinic.diagnose(patient, "F33.1")
    await clinic.cover(patient)
    other = await clinic.add_patient("With Address")  # two members: 90853 is a group code
    await clinic.cover(other)
    session = await create_session(gql, clinic, [patient, other], starts_at=at(9))
    for entry in session["roster"]:
        await mark(gql, entry["id"], "ATTENDED")
    set_now(test_clock, at(10, 31, day=11))  # the finalization deadline: billed as it stands
    await gql.execute(RUN, {"id": session["id"]})
    claim = next(c for c in await billed_claims(gql, session["id"]) if c["patient"]["id"] == patient)
    assert claim["status"] == "DRAFT"
    assert ("MISSING_SUBSCRIBER_ADDRESS", "BLOCKING") in {(v["code"], v["severity"]) for v in claim["validation"]}

    status, reason = await send_claim(gql, claim, sent_by)
    assert status == "DRAFT" and "MISSING_SUBSCRIBER_ADDRESS" in reason

    await gql.execute(UPDATE, {"id": patient, "input": ADDRESS})
    assert await send_claim(gql, claim, sent_by) == ("SUBMITTED", "")
    sent = next(c for c in await billed_claims(gql, session["id"]) if c["id"] == claim["id"])
    assert sent["status"] == "SUBMITTED" and sent["validation"] == []
    edi = (await gql.execute("query($id: ID!) { claim(id: $id) { edi837 } }", {"id": claim["id"]}))["claim"]["edi837"]
    clean(edi)
    assert segment(edi, "NM1", "IL")[3:5] == ["QUIROGA", "ANA"]
    assert subscriber_address(edi) == (["N3", "2200 E CAMELBACK RD"], ["N4", "PHOENIX", "AZ", "85016"])


def subscriber_address(edi: str) -> tuple[list[str], list[str]]:
    """The N3 and N4 of loop 2010BA: the two segments right after the subscriber's NM1*IL."""
    segments = parse_segments(edi)
    start = next(i for i, s in enumerate(segments) if s[0] == "NM1" and s[1] == "IL")
    return segments[start + 1], segments[start + 2]
