"""Claims a clearinghouse accepts (issue 24): the 837P's content through the API. The billing provider's ZIP+4
(2010AA N403), the rendering (2310B) and supervising (2310D) providers, the subscriber's address (2010BA N3/N4),
SBR09, taxonomy, the interchange ids and ISA15 per facility and payer, ICD-10-CM billable codes, and a payer
change answered with a VOID to the old payer and an ORIGINAL to the new one."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import update

from app.db import models
from app.ids import decode_id
from app.rules.edi837 import front_end_findings, parse_segments
from tests.support.builders_notes import clinician, documented_room, no_note_rule, set_rule
from tests.support.builders_sessions import SET_ATTENDANCE, at, create_session, set_now
from tests.support.x12 import pyx12_errors
from tests.test_documentation_billing import notes_for, sign_member

PREVIEW = """query($id: ID!) { groupSession(id: $id) { billingPreview { readyToBill
  issues { code severity message participantIds } } } }"""
RUN = "mutation($id: ID!) { runBilling(sessionId: $id) { status locked } }"
CLAIMS = """query($id: ID!) { groupSession(id: $id) { claims { id claimNumber status frequency
  payer { id } patient { id } originalClaim { id } validation { code severity } } } }"""
SUBMIT = "mutation($id: ID!) { submitClaim(claimId: $id) { status edi837 } }"


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog):
    caplog.set_level(logging.CRITICAL, logger="pyx12")


async def mark(gql, participant, status, **extra):
    return await gql.execute(SET_ATTENDANCE, {"participantId": participant, "status": status, **extra})


def segment(edi: str, tag: str, qualifier: str | None = None) -> list[str] | None:
    return next((s for s in parse_segments(edi) if s[0] == tag and (qualifier is None or s[1] == qualifier)), None)


def clean(edi: str) -> None:
    assert pyx12_errors(edi) == []
    assert [str(f) for f in front_end_findings(edi)] == []


async def billed_claims(gql, session_id: str) -> list[dict]:
    return (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]["claims"]


async def bill_one_member(gql, clinic, test_clock, **session) -> tuple[str, list[str], dict]:
    """A group of two (90853 needs at least two patients) whose payer asks for no signed note; the first
    member's claim."""
    await no_note_rule(gql, clinic)
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2, **session)
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    set_now(test_clock, at(10, 31))
    await gql.execute(RUN, {"id": session_id})
    claims = await billed_claims(gql, session_id)
    (claim,) = [c for c in claims if c["patient"]["id"] == clinic.patients[0]]
    return session_id, entries, claim


# ------------------------------------------------------------------ 2010AA N403: ZIP+4


@pytest.mark.parametrize("zip_code", ["85016", "8501", "85016-43"])
async def test_2010aa_n403_a_facility_billing_address_without_zip_plus_four_is_refused(gql, clinic, zip_code):
    document = "mutation($input: FacilityInput!) { createFacility(input: $input) { id } }"
    facility = {"name": "North Clinic", "state": "AZ", "timezone": "America/Phoenix", "postalCode": zip_code}
    _, code, body = await gql.error(document, {"input": facility})
    assert code == "BAD_USER_INPUT" and "postalCode" in body["errors"][0]["message"]
    update_billing = """mutation($id: ID!, $input: FacilityBillingInput!) {
      updateFacilityBilling(facilityId: $id, input: $input) { postalCode } }"""
    _, code, body = await gql.error(update_billing, {"id": clinic.facility_id, "input": {"postalCode": zip_code}})
    assert code == "BAD_USER_INPUT" and "postalCode" in body["errors"][0]["message"]
    changed = await gql.execute(update_billing, {"id": clinic.facility_id, "input": {"postalCode": "85016-9999"}})
    assert changed["updateFacilityBilling"]["postalCode"] == "85016-9999"


# ------------------------------------------------------------------ 2310B, 2310D


async def test_2310b_names_the_facilitator_and_2310d_the_supervisor_who_cosigned(gql, clinic, test_clock):
    """005010X222A1 2310B NM1*82 (the organization bills, the clinician rendered) and 2310D NM1*DQ (the
    payer's rule has a supervisor co-sign in the facility's state: the co-signer supervised)."""
    await set_rule(gql, clinic, cosignStates=["AZ"])
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    dana, notes = await notes_for(gql, clinic, session_id, test_clock)
    set_now(test_clock, at(10, 35))
    sam = clinician(gql, clinic, clinic.staff[1], scopes=("clinical.notes.cosign", "clinical.notes.write"))
    for entry in entries:
        await sign_member(dana, notes[entry])
        await sam.execute("mutation($id: ID!) { cosignNote(id: $id) { status } }", {"id": notes[entry]})
    await gql.execute(RUN, {"id": session_id})
    (claim,) = [c for c in await billed_claims(gql, session_id) if c["patient"]["id"] == clinic.patients[0]]
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    clean(edi)
    staff = (await gql.execute("{ staff(first: 10) { edges { node { id npi } } } }"))["staff"]["edges"]
    npi = {s["node"]["id"]: s["node"]["npi"] for s in staff}
    assert segment(edi, "NM1", "82")[2] == "1" and segment(edi, "NM1", "82")[9] == npi[clinic.staff[0]]
    assert segment(edi, "NM1", "DQ")[2] == "1" and segment(edi, "NM1", "DQ")[9] == npi[clinic.staff[1]]


async def test_without_a_cosign_rule_there_is_no_2310d(gql, clinic, test_clock):
    _, _, claim = await bill_one_member(gql, clinic, test_clock)
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    clean(edi)
    assert segment(edi, "NM1", "82") is not None and segment(edi, "NM1", "DQ") is None


async def test_an_ad_hoc_session_with_no_rendering_clinician_is_blocking(gql, clinic, test_clock):
    """2310B is required of an organization's claim: no facilitator, no claim (BLOCKING in the preview)."""
    set_now(test_clock, at(9, 20))
    await no_note_rule(gql, clinic)
    await clinic.bands([(1, 4, "90853", "40.00")])
    patients = [await clinic.add_patient(name) for name in ("First Member", "Second Member")]
    for patient in patients:
        await clinic.cover(patient)
    session = await create_session(gql, clinic, patients, starts_at=at(9), facilitatorId=None)
    for entry in session["roster"]:
        await mark(gql, entry["id"], "ATTENDED")
    issues = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["billingPreview"]["issues"]
    assert [(i["code"], i["severity"]) for i in issues] == [("MISSING_RENDERING_PROVIDER", "BLOCKING")]


# ------------------------------------------------------------------ 2010BA N3/N4


async def test_2010ba_a_subscriber_without_an_address_is_blocking(gql, clinic, test_clock):
    """005010X222A1 2010BA N3/N4: required when the subscriber is the patient (SBR02 = 18)."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 4, "90853", "40.00")])
    created = await gql.execute(
        "mutation($input: PatientInput!) { createPatient(input: $input) { id } }",
        {
            "input": {
                "mrn": "NOADDR1",
                "name": "No Address",
                "dateOfBirth": "1970-01-01",
                "facilityId": clinic.facility_id,
            }
        },
    )
    patient = created["createPatient"]["id"]
    await clinic.diagnose(patient, "F33.1")
    await clinic.cover(patient)
    other = await clinic.add_patient("With Address")  # two members: 90853 is a group code
    await clinic.cover(other)
    await no_note_rule(gql, clinic)
    session = await create_session(gql, clinic, [patient, other], starts_at=at(9))
    entry = next(e["id"] for e in session["roster"] if e["patient"]["id"] == patient)
    for each in session["roster"]:
        await mark(gql, each["id"], "ATTENDED")
    preview = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["billingPreview"]
    assert [(i["code"], i["severity"], i["participantIds"]) for i in preview["issues"]] == [
        ("MISSING_SUBSCRIBER_ADDRESS", "BLOCKING", [entry])
    ]
    assert preview["readyToBill"] is False


# ------------------------------------------------------------------ SBR09, taxonomy, ids, ISA15


async def test_payer_and_facility_settings_reach_sbr09_prv_the_interchange_ids_and_isa15(gql, clinic, test_clock):
    await gql.execute(
        """mutation($id: ID!, $input: FacilityBillingInput!) { updateFacilityBilling(facilityId: $id, input: $input) {
             taxonomy submitterId } }""",
        {"id": clinic.facility_id, "input": {"taxonomy": "261QM0801X", "submitterId": "SUB00417"}},
    )
    staff = await gql.execute(
        "mutation($input: StaffInput!) { createStaff(input: $input) { id taxonomy } }",
        {
            "input": {
                "name": "Lee Counselor",
                "facilityId": clinic.facility_id,
                "npi": "1679576722",
                "taxonomy": "101YM0800X",
            }
        },
    )
    settings = await gql.execute(
        """mutation($id: ID!, $input: PayerClaimSettingsInput!) { updatePayerClaimSettings(payerId: $id, input: $input) {
             claimFilingIndicator receiverId taxonomyRequired testMode } }""",
        {
            "id": clinic.payer_id,
            "input": {
                "claimFilingIndicator": "MC",
                "receiverId": "AZAHCCCS",
                "taxonomyRequired": True,
                "testMode": True,
            },
        },
    )
    assert settings["updatePayerClaimSettings"] == {
        "claimFilingIndicator": "MC",
        "receiverId": "AZAHCCCS",
        "taxonomyRequired": True,
        "testMode": True,
    }
    _, _, claim = await bill_one_member(gql, clinic, test_clock, facilitatorId=staff["createStaff"]["id"])
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    clean(edi)
    isa = segment(edi, "ISA")
    assert (isa[6].strip(), isa[8].strip(), isa[15]) == ("SUB00417", "AZAHCCCS", "T")
    assert segment(edi, "GS")[2:4] == ["SUB00417", "AZAHCCCS"]
    assert segment(edi, "NM1", "41")[9] == "SUB00417" and segment(edi, "NM1", "40")[9] == "AZAHCCCS"
    assert segment(edi, "SBR")[9] == "MC"
    assert segment(edi, "PRV", "BI") == ["PRV", "BI", "PXC", "261QM0801X"]
    assert segment(edi, "PRV", "PE") == ["PRV", "PE", "PXC", "101YM0800X"]


async def test_a_clinicians_taxonomy_is_changed_and_a_bad_one_refused(gql, clinic):
    document = """mutation($id: ID!, $taxonomy: String) { updateStaffBilling(staffId: $id, taxonomy: $taxonomy) {
      taxonomy } }"""
    changed = await gql.execute(document, {"id": clinic.staff[0], "taxonomy": "1041c0700x"})
    assert changed["updateStaffBilling"]["taxonomy"] == "1041C0700X"
    _, code, body = await gql.error(document, {"id": clinic.staff[0], "taxonomy": "LCSW"})
    assert code == "BAD_USER_INPUT" and "taxonomy" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("claimFilingIndicator", "XX"), ("receiverId", "A*B"), ("taxonomy", "LCSW")],
)
async def test_bad_claim_settings_are_refused_naming_the_field(gql, clinic, field, value):
    if field == "taxonomy":
        document = "mutation($input: StaffInput!) { createStaff(input: $input) { id } }"
        variables = {"input": {"name": "Lee Counselor", "facilityId": clinic.facility_id, field: value}}
    else:
        document = "mutation($input: PayerInput!) { createPayer(input: $input) { id } }"
        variables = {"input": {"name": "Mercy Care", "payerCode": "MERCY", field: value}}
    _, code, body = await gql.error(document, variables)
    assert code == "BAD_USER_INPUT" and field in body["errors"][0]["message"]


# ------------------------------------------------------------------ ICD-10-CM


@pytest.mark.parametrize("code", ["F32", "F10.2", "F99.999"])
async def test_only_billable_icd10cm_codes_are_kept(gql, clinic, code):
    """005010X222A1 2300 HI: ICD-10-CM billable (leaf) codes; a category, a subcategory or no code at all
    is refused, naming the code."""
    patient = await clinic.add_patient("Coded Member", diagnoses=())
    document = (
        """mutation($p: ID!, $d: [DiagnosisInput!]!) { setPatientDiagnoses(patientId: $p, diagnoses: $d) { code } }"""
    )
    _, error, body = await gql.error(document, {"p": patient, "d": [{"code": code, "effectiveFrom": "2024-01-01"}]})
    assert error == "BAD_USER_INPUT" and code in body["errors"][0]["message"]


# ------------------------------------------------------------------ a payer change after submission


async def test_a_payer_change_after_submission_voids_to_the_old_payer_and_sends_an_original_to_the_new(
    gql, clinic, test_clock, services
):
    session_id, entries, claim = await bill_one_member(gql, clinic, test_clock)
    await gql.execute(SUBMIT, {"id": claim["id"]})
    async with services.sessionmaker() as db, db.begin():
        await db.execute(
            update(models.Claim)
            .where(models.Claim.id == decode_id(claim["id"], "Claim"))
            .values(payer_claim_number="26069000003001")
        )
        # The coverage on file was wrong: the member's primary payer is another one (entered in error).
        await db.execute(
            update(models.Coverage)
            .where(models.Coverage.patient_id == decode_id(clinic.patients[0], "Patient"))
            .values(priority=2)
        )
    new_payer = await clinic.payer("Mercy Care", "MERCY")
    await no_note_rule(gql, clinic, new_payer)
    await clinic.bands([(1, 4, "90853", "41.00")], payer_id=new_payer)
    await clinic.cover(clinic.patients[0], new_payer)
    await mark(gql, entries[0], "LATE", force=True, reason="Coverage corrected; arrived late")
    claims = [c for c in await billed_claims(gql, session_id) if c["patient"]["id"] == clinic.patients[0]]
    made = sorted((c["frequency"], c["status"], c["payer"]["id"]) for c in claims)
    assert made == sorted(
        [
            ("ORIGINAL", "VOIDED", clinic.payer_id),
            ("VOID", "DRAFT", clinic.payer_id),
            ("ORIGINAL", "DRAFT", new_payer),
        ]
    )
    void = next(c for c in claims if c["frequency"] == "VOID")
    original = next(c for c in claims if c["frequency"] == "ORIGINAL" and c["status"] == "DRAFT")
    assert original["originalClaim"] is None
    for draft in (void, original):
        edi = (await gql.execute(SUBMIT, {"id": draft["id"]}))["submitClaim"]["edi837"]
        clean(edi)
        if draft is void:
            assert segment(edi, "REF", "F8") == ["REF", "F8", "26069000003001"]
            assert segment(edi, "NM1", "PR")[9] != "MERCY"
        else:
            assert segment(edi, "REF", "F8") is None and segment(edi, "NM1", "PR")[9] == "MERCY"


# ------------------------------------------------------------------ the demo


async def test_the_demo_sends_a_cosigned_claim_a_replacement_a_void_and_a_payer_change_a_clearinghouse_accepts(
    services, test_clock
):
    """The demo's claims as a clearinghouse reads them: 2310D on the co-signed claim, REF*F8 the payer's claim
    number on the replacements and the void, and a payer change as a VOID to AHCCCS plus an ORIGINAL to
    Suncrest; every file passes the front-end checks and pyx12 (no finding at all)."""
    from sqlalchemy import select

    from app.demo import demo_id, load_demo
    from tests.support.x12 import claim_file_problems

    assert "Loaded" in await load_demo(services)
    async with services.sessionmaker() as db:
        claims = list((await db.scalars(select(models.Claim))).all())
    by_id = {c.id: c for c in claims}
    sent = [c for c in claims if c.edi837]
    assert all(claim_file_problems(c.edi837) == [] for c in sent)
    assert any(segment(c.edi837, "NM1", "DQ") for c in sent)  # Arden's note, co-signed by Priya (AHCCCS, AZ)

    corrections = [c for c in sent if c.frequency in ("REPLACEMENT", "VOID")]
    assert {c.frequency for c in corrections} == {"REPLACEMENT", "VOID"}
    for claim in corrections:
        corrected = by_id[claim.original_claim_id]
        assert corrected.payer_claim_number and segment(claim.edi837, "REF", "F8") == [
            "REF",
            "F8",
            corrected.payer_claim_number,
        ]
    quinn = demo_id("patient", 16)
    (void,) = [c for c in corrections if c.frequency == "VOID"]
    assert void.patient_id == quinn and void.payer_id == demo_id("payer", "AHCCCS")
    new_original = [c for c in claims if c.patient_id == quinn and c.payer_id == demo_id("payer", "SUNCREST")]
    assert [(c.frequency, c.original_claim_id) for c in new_original] == [("ORIGINAL", None)]


async def test_submit_refuses_a_file_the_front_end_would_reject_naming_the_check(gql, clinic, test_clock, services):
    """A facility stored before ZIP+4 was required: its claim's 2010AA N403 would be rejected, so the claim is
    not sent (BAD_USER_INPUT naming the check and its source), and stays a DRAFT."""
    session_id, _, claim = await bill_one_member(gql, clinic, test_clock)
    async with services.sessionmaker() as db, db.begin():
        await db.execute(
            update(models.Facility)
            .where(models.Facility.id == decode_id(clinic.facility_id, "Facility"))
            .values(postal_code="85016")
        )
    _, code, body = await gql.error(SUBMIT, {"id": claim["id"]})
    message = body["errors"][0]["message"]
    assert code == "BAD_USER_INPUT" and "BILLING_PROVIDER_ZIP_PLUS_FOUR" in message and "2010AA N403" in message
    assert [c["status"] for c in await billed_claims(gql, session_id) if c["id"] == claim["id"]] == ["DRAFT"]


DEMO_SESSIONS = """query($from: Date!, $to: Date!) { groupSessions(filter: {from: $from, to: $to}, first: 100) {
  edges { node { id title sessionDate } } } }"""
DEMO_SESSION = """query($id: ID!) { groupSession(id: $id) {
  title
  roster { id status modality patientAtHome patient { id name } }
  billingPreview { issues { code severity participantIds } }
  charges { status procedureCode modifiers placeOfService amount expectedAmount selfPay patient { id } }
  claims { id claimNumber status frequency edi837 payerClaimNumber payer { payerCode } patient { id name }
    originalClaim { id payerClaimNumber } validation { code severity } } } }"""


async def test_the_demo_exercises_every_case_of_the_issue_through_the_api(gql, services, test_clock):
    """Issue 24's cases, each found in the demo as loaded: in person, video (95) and audio-only (93) from home
    (POS 10); a partial attendee; a supervised clinician's co-signed note (2310D); a void and a replacement
    carrying the payer's claim number (REF*F8); a payer change (a VOID to the old payer, an ORIGINAL to the
    new); a member without coverage (NO_COVERAGE, a self-pay charge); a group of one (GROUP_OF_ONE, held).
    Every 837P it sent, and the audio-only claim sent now, passes the front-end checks and pyx12."""
    from datetime import timedelta

    from app.demo import PHOENIX, load_demo

    assert "Loaded" in await load_demo(services)
    today = test_clock.now().astimezone(PHOENIX).date()
    window = {"from": (today - timedelta(days=200)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    edges = (await gql.execute(DEMO_SESSIONS, window))["groupSessions"]["edges"]
    sessions = [(await gql.execute(DEMO_SESSION, {"id": e["node"]["id"]}))["groupSession"] for e in edges]
    charges = [c for s in sessions for c in s["charges"] if c["status"] == "ACTIVE"]
    claims = [c for s in sessions for c in s["claims"]]
    issues = [i for s in sessions for i in s["billingPreview"]["issues"]]
    rows = {r["id"]: r for s in sessions for r in s["roster"]}

    # In person (the office, POS 11), video (95) and audio-only (93), both from home (POS 10).
    codings = {(tuple(c["modifiers"]), c["placeOfService"]) for c in charges}
    assert any(pos == "11" for _, pos in codings)
    assert any("95" in mods and pos == "10" for mods, pos in codings)
    (audio,) = [c for c in charges if "93" in c["modifiers"]]
    assert audio["placeOfService"] == "10" and not audio["selfPay"]
    audio_row = next(
        r for r in rows.values() if r["patient"]["id"] == audio["patient"]["id"] and r["modality"] == "TELEHEALTH_AUDIO"
    )
    assert audio_row["patientAtHome"] is True
    (audio_claim,) = [c for c in claims if c["patient"]["id"] == audio["patient"]["id"] and c["status"] == "DRAFT"]
    edi = (await gql.execute(SUBMIT, {"id": audio_claim["id"]}))["submitClaim"]["edi837"]
    clean(edi)
    assert segment(edi, "CLM")[5] == "10:B:1" and segment(edi, "SV1")[1].split(":")[2:] == ["93"]

    # A partial attendee: one member left a third of the way into this morning's CBT, below AHCCCS's 45 minutes.
    assert "BELOW_MINIMUM_MINUTES" in {i["code"] for i in issues}

    # The co-signed note of a clinician practising under supervision: 2310D names the supervisor.
    sent = [c for c in claims if c["edi837"]]
    assert any(segment(c["edi837"], "NM1", "DQ") for c in sent)

    # A void and a replacement, each carrying in REF*F8 the payer's number of the claim it corrects.
    corrections = [c for c in sent if c["frequency"] in ("VOID", "REPLACEMENT")]
    assert {c["frequency"] for c in corrections} == {"VOID", "REPLACEMENT"}
    for claim in corrections:
        number = claim["originalClaim"]["payerClaimNumber"]
        assert number and segment(claim["edi837"], "REF", "F8") == ["REF", "F8", number]

    # A payer change: a VOID to the old payer (AHCCCS) and an ORIGINAL to the new one (Suncrest).
    (void,) = [c for c in corrections if c["frequency"] == "VOID"]
    changed = [c for c in claims if c["patient"]["id"] == void["patient"]["id"] and c["originalClaim"] is None]
    assert void["payer"]["payerCode"] == "AZAHCCCS"
    assert {c["payer"]["payerCode"] for c in changed} == {"AZAHCCCS", "SUNCREST"}

    # A member without coverage: NO_COVERAGE in the preview, and a self-pay charge, nobody else's to pay.
    uncovered = {rows[p]["patient"]["id"] for i in issues if i["code"] == "NO_COVERAGE" for p in i["participantIds"]}
    self_pay = [c for c in charges if c["selfPay"]]
    assert uncovered and {c["patient"]["id"] for c in self_pay} == uncovered
    assert all(c["expectedAmount"] is None for c in self_pay)
    assert not [c for c in claims if c["patient"]["id"] in uncovered]

    # A group of one: 90853 needs two patients; the claim carries GROUP_OF_ONE and is not sent.
    (alone,) = [c for c in claims if "GROUP_OF_ONE" in {v["code"] for v in c["validation"]}]
    assert {(v["code"], v["severity"]) for v in alone["validation"]} >= {("GROUP_OF_ONE", "BLOCKING")}
    (one,) = [s for s in sessions if alone["id"] in {c["id"] for c in s["claims"]}]
    assert [i["code"] for i in one["billingPreview"]["issues"] if i["severity"] == "BLOCKING"] == ["GROUP_OF_ONE"]
    _, code, _ = await gql.error(SUBMIT, {"id": alone["id"]})
    assert code == "ILLEGAL_TRANSITION"

    # Every 837P the demo sent passes the front-end checks and pyx12 (the conftest hook reads them again).
    assert len(sent) >= 10
    for claim in sent:
        clean(claim["edi837"])


# ------------------------------------------------------------------ a draft's findings, re-checked when it is sent

BATCH = """mutation { submitClaimBatches { batches { claims { claimNumber status } }
  held { reason claim { claimNumber } } } }"""


async def send_claim(gql, claim: dict, sent_by: str) -> tuple[str, str]:
    """(status, what holds it) of `claim` after a submission by `sent_by`: submitClaim, or the daily
    batch (submitClaimBatches)."""
    if sent_by == "submitClaim":
        body = (await gql.post(SUBMIT, {"id": claim["id"]})).json()
        if body.get("errors"):
            return "DRAFT", body["errors"][0]["message"]
        return body["data"]["submitClaim"]["status"], ""
    data = (await gql.execute(BATCH))["submitClaimBatches"]
    held = [h["reason"] for h in data["held"] if h["claim"]["claimNumber"] == claim["claimNumber"]]
    sent = [c["status"] for b in data["batches"] for c in b["claims"] if c["claimNumber"] == claim["claimNumber"]]
    return (sent[0], "") if sent else ("DRAFT", held[0])


@pytest.mark.parametrize("sent_by", ["submitClaim", "submitClaimBatches"])
async def test_a_drafts_blocking_finding_whose_cause_was_fixed_no_longer_holds_it(
    gql, clinic, test_clock, services, sent_by
):
    """A session billed at its finalization deadline keeps on its claims what held it (here a member with no
    active diagnosis: MISSING_DIAGNOSIS, BLOCKING). Once the cause is fixed (the diagnosis recorded), the
    claim goes: a submission, one claim or the daily batch, re-checks the stored findings against the data as
    it stands and drops those no longer raised; while the cause stands the claim is held, naming it."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 4, "90853", "40.00")])
    await no_note_rule(gql, clinic)
    undiagnosed = await clinic.add_patient("Not Yet Diagnosed", diagnoses=())
    other = await clinic.add_patient("Diagnosed")
    for patient in (undiagnosed, other):
        await clinic.cover(patient)
    session = await create_session(gql, clinic, [undiagnosed, other], starts_at=at(9))
    for entry in session["roster"]:
        await mark(gql, entry["id"], "ATTENDED")
    set_now(test_clock, at(10, 31, day=11))  # the deadline: billed as it stands
    await gql.execute(RUN, {"id": session["id"]})
    claims = {c["patient"]["id"]: c for c in await billed_claims(gql, session["id"])}
    claim = claims[undiagnosed]
    assert ("MISSING_DIAGNOSIS", "BLOCKING") in {(v["code"], v["severity"]) for v in claim["validation"]}

    status, reason = await send_claim(gql, claim, sent_by)
    assert status == "DRAFT" and "MISSING_DIAGNOSIS" in reason
    await clinic.diagnose(undiagnosed, "F43.10")
    assert await send_claim(gql, claim, sent_by) == ("SUBMITTED", "")
    sent = next(c for c in await billed_claims(gql, session["id"]) if c["id"] == claim["id"])
    assert sent["status"] == "SUBMITTED" and sent["validation"] == []
    edi = (await gql.execute("query($id: ID!) { claim(id: $id) { edi837 } }", {"id": claim["id"]}))["claim"]["edi837"]
    clean(edi)
    assert segment(edi, "HI")[1] == "ABK:F4310"


async def test_the_daily_batch_names_a_draft_still_held_after_one_of_its_findings_was_fixed(
    gql, clinic, test_clock, services
):
    """Found by the fuzzer: a draft held by two findings, one of them fixed, was re-checked inside its own
    savepoint (dropping the fixed one), refused for the other, and the savepoint's rollback left the claim
    unloaded: naming it in `held` answered INTERNAL. It is named, with what still holds it; once the
    second cause is fixed (the address added with updatePatient) the batch sends it."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 4, "90853", "40.00")])
    await no_note_rule(gql, clinic)
    held_back = await clinic.add_patient("Two Causes", diagnoses=())
    other = await clinic.add_patient("Ready")
    await gql.execute(
        "mutation($id: ID!, $input: PatientUpdateInput!) { updatePatient(id: $id, input: $input) { id } }",
        {"id": held_back, "input": {"addressLine1": None}},
    )
    for patient in (held_back, other):
        await clinic.cover(patient)
    session = await create_session(gql, clinic, [held_back, other], starts_at=at(9))
    for entry in session["roster"]:
        await mark(gql, entry["id"], "ATTENDED")
    set_now(test_clock, at(10, 31, day=11))
    await gql.execute(RUN, {"id": session["id"]})
    claim = {c["patient"]["id"]: c for c in await billed_claims(gql, session["id"])}[held_back]
    assert {"MISSING_DIAGNOSIS", "MISSING_SUBSCRIBER_ADDRESS"} <= {v["code"] for v in claim["validation"]}
    await clinic.diagnose(held_back, "F43.10")

    status, reason = await send_claim(gql, claim, "submitClaimBatches")
    assert status == "DRAFT" and "MISSING_SUBSCRIBER_ADDRESS" in reason and "MISSING_DIAGNOSIS" not in reason
    # what was fixed is gone from the draft although it is still held
    stored = next(c for c in await billed_claims(gql, session["id"]) if c["id"] == claim["id"])
    assert {v["code"] for v in stored["validation"]} >= {"MISSING_SUBSCRIBER_ADDRESS"}
    assert "MISSING_DIAGNOSIS" not in {v["code"] for v in stored["validation"]}

    await gql.execute(
        "mutation($id: ID!, $input: PatientUpdateInput!) { updatePatient(id: $id, input: $input) { id } }",
        {"id": held_back, "input": {"addressLine1": "12 W Osborn Rd"}},
    )
    assert await send_claim(gql, claim, "submitClaimBatches") == ("SUBMITTED", "")


# ------------------------------------------------------------------ every 837P written is read by pyx12 first


async def test_an_837p_the_guides_map_refuses_is_not_sent(gql, clinic, test_clock):
    """005010X222A1 2010BA N401, the subscriber's city, is at most 30 characters; a patient's record may hold a
    longer one (a city of 35 here). pyx12 reads each 837P against the guide's map before it is sent: the map
    refuses it, so the claim is not sent (it stays DRAFT) and the answer names the segment and the element, not
    the value (pyx12's own text repeats it)."""
    city = "Rancho Palos Verdes Estates Village"  # 35 characters
    _, _, claim = await bill_one_member(gql, clinic, test_clock)
    await gql.execute(
        "mutation($id: ID!, $input: PatientUpdateInput!) { updatePatient(id: $id, input: $input) { id } }",
        {"id": clinic.patients[0], "input": {"city": city}},
    )
    _, code, body = await gql.error(SUBMIT, {"id": claim["id"]})
    message = body["errors"][0]["message"]
    assert code == "BAD_USER_INPUT"
    assert message.startswith("The guide's map (005010X222A1) refuses the 837P: N4 (segment ")
    assert message.endswith("Subscriber City Name (N401): data element too long")
    assert city not in message and "Rancho" not in str(body)  # the answer never repeats the patient's address
    status = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Claim { status edi837 } } }", {"id": claim["id"]}
    )
    assert status["node"] == {"status": "DRAFT", "edi837": None}
    # a city of 30 characters goes
    await gql.execute(
        "mutation($id: ID!, $input: PatientUpdateInput!) { updatePatient(id: $id, input: $input) { id } }",
        {"id": clinic.patients[0], "input": {"city": city[:30]}},
    )
    sent = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]
    assert sent["status"] == "SUBMITTED" and pyx12_errors(sent["edi837"]) == []
