"""Coverage helpers for tests: prior authorizations, a payer's coverage rule, a billed one-member session."""

from __future__ import annotations

from datetime import datetime

from tests.support.builders_sessions import SET_ATTENDANCE, create_session, set_now

AUTH_FIELDS = "id number serviceCodes program unitKind authorized used remaining startsOn endsOn status"
CREATE_AUTH = f"""mutation($p: ID!, $y: ID!, $i: PriorAuthorizationInput!) {{
  createPriorAuthorization(patientId: $p, payerId: $y, input: $i) {{ {AUTH_FIELDS} }} }}"""
UPDATE_AUTH = f"""mutation($a: ID!, $i: PriorAuthorizationInput!) {{
  updatePriorAuthorization(authorizationId: $a, input: $i) {{ {AUTH_FIELDS} }} }}"""
CANCEL_AUTH = f"""mutation($a: ID!) {{ cancelPriorAuthorization(authorizationId: $a) {{ {AUTH_FIELDS} }} }}"""
AUTHS = f"""query($p: ID!) {{ priorAuthorizations(patientId: $p) {{ {AUTH_FIELDS} }} }}"""
COVERAGE_RULE = """mutation($p: ID!, $e: Boolean, $a: Boolean, $d: Int, $u: Int) {
  setPayerCoverageRule(payerId: $p, eligibilityRequired: $e, authorizationRequired: $a, expiringDays: $d,
    expiringUnits: $u) { eligibilityRequired authorizationRequired expiringDays expiringUnits } }"""
PREVIEW_ISSUES = """query($id: ID!) { groupSession(id: $id) { billingPreview {
  issues { code severity message participantIds } } } }"""
RUN = "mutation($id: ID!) { runBilling(sessionId: $id) { status locked } }"
CLAIMS = """query($id: ID!) { groupSession(id: $id) { claims { id status frequency patient { id }
  validation { code severity message } } charges { id status } } }"""
SUBMIT = "mutation($id: ID!) { submitClaim(claimId: $id) { status edi837 } }"


def auth_input(number="PA-1001", *, codes=("90853",), program=None, kind="UNITS", authorized=10,
               starts="2026-03-01", ends="2026-05-31") -> dict:  # fmt: skip
    return {
        "number": number,
        "serviceCodes": list(codes),
        "program": program,
        "unitKind": kind,
        "authorized": authorized,
        "startsOn": starts,
        "endsOn": ends,
    }


async def authorize(gql, clinic, patient: str, **kwargs) -> dict:
    data = await gql.execute(CREATE_AUTH, {"p": patient, "y": clinic.payer_id, "i": auth_input(**kwargs)})
    return data["createPriorAuthorization"]


async def authorizations(gql, patient: str) -> list[dict]:
    return (await gql.execute(AUTHS, {"p": patient}))["priorAuthorizations"]


async def coverage_rule(gql, clinic, **values) -> dict:
    names = {"eligibility_required": "e", "authorization_required": "a", "expiring_days": "d", "expiring_units": "u"}
    variables = {"p": clinic.payer_id, **{names[k]: v for k, v in values.items()}}
    return (await gql.execute(COVERAGE_RULE, variables))["setPayerCoverageRule"]


async def issues_of(gql, session_id: str) -> list[dict]:
    return (await gql.execute(PREVIEW_ISSUES, {"id": session_id}))["groupSession"]["billingPreview"]["issues"]


async def attended_session(gql, clinic, patients: list[str], starts_at: datetime, **overrides) -> dict:
    """A session of the patients, everyone marked ATTENDED."""
    session = await create_session(gql, clinic, patients=patients, starts_at=starts_at, **overrides)
    for entry in session["roster"]:
        await gql.execute(SET_ATTENDANCE, {"participantId": entry["id"], "status": "ATTENDED"})
    return session


async def bill(gql, test_clock, session: dict, now: datetime) -> list[dict]:
    set_now(test_clock, now)
    await gql.execute(RUN, {"id": session["id"]})
    return (await gql.execute(CLAIMS, {"id": session["id"]}))["groupSession"]["claims"]
