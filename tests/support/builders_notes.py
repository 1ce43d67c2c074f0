"""Note helpers for tests: the documents, a clinician's client (the token's subject is their staff
id), and a room with covered, supervised members."""

from __future__ import annotations

from app.rules.scopes import FACILITATOR_SCOPES, Scope
from tests.support.builders_sessions import at, create_session, set_now

NOTE_FIELDS = "id status signedAt cosignedAt author { id } cosignedBy { id } addenda { text author { id } createdAt }"
GROUP_NOTE_FIELDS = f"{NOTE_FIELDS} topic interventions groupDynamics freeText template {{ topicPrompt }}"
MEMBER_NOTE_FIELDS = f"{NOTE_FIELDS} participation responseToInterventions progressTowardGoals riskFlags patient {{ id }} participant {{ id }}"

CREATE_GROUP_NOTE = f"""mutation($sessionId: ID!, $input: GroupNoteInput!) {{
  createGroupNote(sessionId: $sessionId, input: $input) {{ {GROUP_NOTE_FIELDS} memberNotes {{ {MEMBER_NOTE_FIELDS} }} }} }}"""
UPDATE_GROUP_NOTE = f"""mutation($id: ID!, $input: GroupNoteInput!) {{
  updateGroupNote(id: $id, input: $input) {{ {GROUP_NOTE_FIELDS} }} }}"""
UPDATE_MEMBER_NOTE = f"""mutation($id: ID!, $input: MemberNoteInput!) {{
  updateMemberNote(id: $id, input: $input) {{ {MEMBER_NOTE_FIELDS} }} }}"""
SIGN = f"""mutation($id: ID!) {{ signNote(id: $id) {{ __typename {NOTE_FIELDS} }} }}"""
COSIGN = f"""mutation($id: ID!) {{ cosignNote(id: $id) {{ __typename {NOTE_FIELDS} }} }}"""
ADDENDUM = (
    """mutation($id: ID!, $text: String!) { addNoteAddendum(noteId: $id, text: $text) { id text author { id } } }"""
)
MEMBER_NOTE = f"""query($id: ID!) {{ memberNote(id: $id) {{ {MEMBER_NOTE_FIELDS} }} }}"""
GROUP_NOTE = (
    f"""query($id: ID!) {{ groupNote(sessionId: $id) {{ {GROUP_NOTE_FIELDS} memberNotes {{ id status }} }} }}"""
)
SET_RULE = """mutation($input: DocumentationRuleInput!) { setPayerDocumentationRule(input: $input) {
  id documentationRule { signedNote minimumMinutes cosignStates audioOnlyAwayFromHome
    telehealth { modality homePlaceOfService otherPlaceOfService modifier fromPayer } } } }"""
SET_VISIT = """mutation($id: ID!, $input: ParticipantVisitInput!) { setParticipantVisit(participantId: $id, input: $input) {
  id status arrivedAt departedAt minutesPresent modality patientAtHome noteStatus } }"""
ROSTER_NOTES = """query($id: ID!) { groupSession(id: $id) { modality roster {
  id status arrivedAt departedAt minutesPresent modality patientAtHome noteStatus patient { id } } } }"""

CLINICIAN_SCOPES = (*FACILITATOR_SCOPES, Scope.NOTES_READ, Scope.NOTES_WRITE)
SUPERVISOR_SCOPES = (*CLINICIAN_SCOPES, Scope.NOTES_COSIGN)


def clinician(gql, clinic, staff_id: str, scopes=CLINICIAN_SCOPES):
    """The staff member's client: their token's subject is their staff id, in the clinic's facility."""
    return gql.as_(subject=staff_id, scopes=scopes, facilities=[clinic.facility_id])


async def documented_room(gql, clinic, test_clock, members: int = 4, **session):
    """Covered members supervised by staff[1], in a 09:00-10:30 session it is now 09:20 in."""
    set_now(test_clock, at(9, 20))
    await clinic.bands([(1, 4, "90853", "40.00"), (5, 8, "90853", "30.00")])
    for i in range(members):
        patient = await clinic.add_patient(f"Member {i}")
        await clinic.cover(patient)
        await clinic.supervise(clinic.staff[1], patient)
    created = await create_session(gql, clinic, starts_at=at(9), **session)
    entries = {e["patient"]["id"]: e["id"] for e in created["roster"]}
    return created["id"], [entries[p] for p in clinic.patients]


async def set_rule(gql, clinic, **rule) -> dict:
    return (await gql.execute(SET_RULE, {"input": {"payerId": clinic.payer_id, **rule}}))["setPayerDocumentationRule"]


async def no_note_rule(gql, clinic, payer_id: str | None = None) -> dict:
    """The payer asks for no signed note (its rule says NONE): for tests about something else, as a
    payer with no rule of its own is held to the default, a signed note as a WARNING."""
    return (await gql.execute(SET_RULE, {"input": {"payerId": payer_id or clinic.payer_id, "signedNote": "NONE"}}))[
        "setPayerDocumentationRule"
    ]
