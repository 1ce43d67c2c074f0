"""The last authorized unit under concurrency: two sessions of one patient billed at the same moment by real
concurrent requests; the authorization's row lock lets one take the unit, and the other's claim says the
authorization ran out. Many trials, each with a fresh patient and authorization."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.db import models
from app.ids import decode_id
from tests.support.builders_coverage import CLAIMS, RUN, attended_session, authorizations, authorize
from tests.support.builders_sessions import at, set_now

TRIALS = 12


async def test_two_sessions_never_both_take_the_last_unit(gql, clinic, test_clock, services):
    set_now(test_clock, at(6, day=2))
    await clinic.bands([(1, 8, "90853", "40.00")])
    for trial in range(TRIALS):
        day = 2 + trial
        set_now(test_clock, at(6, day=day))
        patient = await clinic.add_patient(f"Trial {trial}")
        companion = await clinic.add_patient(f"Companion {trial}")  # 90853 is a group code: two members
        for member in (patient, companion):
            await clinic.cover(member)
        await authorize(gql, clinic, patient, authorized=1, starts="2026-03-01", ends="2026-03-31")
        sessions = [
            await attended_session(gql, clinic, [patient, companion], at(7, day=day), title="Early group"),
            await attended_session(gql, clinic, [patient, companion], at(9, day=day), title="Late group"),
        ]
        set_now(test_clock, at(11, day=day))
        responses = await asyncio.gather(*(gql.post(RUN, {"id": s["id"]}) for s in sessions))
        assert [r.json().get("errors") for r in responses] == [None, None]
        claims = [
            c
            for s in sessions
            for c in (await gql.execute(CLAIMS, {"id": s["id"]}))["groupSession"]["claims"]
            if c["patient"]["id"] == patient
        ]
        assert len(claims) == 2, claims
        flagged = [c for c in claims if "AUTH_EXHAUSTED" in {i["code"] for i in c["validation"]}]
        assert len(flagged) == 1, (trial, claims)
        assert [(a["used"], a["remaining"]) for a in await authorizations(gql, patient)] == [(1, 0)]
        async with services.sessionmaker() as db:
            uses = await db.scalar(
                select(func.count())
                .select_from(models.AuthorizationUse)
                .join(models.Charge, models.Charge.id == models.AuthorizationUse.charge_id)
                .where(models.Charge.patient_id == decode_id(patient, "Patient"))
            )
        assert uses == 1
