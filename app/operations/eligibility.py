"""Eligibility (issue 29): a 270 for a member and a date sent through the process's exchange (a clearinghouse;
the simulated payer in dev, tests and the demo), its 271 read and kept; per session day for a roster, on
demand, and nightly for the sessions ahead."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from app.auth import Principal
from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import coverage as queries
from app.db.queries import sessions as session_queries
from app.db.queries.reference import coverages_by_patient
from app.db.uow import UnitOfWork
from app.errors import BadInput, NotFound
from app.operations.authorizations import announce_expiring
from app.operations.common import visible_or_not_found
from app.operations.work import Services, unit_of_work
from app.rules import eligibility as rules
from app.rules.billing import Coverage, member_primary_coverage
from app.rules.edi.edi270 import render_270
from app.rules.edi.edi271 import read_271
from app.rules.edi.x12 import Envelope, Party, X12Error

log = logging.getLogger(__name__)
NIGHTLY_ACTOR = "eligibility-check"
# Sessions the nightly check looks at: those starting within this time; a member asked about in the last
# RECHECK_AFTER is not asked again.
LOOK_AHEAD = timedelta(hours=48)
RECHECK_AFTER = timedelta(hours=20)

# Sends a 270 interchange and answers with the 271 interchange (a clearinghouse, or the simulated payer).
EligibilityExchange = Callable[[str], Awaitable[str]]


def exchange_of(services: Services) -> EligibilityExchange:
    if services.eligibility is None:
        raise BadInput("No eligibility exchange is configured (GS_ELIGIBILITY_EXCHANGE)")
    return services.eligibility


async def check_eligibility(
    uow: UnitOfWork, actor: Principal, exchange: EligibilityExchange, patient_id: uuid.UUID, service_date: date
) -> models.EligibilityCheck:
    """Ask the member's primary payer whether they are covered on the date; the answer is kept."""
    patient = visible_or_not_found(actor, await uow.db.get(models.Patient, patient_id), "Patient")
    return await _check(uow, exchange, patient, service_date)


async def check_session_eligibility(
    uow: UnitOfWork, actor: Principal, exchange: EligibilityExchange, session_id: uuid.UUID
) -> list[models.EligibilityCheck]:
    """One check per roster member with a primary coverage on the session's day (the facility's date)."""
    session = visible_or_not_found(actor, await session_queries.session(uow.db, session_id), "GroupSession")
    facility = await uow.db.get(models.Facility, session.facility_id)
    day = session.starts_at.astimezone(ZoneInfo(facility.timezone)).date()
    entries = (await session_queries.rosters(uow.db, [session.id]))[0]
    checks = []
    for patient_id in sorted({e.patient_id for e in entries}):
        patient = await uow.db.get(models.Patient, patient_id)
        if await _primary(uow, patient.id, day) is not None:
            checks.append(await _check(uow, exchange, patient, day))
    return checks


async def _primary(uow: UnitOfWork, patient_id: uuid.UUID, day: date) -> models.Coverage | None:
    rows = (await coverages_by_patient(uow.db, [patient_id]))[0]
    by_id = {row.id: row for row in rows}
    chosen = member_primary_coverage(
        (
            Coverage(row.id, str(row.payer_id), row.priority, row.effective_from, row.effective_to, row.member_id)
            for row in rows
        ),
        day,
    )
    return by_id[chosen.payer_id] if chosen is not None else None


async def _check(
    uow: UnitOfWork, exchange: EligibilityExchange, patient: models.Patient, day: date
) -> models.EligibilityCheck:
    coverage = await _primary(uow, patient.id, day)
    if coverage is None:
        raise BadInput(f"The patient has no primary coverage on {day.isoformat()} to ask a payer about")
    payer = await uow.db.get(models.Payer, coverage.payer_id)
    facility = await uow.db.get(models.Facility, patient.facility_id)
    if not facility.npi:
        raise BadInput("Set the facility NPI before checking eligibility")
    now = uow.clock.now()
    check_id = uuid.uuid4()
    inquiry = rules.inquiry_for(
        rules.Member(patient.name, coverage.member_id, patient.date_of_birth, patient.sex),
        service_date=day,
        payer=Party(payer.name, payer.payer_code),
        provider=Party(facility.name, facility.npi),
        check_id=check_id,
        at=now,
    )
    envelope = Envelope(
        sender_id=facility.tax_id or facility.npi,
        receiver_id=payer.payer_code,
        control_number=await billing_queries.next_interchange_number(uow.db),
        created_at=now,
        functional_id="",
        implementation="",
    )
    sent = render_270(envelope, [inquiry])
    received = await exchange(sent)
    try:
        answer = rules.answer_for(read_271(received), check_id)
    except X12Error as error:
        raise BadInput(f"The payer's 271 could not be read: {error}") from error
    if answer is None:
        raise BadInput("The payer's 271 does not answer this inquiry (no matching trace number)")
    facts = rules.facts_of(answer)
    row = models.EligibilityCheck(
        id=check_id,
        patient_id=patient.id,
        payer_id=payer.id,
        member_id=coverage.member_id,
        service_date=day,
        status=facts.status,
        plan_name=facts.plan_name,
        coverage_from=facts.coverage_from,
        coverage_to=facts.coverage_to,
        cost_sharing=facts.cost_sharing_json(),
        rejection=facts.rejection[:300] if facts.rejection else None,
        trace_number=inquiry.trace_number,
        inquiry=sent,
        response=received,
        checked_by=uow.actor,
        checked_at=now,
    )
    uow.db.add(row)
    await uow.db.flush()
    uow.audit(
        "eligibility.check",
        "EligibilityCheck",
        row.id,
        before=None,
        after={
            "patientId": str(patient.id),
            "payerId": str(payer.id),
            "serviceDate": day.isoformat(),
            "status": facts.status,
        },
    )
    uow.record_event(
        "eligibility_checked",
        {
            "eligibilityCheckId": str(row.id),
            "patientId": str(patient.id),
            "facilityId": str(patient.facility_id),
            "serviceDate": day.isoformat(),
            "status": str(facts.status),
        },
    )
    return row


async def visible_check(db, actor: Principal, check_id: uuid.UUID) -> models.EligibilityCheck:
    row = await db.get(models.EligibilityCheck, check_id)
    if row is None:
        raise NotFound("No EligibilityCheck with that id")
    patient = await db.get(models.Patient, row.patient_id)
    visible_or_not_found(actor, patient, "EligibilityCheck")
    return row


# ---------------------------------------------------------------- nightly


async def check_upcoming(services: Services, exchange: EligibilityExchange | None = None) -> int:
    """Check every member of the live sessions starting in the next LOOK_AHEAD who was not asked about that
    day in the last RECHECK_AFTER; each check in its own transaction, so one payer's failure spares the rest.
    Every worker process runs it: each member's day is claimed in its transaction (queries.claim_member_day),
    so runs at once ask once per member."""
    exchange = exchange or exchange_of(services)
    now = services.clock.now()
    since = now - RECHECK_AFTER
    async with unit_of_work(services, NIGHTLY_ACTOR) as uow:
        members = await queries.unchecked_members(uow.db, now, now + LOOK_AHEAD)
        wanted = {(patient, starts.astimezone(ZoneInfo(zone)).date()) for _, patient, starts, zone in members}
        done = await queries.checked_pairs(uow.db, wanted, since)
    checked = 0
    for patient_id, day in sorted(wanted - done):
        try:
            async with unit_of_work(services, NIGHTLY_ACTOR) as uow:
                if not await queries.claim_member_day(uow.db, patient_id, day, since):
                    continue
                patient = await uow.db.get(models.Patient, patient_id)
                if await _primary(uow, patient_id, day) is None:
                    continue
                await _check(uow, exchange, patient, day)
            checked += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("eligibility check failed for a member")
    return checked


async def nightly(services: Services) -> None:
    """The nightly job: the members of the sessions ahead checked (when an exchange is configured), then the
    authorizations that entered their expiring window by date announced (authorizations.announce_expiring)."""
    if services.eligibility is not None:
        try:
            await check_upcoming(services)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("nightly eligibility check failed")
    async with unit_of_work(services, NIGHTLY_ACTOR) as uow:
        await announce_expiring(uow)


async def check_nightly_forever(services: Services) -> None:
    """At GS_ELIGIBILITY_CHECK_HOUR (UTC) every day, the nightly job; off when the hour is negative."""
    hour = services.settings.eligibility_check_hour
    if hour < 0:
        return
    while True:
        now = services.clock.now()
        await asyncio.sleep((rules.next_nightly_run(now, hour) - now).total_seconds())
        try:
            await nightly(services)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("nightly job failed")
