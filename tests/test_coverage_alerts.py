"""The enrollment and the group's roster show a patient's coverage problems: an authorization that runs out
(by date, units or days) before the group's last session, none where the payer requires one, and coverage the
payer answered inactive."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from app.payer_sim.exchange import simulated_exchange
from tests.support.builders_coverage import authorize, coverage_rule
from tests.support.builders_scheduling import add_occurrence, create_group
from tests.support.builders_sessions import at, set_now
from tests.test_eligibility import CHECK, member_id_of

ENROLL = """mutation($g: ID!, $p: ID!) { enrollPatient(groupId: $g, patientId: $p) {
  enrollment { patient { id } coverageAlerts { code severity message } } } }"""
ROSTER = """query($id: ID!) { occurrence(id: $id) { session { roster { patient { id }
  coverageAlerts { code severity message } } } } }"""


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


async def test_the_enrollment_and_roster_show_what_runs_out_before_the_groups_end(
    gql, clinic, test_clock, app, services, monkeypatch
):
    set_now(test_clock, at(8))
    group = await create_group(gql, clinic)
    first = await add_occurrence(gql, group, "2026-03-17")
    for day in ("2026-03-24", "2026-04-07"):
        await add_occurrence(gql, group, day)
    names = ["Ends Early", "Few Units", "Lapsed", "Covered"]
    patients = {name: await clinic.add_patient(name) for name in names}
    for patient in patients.values():
        await clinic.cover(patient)
    await authorize(gql, clinic, patients["Ends Early"], codes=(), program="IOP", kind="DAYS", ends="2026-03-31")
    await authorize(gql, clinic, patients["Few Units"], codes=(), program="IOP", authorized=2, ends="2026-12-31")
    await authorize(gql, clinic, patients["Covered"], codes=(), program="IOP", authorized=20, ends="2026-12-31")
    lapsed = await member_id_of(services, patients["Lapsed"])
    monkeypatch.setattr(
        app.state.graphql, "services", dataclasses.replace(services, eligibility=simulated_exchange([lapsed]))
    )
    await gql.execute(CHECK, {"p": patients["Lapsed"], "d": "2026-03-10"})
    expected = {
        "Ends Early": [
            ("AUTH_ENDS_BEFORE_GROUP", "WARNING", "ends 2026-03-31, before the group's last session on 2026-04-07")
        ],
        "Few Units": [("AUTH_ENDS_BEFORE_GROUP", "WARNING", "has 2 units left for 3 sessions")],
        "Lapsed": [("COVERAGE_INACTIVE", "BLOCKING", "answered coverage inactive on 2026-03-10")],
        "Covered": [],
    }
    for name, patient in patients.items():
        alerts = (await gql.execute(ENROLL, {"g": group, "p": patient}))["enrollPatient"]["enrollment"][
            "coverageAlerts"
        ]
        assert [(a["code"], a["severity"]) for a in alerts] == [(c, s) for c, s, _ in expected[name]], name
        assert all(m in a["message"] for a, (_, _, m) in zip(alerts, expected[name], strict=True)), alerts
    roster = (await gql.execute(ROSTER, {"id": first["id"]}))["occurrence"]["session"]["roster"]
    by_patient = {e["patient"]["id"]: [a["code"] for a in e["coverageAlerts"]] for e in roster}
    assert by_patient == {patients[n]: [c for c, _, _ in expected[n]] for n in names}


async def test_a_payer_requiring_authorization_flags_an_enrollment_without_one(gql, clinic, test_clock):
    set_now(test_clock, at(8))
    await coverage_rule(gql, clinic, authorization_required=True)
    group = await create_group(gql, clinic)
    await add_occurrence(gql, group, "2026-03-17")
    patient = await clinic.add_patient()
    await clinic.cover(patient)
    alerts = (await gql.execute(ENROLL, {"g": group, "p": patient}))["enrollPatient"]["enrollment"]["coverageAlerts"]
    assert [(a["code"], a["severity"]) for a in alerts] == [("AUTH_MISSING", "BLOCKING")]
