"""Prior authorizations through the endpoint: kept per patient and payer, drawn down by each billed unit in
the billing transaction, named on the claim (REF*G1), given back by a forced void; the preview's
AUTH_MISSING, AUTH_EXPIRED, AUTH_EXHAUSTED and AUTH_EXPIRING (with an event for the coordinator)."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from app.operations.eligibility import nightly
from app.rules.edi837 import edi_problems, parse_segments
from tests.support.builders_coverage import (
    AUTHS,
    CANCEL_AUTH,
    CREATE_AUTH,
    SUBMIT,
    UPDATE_AUTH,
    attended_session,
    auth_input,
    authorizations,
    authorize,
    bill,
    coverage_rule,
    issues_of,
)
from tests.support.builders_notes import no_note_rule
from tests.support.builders_sessions import SET_ATTENDANCE, at, payer_claim_number_arrives, set_now
from tests.support.x12 import pyx12_errors
from tests.test_integration_events import EVENTS


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


@pytest.fixture
async def member(gql, clinic, test_clock):
    """One covered patient at a payer with a 90853 band and no signed-note requirement (documentation has
    tests of its own); the clock at 08:00 on 10 March 2026."""
    set_now(test_clock, at(8))
    await clinic.bands([(1, 8, "90853", "40.00")])
    await no_note_rule(gql, clinic)
    patient = await clinic.add_patient("Authorized Member")
    await clinic.cover(patient)
    return patient


@pytest.fixture
async def others(gql, clinic, member) -> list[str]:
    """Two more covered patients of the group, each with an authorization of plenty of units: 90853 is a group
    code, a session of the member alone would be a group of one; two keep it a group when the member leaves."""
    patients = []
    for index, name in enumerate(("Group Member A", "Group Member B")):
        patients.append(await clinic.add_patient(name))
        await clinic.cover(patients[-1])
        await authorize(gql, clinic, patients[-1], number=f"PA-300{index + 1}", authorized=100)
    return patients


def own(claims: list[dict], patient: str) -> dict:
    (claim,) = [c for c in claims if c["patient"]["id"] == patient]
    return claim


def entry_of(session: dict, patient: str) -> str:
    return next(e["id"] for e in session["roster"] if e["patient"]["id"] == patient)


def codes(issues: list[dict]) -> dict[str, str]:
    return {i["code"]: i["severity"] for i in issues if i["code"].startswith("AUTH_")}


async def test_an_authorization_is_created_changed_and_cancelled(gql, clinic, member):
    created = await authorize(gql, clinic, member, codes=("90853", "h0015"), authorized=12)
    assert created["serviceCodes"] == ["90853", "H0015"] and created["remaining"] == 12
    assert created["status"] == "ACTIVE" and created["unitKind"] == "UNITS"
    extended = (
        await gql.execute(UPDATE_AUTH, {"a": created["id"], "i": auth_input(authorized=20, ends="2026-06-30")})
    )["updatePriorAuthorization"]
    assert (extended["authorized"], extended["endsOn"]) == (20, "2026-06-30")
    cancelled = (await gql.execute(CANCEL_AUTH, {"a": created["id"]}))["cancelPriorAuthorization"]
    assert cancelled["status"] == "CANCELLED"
    assert [a["status"] for a in await authorizations(gql, member)] == ["CANCELLED"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"serviceCodes": [], "program": None}, "service codes or a program"),
        ({"endsOn": "2026-02-01"}, "endsOn must not be before startsOn"),
        ({"authorized": 0}, "authorized must be at least 1"),
        ({"number": "PA 1/2"}, "number is 1 to 50"),
        ({"serviceCodes": ["9085"]}, "not a procedure code"),
    ],
)
async def test_a_malformed_authorization_is_refused_and_nothing_is_kept(gql, clinic, member, change, message):
    _, code, body = await gql.error(CREATE_AUTH, {"p": member, "y": clinic.payer_id, "i": {**auth_input(), **change}})
    assert code == "BAD_USER_INPUT" and message in body["errors"][0]["message"], body
    assert (await gql.execute(AUTHS, {"p": member}))["priorAuthorizations"] == []


async def test_a_payer_requiring_authorization_blocks_a_member_without_one(gql, clinic, member):
    session = await attended_session(gql, clinic, [member], at(9))
    assert codes(await issues_of(gql, session["id"])) == {}  # the payer does not ask
    await coverage_rule(gql, clinic, authorization_required=True)
    assert codes(await issues_of(gql, session["id"])) == {"AUTH_MISSING": "BLOCKING"}
    await authorize(gql, clinic, member, starts="2026-04-01", ends="2026-05-31")
    assert codes(await issues_of(gql, session["id"])) == {"AUTH_EXPIRED": "BLOCKING"}
    await authorize(gql, clinic, member, number="PA-2002", starts="2026-03-01", ends="2026-05-31")
    assert codes(await issues_of(gql, session["id"])) == {}


async def test_billing_draws_a_unit_names_it_on_the_claim_and_a_void_gives_it_back(
    gql, clinic, member, others, test_clock, services
):
    auth = await authorize(gql, clinic, member, authorized=10)
    session = await attended_session(gql, clinic, [member, *others], at(9))
    claim = own(await bill(gql, test_clock, session, at(10, 31)), member)
    assert [(a["used"], a["remaining"]) for a in await authorizations(gql, member)] == [(1, 9)]
    edi = (await gql.execute(SUBMIT, {"id": claim["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(edi) == [] and edi_problems(edi) == []
    assert ["REF", "G1", auth["number"]] in parse_segments(edi)
    await payer_claim_number_arrives(services, claim["id"], "26069000003001")  # the void's REF*F8
    entry = entry_of(session, member)
    await gql.execute(SET_ATTENDANCE, {"participantId": entry, "status": "ABSENT", "force": True, "reason": "Left"})
    assert [(a["used"], a["remaining"]) for a in await authorizations(gql, member)] == [(0, 10)]
    claims = (
        await gql.execute(
            "query($id: ID!) { groupSession(id: $id) { claims { id frequency } } }", {"id": session["id"]}
        )
    )["groupSession"]["claims"]
    void = next(c for c in claims if c["frequency"] == "VOID")
    void_edi = (await gql.execute(SUBMIT, {"id": void["id"]}))["submitClaim"]["edi837"]
    assert pyx12_errors(void_edi) == [] and ["REF", "G1", auth["number"]] in parse_segments(void_edi)


async def test_the_last_unit_exhausts_the_authorization_and_it_warns_before(gql, clinic, member, others, test_clock):
    await coverage_rule(gql, clinic, expiring_units=1, expiring_days=0)
    await authorize(gql, clinic, member, authorized=2)
    first = await attended_session(gql, clinic, [member, *others], at(9))
    assert codes(await issues_of(gql, first["id"])) == {}
    await bill(gql, test_clock, first, at(10, 31))
    second = await attended_session(gql, clinic, [member, *others], at(9, day=11))
    expiring = next(i for i in await issues_of(gql, second["id"]) if i["code"] == "AUTH_EXPIRING")
    assert expiring["severity"] == "WARNING" and "PA-1001 has 1 unit left" in expiring["message"]
    events = (await gql.execute(EVENTS, {"first": 100}))["integrationEvents"]["edges"]
    (announced,) = [e["node"]["payload"] for e in events if e["node"]["type"] == "prior_authorization_expiring"]
    assert announced["number"] == "PA-1001" and announced["remaining"] == 1
    await bill(gql, test_clock, second, at(10, 31, day=11))
    third = await attended_session(gql, clinic, [member, *others], at(9, day=12))
    assert codes(await issues_of(gql, third["id"])) == {"AUTH_EXHAUSTED": "WARNING"}
    await coverage_rule(gql, clinic, authorization_required=True)
    assert codes(await issues_of(gql, third["id"])) == {"AUTH_EXHAUSTED": "BLOCKING"}


async def test_an_authorization_cannot_fall_below_what_was_used(gql, clinic, member, others, test_clock):
    auth = await authorize(gql, clinic, member, authorized=3)
    await bill(gql, test_clock, await attended_session(gql, clinic, [member, *others], at(9)), at(10, 31))
    await bill(
        gql, test_clock, await attended_session(gql, clinic, [member, *others], at(9, day=11)), at(10, 31, day=11)
    )
    _, code, body = await gql.error(UPDATE_AUTH, {"a": auth["id"], "i": auth_input(authorized=1, number="PA-1")})
    assert code == "BAD_USER_INPUT" and "already used" in body["errors"][0]["message"]
    assert [(a["authorized"], a["used"]) for a in await authorizations(gql, member)] == [(3, 2)]


def expiring_events(events: list[dict]) -> list[dict]:
    return [e["node"]["payload"] for e in events if e["node"]["type"] == "prior_authorization_expiring"]


async def test_the_nightly_pass_announces_an_authorization_running_out_by_date_with_nothing_billed(
    gql, clinic, member, services
):
    """The coordinator hears of an authorization nearing its end though no unit was drawn: once, until it is
    extended; not one far from its end, one ended already or one cancelled. Without an eligibility exchange too."""
    await coverage_rule(gql, clinic, expiring_days=7)
    near = await authorize(gql, clinic, member, number="PA-NEAR", ends="2026-03-16")  # 6 days after 10 March
    await authorize(gql, clinic, member, number="PA-FAR", ends="2026-05-31")
    await authorize(gql, clinic, member, number="PA-OVER", starts="2026-02-01", ends="2026-03-09")
    cancelled = await authorize(gql, clinic, member, number="PA-GONE", ends="2026-03-12")
    await gql.execute(CANCEL_AUTH, {"a": cancelled["id"]})
    no_exchange = dataclasses.replace(services, eligibility=None)
    await nightly(no_exchange)
    events = (await gql.execute(EVENTS, {"first": 100}))["integrationEvents"]["edges"]
    (announced,) = expiring_events(events)
    assert (announced["number"], announced["remaining"], announced["endsOn"]) == ("PA-NEAR", 10, "2026-03-16")
    assert announced["facilityId"] and announced["patientId"]
    await nightly(services)  # announced already
    assert len(expiring_events((await gql.execute(EVENTS, {"first": 100}))["integrationEvents"]["edges"])) == 1
    await gql.execute(UPDATE_AUTH, {"a": near["id"], "i": auth_input(number="PA-NEAR", ends="2026-03-17")})
    await nightly(services)  # extended, still within 7 days: a new end to warn about
    events = expiring_events((await gql.execute(EVENTS, {"first": 100}))["integrationEvents"]["edges"])
    assert sorted(e["endsOn"] for e in events) == ["2026-03-16", "2026-03-17"]


STANDING = """query($p: ID!) { priorAuthorizations(patientId: $p) { number status standing } }"""


async def test_an_authorizations_standing_follows_its_range_units_and_the_facilitys_date(
    gql, clinic, member, others, test_clock
):
    """status stays ACTIVE or CANCELLED; standing derives where it stands on the facility's date (Phoenix)."""
    await authorize(gql, clinic, member, number="PA-LAST", authorized=1)
    await authorize(gql, clinic, member, number="PA-LATER", starts="2026-03-11", ends="2026-03-31")
    await authorize(gql, clinic, member, number="PA-ENDS", starts="2026-03-01", ends="2026-03-10", codes=("H0015",))
    gone = await authorize(gql, clinic, member, number="PA-GONE", codes=("H0035",))
    await gql.execute(CANCEL_AUTH, {"a": gone["id"]})

    async def standings() -> dict[str, tuple[str, str]]:
        found = (await gql.execute(STANDING, {"p": member}))["priorAuthorizations"]
        return {a["number"]: (a["status"], a["standing"]) for a in found}

    assert await standings() == {
        "PA-LAST": ("ACTIVE", "ACTIVE"),
        "PA-LATER": ("ACTIVE", "NOT_YET_ACTIVE"),
        "PA-ENDS": ("ACTIVE", "ACTIVE"),
        "PA-GONE": ("CANCELLED", "CANCELLED"),
    }
    await bill(gql, test_clock, await attended_session(gql, clinic, [member, *others], at(9)), at(10, 31))
    set_now(test_clock, at(23, 59))  # still 10 March in Phoenix (06:59 UTC on the 11th)
    assert await standings() == {
        "PA-LAST": ("ACTIVE", "EXHAUSTED"),
        "PA-LATER": ("ACTIVE", "NOT_YET_ACTIVE"),
        "PA-ENDS": ("ACTIVE", "ACTIVE"),
        "PA-GONE": ("CANCELLED", "CANCELLED"),
    }
    set_now(test_clock, at(0, 1, day=11))
    assert await standings() == {
        "PA-LAST": ("ACTIVE", "EXHAUSTED"),
        "PA-LATER": ("ACTIVE", "ACTIVE"),
        "PA-ENDS": ("ACTIVE", "EXPIRED"),
        "PA-GONE": ("CANCELLED", "CANCELLED"),
    }
