"""Eligibility through the endpoint: a 270 for a member and a date answered by the simulated payer's 271,
kept with its plan, dates and behavioral health cost sharing; the preview's COVERAGE_INACTIVE and
COVERAGE_NOT_VERIFIED; the nightly check of the sessions ahead. pyx12 reads every 270 and 271."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta, timezone

import pytest

from app.db import models
from app.ids import decode_id
from app.operations.eligibility import check_nightly_forever, check_upcoming
from app.payer_sim.exchange import simulated_exchange
from app.rules.eligibility import next_nightly_run
from tests.support.builders_sessions import at, create_session, set_now
from tests.support.x12 import pyx12_errors

CHECK = """mutation($p: ID!, $d: Date!) { checkEligibility(patientId: $p, serviceDate: $d) {
  id status planName coverageFrom coverageTo memberId serviceDate rejection inquiry response
  costSharing { serviceType copay coinsurance } payer { payerCode } patient { id } } }"""
CHECK_SESSION = """mutation($s: ID!) { checkSessionEligibility(sessionId: $s) { status patient { id } } }"""
CHECKS = """query($p: ID!) { eligibilityChecks(patientId: $p) { status serviceDate } }"""
RULE = """mutation($p: ID!, $e: Boolean) { setPayerCoverageRule(payerId: $p, eligibilityRequired: $e) {
  eligibilityRequired authorizationRequired expiringDays expiringUnits } }"""
PREVIEW = """query($id: ID!) { groupSession(id: $id) { billingPreview {
  issues { code severity message participantIds } } } }"""


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


async def member_id_of(services, patient_gid: str) -> str:
    async with services.sessionmaker() as db:
        coverage = (
            await db.execute(
                models.Coverage.__table__.select().where(
                    models.Coverage.patient_id == decode_id(patient_gid, "Patient")
                )
            )
        ).first()
        return coverage.member_id


def answering_inactive(app, services, monkeypatch, *members: str):
    """The server's simulated payer, answering the members inactive."""
    changed = dataclasses.replace(services, eligibility=simulated_exchange(members))
    monkeypatch.setattr(app.state.graphql, "services", changed)
    return changed


async def test_an_active_members_271_is_kept_with_plan_dates_and_cost_sharing(gql, clinic):
    patient = await clinic.add_patient("Rivera, Ana")
    await clinic.cover(patient)
    check = (await gql.execute(CHECK, {"p": patient, "d": "2026-03-10"}))["checkEligibility"]
    assert check["status"] == "ACTIVE" and check["planName"] == "BEHAVIORAL HEALTH PLAN"
    assert (check["coverageFrom"], check["coverageTo"]) == ("2026-01-01", "2026-12-31")
    assert check["costSharing"] == [
        {"serviceType": "AI", "copay": "5.00", "coinsurance": "0.2"},
        {"serviceType": "MH", "copay": "5.00", "coinsurance": "0.2"},
    ]
    assert check["serviceDate"] == "2026-03-10" and check["rejection"] is None
    assert "EQ*MH~" in check["inquiry"] and "NM1*IL*1*RIVERA*ANA" in check["inquiry"].upper()
    assert pyx12_errors(check["inquiry"]) == []
    assert pyx12_errors(check["response"]) == []
    assert [c["status"] for c in (await gql.execute(CHECKS, {"p": patient}))["eligibilityChecks"]] == ["ACTIVE"]


async def test_an_inactive_member_is_kept_inactive(gql, clinic, app, services, monkeypatch):
    patient = await clinic.add_patient()
    await clinic.cover(patient)
    answering_inactive(app, services, monkeypatch, await member_id_of(services, patient))
    check = (await gql.execute(CHECK, {"p": patient, "d": "2026-03-10"}))["checkEligibility"]
    assert check["status"] == "INACTIVE" and check["coverageTo"] == "2026-02-28"
    assert pyx12_errors(check["inquiry"]) == [] and pyx12_errors(check["response"]) == []


async def test_a_patient_without_primary_coverage_is_refused_and_nothing_is_kept(gql, clinic):
    patient = await clinic.add_patient()
    _, code, body = await gql.error(CHECK, {"p": patient, "d": "2026-03-10"})
    assert code == "BAD_USER_INPUT" and "no primary coverage" in body["errors"][0]["message"]
    assert (await gql.execute(CHECKS, {"p": patient}))["eligibilityChecks"] == []


async def test_the_preview_blocks_an_inactive_member_before_the_session(
    gql, clinic, test_clock, app, services, monkeypatch
):
    set_now(test_clock, at(8))
    await clinic.bands([(1, 8, "90853", "40.00")])
    active, lapsed = await clinic.add_patient("Active Member"), await clinic.add_patient("Lapsed Member")
    for patient in (active, lapsed):
        await clinic.cover(patient)
    session = await create_session(gql, clinic, starts_at=at(9))
    entries = {e["patient"]["id"]: e["id"] for e in session["roster"]}
    answering_inactive(app, services, monkeypatch, await member_id_of(services, lapsed))
    checked = (await gql.execute(CHECK_SESSION, {"s": session["id"]}))["checkSessionEligibility"]
    assert sorted(c["status"] for c in checked) == ["ACTIVE", "INACTIVE"]
    issues = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["billingPreview"]["issues"]
    inactive = next(i for i in issues if i["code"] == "COVERAGE_INACTIVE")
    assert inactive["severity"] == "BLOCKING" and inactive["participantIds"] == [entries[lapsed]]
    assert "COVERAGE_NOT_VERIFIED" not in [i["code"] for i in issues]


async def test_a_payer_wanting_a_check_warns_until_the_day_is_verified(gql, clinic, test_clock):
    set_now(test_clock, at(8))
    await clinic.bands([(1, 8, "90853", "40.00")])
    rule = (await gql.execute(RULE, {"p": clinic.payer_id, "e": True}))["setPayerCoverageRule"]
    assert rule == {"eligibilityRequired": True, "authorizationRequired": False, "expiringDays": 7, "expiringUnits": 2}
    patient = await clinic.add_patient()
    await clinic.cover(patient)
    session = await create_session(gql, clinic, starts_at=at(9))
    issues = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["billingPreview"]["issues"]
    unverified = next(i for i in issues if i["code"] == "COVERAGE_NOT_VERIFIED")
    assert unverified["severity"] == "WARNING" and len(unverified["participantIds"]) == 1
    await gql.execute(CHECK_SESSION, {"s": session["id"]})
    issues = (await gql.execute(PREVIEW, {"id": session["id"]}))["groupSession"]["billingPreview"]["issues"]
    assert not {"COVERAGE_NOT_VERIFIED", "COVERAGE_INACTIVE"} & {i["code"] for i in issues}


async def test_the_nightly_check_asks_once_for_every_member_of_the_sessions_ahead(gql, clinic, test_clock, services):
    set_now(test_clock, at(8))
    patients = [await clinic.add_patient() for _ in range(3)]
    for patient in patients[:2]:
        await clinic.cover(patient)  # the third has no coverage: nobody to ask
    await create_session(gql, clinic, starts_at=at(9) + timedelta(days=1))
    assert await check_upcoming(services) == 2
    assert await check_upcoming(services) == 0  # asked in the last 20 hours
    for patient in patients[:2]:
        assert [c["status"] for c in (await gql.execute(CHECKS, {"p": patient}))["eligibilityChecks"]] == ["ACTIVE"]


async def test_two_nightly_runs_at_once_ask_once_per_member(gql, clinic, test_clock, services):
    """Every worker process runs the nightly check at the same hour: each member's day is claimed in the
    check's transaction, so two runs at once send one 270 per member (the payer's answer is slowed so the
    runs overlap: without the claim both would ask about everyone)."""
    set_now(test_clock, at(8))

    async def slow_payer(inquiry: str) -> str:
        await asyncio.sleep(0.05)
        return await services.eligibility(inquiry)

    for trial in range(4):
        patients = [await clinic.add_patient(f"Trial{trial}, Member{n}") for n in range(3)]
        for patient in patients:
            await clinic.cover(patient)
        await create_session(gql, clinic, patients, starts_at=at(9) + timedelta(days=1, minutes=trial))
        runs = await asyncio.gather(check_upcoming(services, slow_payer), check_upcoming(services, slow_payer))
        assert sum(runs) == 3, (trial, runs)
        for patient in patients:
            checks = (await gql.execute(CHECKS, {"p": patient}))["eligibilityChecks"]
            assert [c["status"] for c in checks] == ["ACTIVE"], (trial, patient)


@pytest.mark.parametrize(
    ("now", "hour", "expected"),
    [
        ("2026-03-10T05:59:00", 6, "2026-03-10T06:00:00"),
        ("2026-03-10T06:00:00", 6, "2026-03-11T06:00:00"),
        ("2026-03-10T23:30:00", 0, "2026-03-11T00:00:00"),
    ],
)
def test_the_nightly_run_is_the_next_hour_strictly_ahead(now, hour, expected):
    moment = datetime.fromisoformat(now).replace(tzinfo=timezone.utc)
    assert next_nightly_run(moment, hour) == datetime.fromisoformat(expected).replace(tzinfo=timezone.utc)


async def test_the_nightly_loop_is_off_without_an_hour(services):
    """It returns at once; a loop with an hour sleeps until next_nightly_run, with or without an exchange (the
    authorizations' daily pass runs without one)."""
    off_hour = dataclasses.replace(services, settings=dataclasses.replace(services.settings, eligibility_check_hour=-1))
    assert await asyncio.wait_for(check_nightly_forever(off_hour), timeout=1) is None
    for running in (services, dataclasses.replace(services, eligibility=None)):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(check_nightly_forever(running), timeout=0.2)
