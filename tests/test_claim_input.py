"""Text that a payer would reject (attendance guide, claims): refused where it comes in, or flagged by
the claim's own checks before an 837P is sent. Names need a letter, no control character reaches a
claim, and identifiers that carry an X12 delimiter are refused instead of silently rewritten."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update

from app.db import models
from app.ids import decode_id
from app.rules import edi837
from app.rules.edi837 import edi_problems, parse_segments
from tests.support.builders_hardening import CALLS, World, fresh_world, row_counts
from tests.support.builders_notes import no_note_rule
from tests.support.builders_sessions import SET_ATTENDANCE, at, create_session, set_now
from tests.support.x12 import pyx12_errors
from tests.test_bad_input import assert_bad_input, with_value

RUN = "mutation($id: ID!) { runBilling(sessionId: $id) { id } }"
CLAIMS = "query($id: ID!) { groupSession(id: $id) { claims { id patient { id } } } }"
SUBMIT = "mutation($id: ID!) { submitClaim(claimId: $id) { status edi837 } }"


@pytest.fixture
async def world(gql, clinic, services, database_url) -> World:
    return await fresh_world(gql, clinic, services, database_url)


NAMES = {  # operation -> path of its name
    "createPatient": ("input", "name"),
    "updatePatient": ("input", "name"),
    "createStaff": ("input", "name"),
    "createFacility": ("input", "name"),
    "createPayer": ("input", "name"),
}
NO_LETTER = ["\u200b\u200b\u200b", "\u200d\ufeff", "\U0001f600\U0001f602", "12345", "---", "\u0301\u0301"]


@pytest.mark.parametrize("name", NO_LETTER, ids=["zero-width", "joiners", "emoji", "digits", "dashes", "marks"])
async def test_a_name_without_a_letter_is_refused(gql, world, database_url, name):
    before = await row_counts(database_url)
    for operation, path in NAMES.items():
        spec = CALLS[operation]
        await assert_bad_input(gql, spec.document, with_value(spec.variables(world), path, name), mentions="letter")
    assert await row_counts(database_url) == before


# Every text value that ends up in an 837P, by the call that sets it.
CLAIM_TEXT = [
    ("createPatient", ("input", "name")),
    ("createPatient", ("input", "mrn")),
    ("createPatient", ("input", "addressLine1")),
    ("createPatient", ("input", "city")),
    ("createPatient", ("input", "postalCode")),
    ("updatePatient", ("input", "name")),
    ("updatePatient", ("input", "mrn")),
    ("updatePatient", ("input", "addressLine1")),
    ("updatePatient", ("input", "city")),
    ("updatePatient", ("input", "postalCode")),
    ("createFacility", ("input", "name")),
    ("createFacility", ("input", "taxId")),
    ("createFacility", ("input", "addressLine1")),
    ("createFacility", ("input", "city")),
    ("createFacility", ("input", "postalCode")),
    ("createStaff", ("input", "name")),
    ("createPayer", ("input", "name")),
    ("createPayer", ("input", "payerCode")),
    ("addCoverage", ("input", "memberId")),
]
ADDRESSED = {
    "createPatient": {"addressLine1": "1 Main St", "city": "Mesa", "state": "AZ", "postalCode": "85201"},
    "createFacility": {"taxId": "861234567", "addressLine1": "1 Main St", "city": "Mesa", "postalCode": "85201-1234"},
}


def claim_text_call(world: World, operation: str, path: tuple, value: str) -> tuple[str, dict]:
    variables = CALLS[operation].variables(world)
    variables["input"].update(ADDRESSED.get(operation, {}))
    return CALLS[operation].document, with_value(variables, path, value)


@pytest.mark.parametrize("control", ["\x07", "\x1b", "\x7f", "\x85"], ids=["BEL", "ESC", "DEL", "NEL"])
async def test_a_control_character_in_claim_text_is_refused(gql, world, database_url, control):
    before = await row_counts(database_url)
    for operation, path in CLAIM_TEXT:
        document, variables = claim_text_call(world, operation, path, f"Ab{control}12")
        await assert_bad_input(gql, document, variables, mentions="control character")
    assert await row_counts(database_url) == before


IDENTIFIERS = [
    ("createPatient", ("input", "mrn")),
    ("createPayer", ("input", "payerCode")),
    ("addCoverage", ("input", "memberId")),
    ("createFacility", ("input", "taxId")),
    ("createPatient", ("input", "postalCode")),
    ("createFacility", ("input", "postalCode")),
    ("updatePatient", ("input", "mrn")),
    ("updatePatient", ("input", "postalCode")),
]


@pytest.mark.parametrize("value", ["M~*1", "A*B", "85:201", "X^2"])
async def test_an_identifier_with_an_x12_delimiter_is_refused_not_rewritten(gql, world, database_url, value):
    """`M~*1` was stored and sent as `M 1`: another member's id, as far as the payer knew."""
    before = await row_counts(database_url)
    for operation, path in IDENTIFIERS:
        document, variables = claim_text_call(world, operation, path, value)
        await assert_bad_input(gql, document, variables, mentions="~ * : ^")
    assert await row_counts(database_url) == before


async def billed_claim(gql, clinic, test_clock, patient_name: str) -> tuple[str, str]:
    """(claim id, patient id) of a billed session's claim for a patient of that name, in a group of
    two (a group code needs two patients) whose payer asks for no signed note."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 4, "90853", "40.00")])
    await no_note_rule(gql, clinic)
    patient = await clinic.add_patient(patient_name)
    companion = await clinic.add_patient("Ines Companion")
    for covered in (patient, companion):
        await clinic.cover(covered)
    session = await create_session(gql, clinic, patients=[patient, companion], starts_at=at(9))
    for entry in session["roster"]:
        await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session["id"]})
    claims = (await gql.execute(CLAIMS, {"id": session["id"]}))["groupSession"]["claims"]
    return next(c["id"] for c in claims if c["patient"]["id"] == patient), patient


async def test_a_name_that_renders_empty_is_flagged_before_the_claim_is_sent(gql, clinic, test_clock):
    """Letters, but none an X12 file can carry: the 837P's NM103 would be empty; submitting says so."""
    claim, _ = await billed_claim(gql, clinic, test_clock, "李小龍")
    message = await assert_bad_input(gql, SUBMIT, {"id": claim}, mentions="NM1*IL")
    assert "NM103" in message and "empty" in message


async def test_control_characters_already_stored_never_reach_the_837p(gql, clinic, test_clock, services):
    """Rows written before input was checked: the renderer drops what no X12 file may carry."""
    claim, patient = await billed_claim(gql, clinic, test_clock, "Vera Quill")
    async with services.sessionmaker() as db, db.begin():
        await db.execute(
            update(models.Patient)
            .where(models.Patient.id == decode_id(patient, "Patient"))
            .values(name="Vera\x07 Qu\x1bill")
        )
    edi = (await gql.execute(SUBMIT, {"id": claim}))["submitClaim"]["edi837"]
    assert not any(ord(c) < 32 or ord(c) == 127 for c in edi.replace("\n", ""))
    subscriber = next(s for s in parse_segments(edi) if s[0] == "NM1" and s[1] == "IL")
    assert subscriber[3:5] == ["QUILL", "VERA"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []


def test_the_claims_own_checks_flag_an_empty_required_element():
    claim = edi837.Claim837(
        interchange_control_number=1,
        created_at=datetime(2026, 3, 10, 12),
        submitter=edi837.Submitter(
            id="861234567", name="Desert Bloom", contact_name="BILLING", contact_phone="6025550100"
        ),
        receiver=edi837.Receiver(id="AZAHCCCS", name="AHCCCS"),
        billing_provider=edi837.BillingProvider(
            name="Desert Bloom",
            npi="1234567893",
            tax_id="861234567",
            address=edi837.Address("1 Main St", "Phoenix", "AZ", "85016"),
        ),
        subscriber=edi837.Subscriber(
            last_name="\U0001f600", first_name="", member_id="M1", date_of_birth=date(1980, 5, 17), sex="F"
        ),
        payer=edi837.PayerParty(name="\u200b", payer_code="AZAHCCCS"),
        claim_number="GS1",
        service_lines=(edi837.ServiceLine("90853", (), Decimal("40"), 1, date(2026, 3, 10)),),
    )
    problems = edi_problems(edi837.render_837p(claim))
    assert any("NM1*IL" in p and "NM103" in p for p in problems), problems
    assert any("NM1*PR" in p and "NM103" in p for p in problems), problems
