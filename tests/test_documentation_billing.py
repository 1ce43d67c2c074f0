"""Documentation, partial attendance and telehealth as billing rules, through the endpoint: the
preview's NOTE_UNSIGNED and BELOW_MINIMUM_MINUTES, claims carrying them, and the 837P's place of
service and modifiers for each modality (pyx12 and our own checks)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import update

from app.db import models
from app.ids import decode_id
from app.operations.billing_pipeline import bill_due_sessions
from app.rules.edi837 import edi_problems, parse_segments
from tests.support.builders_notes import (
    CREATE_GROUP_NOTE,
    ROSTER_NOTES,
    SET_VISIT,
    SIGN,
    UPDATE_MEMBER_NOTE,
    clinician,
    documented_room,
    set_rule,
)
from tests.support.builders_sessions import SET_ATTENDANCE, at, set_now
from tests.support.x12 import pyx12_errors

PREVIEW = """query($id: ID!) { groupSession(id: $id) { billingPreview { billableCount readyToBill
  issues { code severity message participantIds } } } }"""
CLAIMS = """query($id: ID!) { groupSession(id: $id) { locked
  charges { modifiers patient { id } }
  claims { id status patient { id } validation { code severity participantIds } } } }"""
RUN = "mutation($id: ID!) { runBilling(sessionId: $id) { locked } }"
SUBMIT = "mutation($id: ID!) { submitClaim(claimId: $id) { status edi837 } }"
PAYER_RULE = (
    """query($id: ID!) { node(id: $id) { ... on Payer { documentationRule { signedNote minimumMinutes } } } }"""
)
SET_MODALITY = "mutation($id: ID!, $m: Modality!) { setSessionModality(sessionId: $id, modality: $m) { modality } }"


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog):
    caplog.set_level(logging.CRITICAL, logger="pyx12")


async def preview(gql, session_id):
    return (await gql.execute(PREVIEW, {"id": session_id}))["groupSession"]["billingPreview"]


async def mark(gql, entry, status, **times):
    return (
        await gql.execute(
            SET_ATTENDANCE.replace(
                "$reason: String)", "$reason: String, $arrivedAt: DateTime, $departedAt: DateTime)"
            ).replace("reason: $reason)", "reason: $reason, arrivedAt: $arrivedAt, departedAt: $departedAt)"),
            {"participantId": entry, "status": status, **times},
        )
    )["setAttendance"]


async def notes_for(gql, clinic, session_id, test_clock):
    """The group note, written once the 09:00-10:30 session has ended (a member note is signed only then)."""
    set_now(test_clock, at(10, 31))
    dana = clinician(gql, clinic, clinic.staff[0])
    created = await dana.execute(CREATE_GROUP_NOTE, {"sessionId": session_id, "input": {"topic": "Relapse prevention"}})
    return dana, {m["participant"]["id"]: m["id"] for m in created["createGroupNote"]["memberNotes"]}


async def sign_member(dana, note_id):
    await dana.execute(
        UPDATE_MEMBER_NOTE, {"id": note_id, "input": {"participation": "ACTIVE", "progressTowardGoals": "On track"}}
    )
    await dana.execute(SIGN, {"id": note_id})


def codes(data):
    """The issues, in a fixed order (members of one session share a creation time)."""
    return sorted((i["code"], i["severity"], tuple(i["participantIds"])) for i in data["issues"])


# ------------------------------------------------------------------ NOTE_UNSIGNED


async def test_a_payer_without_a_documentation_rule_gets_the_default_signed_note_warning(gql, clinic, test_clock):
    """The schema's DocumentationRule: "defaults when the payer has none: signed note WARNING, no
    minimum". A payer that set no rule is held to it (issue 24); one whose rule says NONE is not."""
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    found = await preview(gql, session_id)
    assert codes(found) == sorted(
        [("NOTE_UNSIGNED", "WARNING", (entries[0],)), ("NOTE_UNSIGNED", "WARNING", (entries[1],))]
    )
    assert found["readyToBill"] is False
    rule = (await gql.execute(PAYER_RULE, {"id": clinic.payer_id}))["node"]["documentationRule"]
    assert rule["signedNote"] == "WARNING" and rule["minimumMinutes"] is None
    dana, notes = await notes_for(gql, clinic, session_id, test_clock)
    for entry in entries:
        await sign_member(dana, notes[entry])
    assert (await preview(gql, session_id))["issues"] == []


async def test_a_payer_whose_rule_asks_for_no_note_gets_no_note_check(gql, clinic, test_clock):
    await set_rule(gql, clinic, signedNote="NONE")
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    assert (await preview(gql, session_id))["issues"] == []


async def test_note_unsigned_is_a_warning_per_member_by_default_and_clears_when_signed(gql, clinic, test_clock):
    await set_rule(gql, clinic, minimumMinutes=None)
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    found = await preview(gql, session_id)
    assert codes(found) == sorted(
        [("NOTE_UNSIGNED", "WARNING", (entries[0],)), ("NOTE_UNSIGNED", "WARNING", (entries[1],))]
    )
    assert found["readyToBill"] is False
    dana, notes = await notes_for(gql, clinic, session_id, test_clock)
    await sign_member(dana, notes[entries[0]])
    assert codes(await preview(gql, session_id)) == [("NOTE_UNSIGNED", "WARNING", (entries[1],))]
    await sign_member(dana, notes[entries[1]])
    found = await preview(gql, session_id)
    assert found["issues"] == [] and found["readyToBill"] is True


async def test_a_blocking_rule_holds_the_session_until_the_note_is_signed(gql, clinic, test_clock, services):
    """A BLOCKING NOTE_UNSIGNED holds the whole session in finalization (rules.md §9); the signature
    that clears it bills the session in its own transaction, every claim clean."""
    await set_rule(gql, clinic, signedNote="BLOCKING")
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    dana, notes = await notes_for(gql, clinic, session_id, test_clock)
    await sign_member(dana, notes[entries[0]])
    assert codes(await preview(gql, session_id)) == [("NOTE_UNSIGNED", "BLOCKING", (entries[1],))]

    set_now(test_clock, at(11))
    assert await bill_due_sessions(services) == 0
    status, code, body = await gql.error(RUN, {"id": session_id})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")
    assert "awaiting finalization (The participant's note is not signed)" in body["errors"][0]["message"]
    assert (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]["claims"] == []

    await sign_member(dana, notes[entries[1]])  # the last blocking issue clears: billed in this transaction
    billed = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]
    assert len(billed["claims"]) == 2 and all(c["validation"] == [] for c in billed["claims"])
    for claim in billed["claims"]:
        submitted = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]
        assert submitted["status"] == "SUBMITTED" and pyx12_errors(submitted["edi837"]) == []


async def test_at_the_deadline_an_unsigned_note_is_billed_on_its_members_claim_only(gql, clinic, test_clock, services):
    await set_rule(gql, clinic, signedNote="BLOCKING")
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    dana, notes = await notes_for(gql, clinic, session_id, test_clock)
    await sign_member(dana, notes[entries[0]])
    set_now(test_clock, at(11))
    assert await bill_due_sessions(services) == 0
    set_now(test_clock, at(11, day=11))  # GS_FINALIZE_HOURS (24) of facility wall clock later
    assert await bill_due_sessions(services) == 1
    billed = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]
    claim_of = {c["patient"]["id"]: c for c in billed["claims"]}
    signed, unsigned = claim_of[clinic.patients[0]], claim_of[clinic.patients[1]]
    assert signed["validation"] == []  # a claim carries only its own member's note
    assert unsigned["validation"] == [{"code": "NOTE_UNSIGNED", "severity": "BLOCKING", "participantIds": [entries[1]]}]
    status, code, _ = await gql.error(SUBMIT, {"id": unsigned["id"]})
    assert (status, code) == (409, "ILLEGAL_TRANSITION")
    assert (await gql.execute(SUBMIT, {"id": signed["id"]}))["submitClaim"]["status"] == "SUBMITTED"

    await sign_member(dana, notes[entries[1]])  # documentation after billing: the unsent claims are checked again
    billed = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]
    assert next(c for c in billed["claims"] if c["id"] == unsigned["id"])["validation"] == []
    submitted = (await gql.execute(SUBMIT, {"id": unsigned["id"]}))["submitClaim"]
    assert submitted["status"] == "SUBMITTED" and pyx12_errors(submitted["edi837"]) == []


async def test_a_claim_stores_its_members_roster_entry_uuids_and_answers_their_global_ids(
    gql, clinic, test_clock, services
):
    await set_rule(gql, clinic, signedNote="BLOCKING")
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    await mark(gql, entries[0], "ATTENDED")
    await mark(gql, entries[1], "ATTENDED")
    set_now(test_clock, at(11, day=11))  # past the deadline: billed with the unsigned note on the claim
    assert await bill_due_sessions(services) == 1
    claims = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]["claims"]
    claim = next(c for c in claims if c["patient"]["id"] == clinic.patients[0])
    assert claim["validation"] == [{"code": "NOTE_UNSIGNED", "severity": "BLOCKING", "participantIds": [entries[0]]}]
    claim_id = decode_id(claim["id"], "Claim")
    async with services.sessionmaker() as db, db.begin():
        (stored,) = (await db.get(models.Claim, claim_id)).validation
        assert stored["participantIds"] == [str(decode_id(entries[0], "RosterEntry"))]
        # A claim validated when the global id itself was stored answers the same id.
        await db.execute(
            update(models.Claim)
            .where(models.Claim.id == claim_id)
            .values(validation=[stored | {"participantIds": [entries[0]]}])
        )
    claims = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]["claims"]
    claim = next(c for c in claims if c["patient"]["id"] == clinic.patients[0])
    assert claim["validation"][0]["participantIds"] == [entries[0]]


async def test_a_note_awaiting_co_signature_is_still_unsigned_where_the_rule_requires_it(gql, clinic, test_clock):
    await set_rule(gql, clinic, cosignStates=["AZ"])
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    await mark(gql, entries[0], "ATTENDED")
    await mark(gql, entries[1], "ATTENDED")
    dana, notes = await notes_for(gql, clinic, session_id, test_clock)
    await sign_member(dana, notes[entries[0]])
    found = await preview(gql, session_id)
    assert (
        codes(found)
        == sorted([("NOTE_UNSIGNED", "WARNING", (entries[0],)), ("NOTE_UNSIGNED", "WARNING", (entries[1],))])
        and "co-signature" in next(i for i in found["issues"] if i["participantIds"] == [entries[0]])["message"]
    )
    sam = clinician(gql, clinic, clinic.staff[1], scopes=("clinical.notes.cosign", "clinical.notes.write"))
    await sam.execute("mutation($id: ID!) { cosignNote(id: $id) { status } }", {"id": notes[entries[0]]})
    assert codes(await preview(gql, session_id)) == [("NOTE_UNSIGNED", "WARNING", (entries[1],))]


# ------------------------------------------------------------------ partial attendance


async def test_attended_and_late_record_default_arrival_and_departure(gql, clinic, test_clock):
    session_id, entries = await documented_room(gql, clinic, test_clock, members=3)
    set_now(test_clock, at(9, 25))
    attended = await mark(gql, entries[0], "ATTENDED")
    late = await mark(gql, entries[1], "LATE")
    await mark(gql, entries[2], "ABSENT")
    roster = {r["id"]: r for r in (await gql.execute(ROSTER_NOTES, {"id": session_id}))["groupSession"]["roster"]}
    stay = [(roster[e]["arrivedAt"], roster[e]["departedAt"]) for e in entries]
    assert [tuple(datetime.fromisoformat(t) if t else None for t in times) for times in stay][0] == (at(9), at(10, 30))
    arrived = datetime.fromisoformat(stay[1][0])
    assert arrived == at(9, 25) and stay[1][1] is None
    assert stay[2] == (None, None)
    assert [roster[e]["minutesPresent"] for e in entries] == [90, 65, 0]
    assert attended["status"] == "ATTENDED" and late["status"] == "LATE"


async def test_a_member_below_the_payers_minimum_is_not_billable_and_the_preview_says_by_how_much(
    gql, clinic, test_clock
):
    await set_rule(gql, clinic, signedNote="NONE", minimumMinutes=60)
    session_id, entries = await documented_room(gql, clinic, test_clock, members=4)
    await mark(gql, entries[0], "ATTENDED")
    await mark(gql, entries[1], "LATE", arrivedAt=at(9, 45).isoformat())
    await mark(gql, entries[2], "ATTENDED", departedAt=at(10, 0).isoformat())
    await mark(gql, entries[3], "ATTENDED")
    found = await preview(gql, session_id)
    assert found["billableCount"] == 3
    assert codes(found) == [("BELOW_MINIMUM_MINUTES", "WARNING", (entries[1],))]
    assert "45 of 60 minutes" in found["issues"][0]["message"]
    # The third member left at 10:00 (60 minutes): the minimum is met. Leaving at 09:50 is not.
    visit = (await gql.execute(SET_VISIT, {"id": entries[2], "input": {"departedAt": at(9, 50).isoformat()}}))[
        "setParticipantVisit"
    ]
    assert (visit["status"], visit["minutesPresent"]) == ("ATTENDED", 50)
    found = await preview(gql, session_id)
    assert found["billableCount"] == 2
    assert "2 participants are below" in found["issues"][0]["message"]
    assert "45 of 60 minutes" in found["issues"][0]["message"] and "50 of 60 minutes" in found["issues"][0]["message"]

    set_now(test_clock, at(11))
    await gql.execute(RUN, {"id": session_id})
    billed = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]
    assert sorted(c["patient"]["id"] for c in billed["claims"]) == sorted([clinic.patients[0], clinic.patients[3]])


async def test_a_late_member_with_no_arrival_time_blocks_where_the_payer_sets_a_minimum(
    gql, clinic, test_clock, services
):
    """Issue 24: a LATE member with no arrival counted the whole session, so the payer's minimum
    visit could never fire for a late arrival. Marked LATE after the end (nothing to default the
    arrival to), the member is MISSING_ARRIVAL_TIME, BLOCKING: the mark itself is kept (it is what
    happened), and billing waits for the time instead of billing a visit the minimum may exclude."""
    await set_rule(gql, clinic, signedNote="NONE", minimumMinutes=45)
    session_id, entries = await documented_room(gql, clinic, test_clock, members=3)
    await mark(gql, entries[0], "ATTENDED")
    await mark(gql, entries[1], "ATTENDED")
    set_now(test_clock, at(10, 35))  # the tablet catches up after the session
    marked = await mark(gql, entries[2], "LATE")
    assert marked["status"] == "LATE"
    found = await preview(gql, session_id)
    assert codes(found) == [("MISSING_ARRIVAL_TIME", "BLOCKING", (entries[2],))]
    assert "arrival time" in found["issues"][0]["message"]
    assert await bill_due_sessions(services) == 0  # awaiting finalization
    # 10:00 is 30 minutes of 90, below the minimum: recorded, the member is not billable, and the
    # visit that clears the last blocking issue bills the session.
    visit = (await gql.execute(SET_VISIT, {"id": entries[2], "input": {"arrivedAt": at(10, 0).isoformat()}}))[
        "setParticipantVisit"
    ]
    assert visit["minutesPresent"] == 30
    billed = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]
    assert billed["locked"] is True
    assert sorted(c["patient"]["id"] for c in billed["claims"]) == sorted(clinic.patients[:2])


async def test_without_a_minimum_a_late_member_needs_no_arrival_time(gql, clinic, test_clock):
    await set_rule(gql, clinic, signedNote="NONE")
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2)
    await mark(gql, entries[0], "ATTENDED")
    set_now(test_clock, at(10, 35))
    await mark(gql, entries[1], "LATE")
    assert (await preview(gql, session_id))["issues"] == []


@pytest.mark.parametrize(
    "visit, problem",
    [
        ({"arrivedAt": "2026-03-10T08:59:00-07:00"}, "arrivedAt must fall within"),
        ({"departedAt": "2026-03-10T10:31:00-07:00"}, "departedAt must fall within"),
        (
            {"arrivedAt": "2026-03-10T10:00:00-07:00", "departedAt": "2026-03-10T09:30:00-07:00"},
            "departedAt must be after arrivedAt",
        ),
        ({}, "Give at least one"),
        ({"patientAtHome": None}, "patientAtHome must be true or false"),
    ],
)
async def test_bad_visit_times_are_refused_and_change_nothing(gql, clinic, test_clock, visit, problem):
    session_id, entries = await documented_room(gql, clinic, test_clock, members=1)
    await mark(gql, entries[0], "ATTENDED")
    status, code, body = await gql.error(SET_VISIT, {"id": entries[0], "input": visit})
    assert code == "BAD_USER_INPUT" and problem in body["errors"][0]["message"]
    roster = (await gql.execute(ROSTER_NOTES, {"id": session_id}))["groupSession"]["roster"]
    assert roster[0]["minutesPresent"] == 90 and roster[0]["patientAtHome"] is None  # never assumed


async def test_times_are_only_for_members_who_were_there(gql, clinic, test_clock):
    _, entries = await documented_room(gql, clinic, test_clock, members=1)
    await mark(gql, entries[0], "ABSENT")
    status, code, _ = await gql.error(SET_VISIT, {"id": entries[0], "input": {"arrivedAt": at(9, 10).isoformat()}})
    assert code == "BAD_USER_INPUT"


# ------------------------------------------------------------------ telehealth on the 837P


async def bill_and_submit(gql, session_id) -> dict[str, str]:
    await gql.execute(RUN, {"id": session_id})
    billed = (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]
    documents = {}
    for claim in billed["claims"]:
        documents[claim["patient"]["id"]] = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    return documents


def clm05_and_sv101(text: str) -> tuple[str, str, str]:
    segments = parse_segments(text)
    clm = next(s for s in segments if s[0] == "CLM")
    sv1 = next(s for s in segments if s[0] == "SV1")
    return clm[5].split(":")[0], sv1[1], sv1[5] if len(sv1) > 5 else ""


async def test_each_modality_and_a_partial_attendee_render_a_valid_837p(gql, clinic, test_clock):
    """In person (11), video at home (10, 95), video elsewhere (02, 95), audio only (10, 93), and a
    member who left early: each claim passes pyx12 and our own checks."""
    await set_rule(gql, clinic, signedNote="NONE", minimumMinutes=45)
    session_id, entries = await documented_room(gql, clinic, test_clock, members=5)
    await gql.execute(SET_MODALITY, {"id": session_id, "m": "TELEHEALTH_VIDEO"})
    in_person, video_home, video_elsewhere, audio, partial = entries
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    await gql.execute(SET_VISIT, {"id": in_person, "input": {"modality": "IN_PERSON"}})
    await gql.execute(SET_VISIT, {"id": video_home, "input": {"patientAtHome": True}})
    await gql.execute(SET_VISIT, {"id": video_elsewhere, "input": {"patientAtHome": False}})
    await gql.execute(SET_VISIT, {"id": audio, "input": {"modality": "TELEHEALTH_AUDIO", "patientAtHome": True}})
    await gql.execute(
        SET_VISIT, {"id": partial, "input": {"modality": "IN_PERSON", "departedAt": at(9, 50).isoformat()}}
    )
    roster = {r["id"]: r for r in (await gql.execute(ROSTER_NOTES, {"id": session_id}))["groupSession"]["roster"]}
    assert [roster[e]["modality"] for e in entries] == [
        "IN_PERSON",
        "TELEHEALTH_VIDEO",
        "TELEHEALTH_VIDEO",
        "TELEHEALTH_AUDIO",
        "IN_PERSON",
    ]

    set_now(test_clock, at(11))
    documents = await bill_and_submit(gql, session_id)
    patient = dict(zip(entries, clinic.patients, strict=False))
    expected = {
        in_person: ("11", "HC:90853:HQ"),
        video_home: ("10", "HC:90853:HQ:95"),
        video_elsewhere: ("02", "HC:90853:HQ:95"),
        audio: ("10", "HC:90853:HQ:93"),
        partial: ("11", "HC:90853:HQ"),
    }
    for entry, (place, procedure) in expected.items():
        text = documents[patient[entry]]
        assert clm05_and_sv101(text) == (place, procedure, ""), entry
        assert pyx12_errors(text) == [] and edi_problems(text) == []


async def test_a_payers_own_telehealth_mapping_overrides_cms(gql, clinic, test_clock):
    rule = await set_rule(
        gql,
        clinic,
        signedNote="NONE",
        telehealth=[
            {"modality": "TELEHEALTH_VIDEO", "homePlaceOfService": "02", "otherPlaceOfService": "02", "modifier": "GT"}
        ],
    )
    mappings = {m["modality"]: m for m in rule["documentationRule"]["telehealth"]}
    assert mappings["TELEHEALTH_VIDEO"] == {
        "modality": "TELEHEALTH_VIDEO",
        "homePlaceOfService": "02",
        "otherPlaceOfService": "02",
        "modifier": "GT",
        "fromPayer": True,
    }
    assert mappings["TELEHEALTH_AUDIO"]["fromPayer"] is False and mappings["TELEHEALTH_AUDIO"]["modifier"] == "93"
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2, modality="TELEHEALTH_VIDEO")
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
        await gql.execute(SET_VISIT, {"id": entry, "input": {"patientAtHome": True}})
    set_now(test_clock, at(11))
    text = (await bill_and_submit(gql, session_id))[clinic.patients[0]]
    assert clm05_and_sv101(text) == ("02", "HC:90853:HQ:GT", "")
    assert pyx12_errors(text) == [] and edi_problems(text) == []


@pytest.mark.parametrize(
    "rule, problem",
    [
        ({"minimumMinutes": 0}, "minimumMinutes must be between 1 and 720"),
        ({"cosignStates": ["ZZ"]}, "state"),
        (
            {"telehealth": [{"modality": "IN_PERSON", "homePlaceOfService": "11", "otherPlaceOfService": "11"}]},
            "telehealth modalities",
        ),
        (
            {"telehealth": [{"modality": "TELEHEALTH_AUDIO", "homePlaceOfService": "99", "otherPlaceOfService": "02"}]},
            "'99'",
        ),
        ({"signedNote": None}, "signedNote must be"),
    ],
)
async def test_a_bad_documentation_rule_is_refused(gql, clinic, rule, problem):
    status, code, body = await gql.error(
        "mutation($input: DocumentationRuleInput!) { setPayerDocumentationRule(input: $input) { id } }",
        {"input": {"payerId": clinic.payer_id, **rule}},
    )
    assert code == "BAD_USER_INPUT" and problem in body["errors"][0]["message"]


# ------------------------------------------------------------------ issue 24: telehealth attested, 95 and 93 by the payer


async def test_where_a_telehealth_patient_was_is_attested_never_assumed(gql, clinic, test_clock, services):
    """POS 10 (home) or 02 (elsewhere) is what the clinician attests on the roster row; a row not
    attested is TELEHEALTH_LOCATION_UNATTESTED, BLOCKING, until setParticipantVisit says where."""
    await set_rule(gql, clinic, signedNote="NONE")
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2, modality="TELEHEALTH_VIDEO")
    for entry in entries:
        await mark(gql, entry, "ATTENDED")
    roster = (await gql.execute(ROSTER_NOTES, {"id": session_id}))["groupSession"]["roster"]
    assert {r["patientAtHome"] for r in roster} == {None}
    found = await preview(gql, session_id)
    [(code, severity, named)] = codes(found)
    assert (code, severity, sorted(named)) == ("TELEHEALTH_LOCATION_UNATTESTED", "BLOCKING", sorted(entries))
    set_now(test_clock, at(11))
    assert await bill_due_sessions(services) == 0
    await gql.execute(SET_VISIT, {"id": entries[0], "input": {"patientAtHome": True}})
    assert codes(await preview(gql, session_id)) == [("TELEHEALTH_LOCATION_UNATTESTED", "BLOCKING", (entries[1],))]
    await gql.execute(SET_VISIT, {"id": entries[1], "input": {"patientAtHome": False}})  # clears the last: billed
    documents = {}
    for claim in (await gql.execute(CLAIMS, {"id": session_id}))["groupSession"]["claims"]:
        documents[claim["patient"]["id"]] = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    assert clm05_and_sv101(documents[clinic.patients[0]])[0] == "10"
    assert clm05_and_sv101(documents[clinic.patients[1]])[0] == "02"


async def test_audio_only_away_from_home_is_blocking_unless_the_payer_allows_it(gql, clinic, test_clock):
    """Medicare covers audio-only (modifier 93) mental health telehealth with the patient at home
    (42 CFR 410.78(a)(3)); away from home it is BLOCKING, unless the payer's rule allows it."""
    await set_rule(gql, clinic, signedNote="NONE")
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2, modality="TELEHEALTH_AUDIO")
    for entry, home in zip(entries, (True, False), strict=True):
        await mark(gql, entry, "ATTENDED")
        await gql.execute(SET_VISIT, {"id": entry, "input": {"patientAtHome": home}})
    found = await preview(gql, session_id)
    assert codes(found) == [("AUDIO_ONLY_AWAY_FROM_HOME", "BLOCKING", (entries[1],))]
    rule = await set_rule(gql, clinic, audioOnlyAwayFromHome=True)
    assert rule["documentationRule"]["audioOnlyAwayFromHome"] is True
    assert (await preview(gql, session_id))["issues"] == []
    set_now(test_clock, at(11))
    documents = await bill_and_submit(gql, session_id)
    assert clm05_and_sv101(documents[clinic.patients[1]]) == ("02", "HC:90853:HQ:93", "")
    assert pyx12_errors(documents[clinic.patients[1]]) == []


async def test_modifier_95_follows_the_payer_medicare_ffs_takes_pos_02_or_10_without_it(gql, clinic, test_clock):
    """Since 2024 Medicare fee-for-service reads telehealth from the place of service (02, 10) and
    does not want modifier 95 on it (CY 2024 Physician Fee Schedule final rule); other payers still
    ask for 95 (CMS's default coding here). The payer's telehealth mapping, with no modifier, says so."""
    await set_rule(
        gql,
        clinic,
        signedNote="NONE",
        telehealth=[
            {"modality": "TELEHEALTH_VIDEO", "homePlaceOfService": "10", "otherPlaceOfService": "02", "modifier": None}
        ],
    )
    session_id, entries = await documented_room(gql, clinic, test_clock, members=2, modality="TELEHEALTH_VIDEO")
    for entry, home in zip(entries, (True, False), strict=True):
        await mark(gql, entry, "ATTENDED")
        await gql.execute(SET_VISIT, {"id": entry, "input": {"patientAtHome": home}})
    set_now(test_clock, at(11))
    documents = await bill_and_submit(gql, session_id)
    assert clm05_and_sv101(documents[clinic.patients[0]]) == ("10", "HC:90853:HQ", "")
    assert clm05_and_sv101(documents[clinic.patients[1]]) == ("02", "HC:90853:HQ", "")
    for text in documents.values():
        assert pyx12_errors(text) == [] and edi_problems(text) == []
