"""Coverage as the payer answers it: eligibility checks, payers' coverage rules, prior authorizations and what
charges drew from them, per-diem programs."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries.common import core_rows
from app.rules.authorizations import (
    Authorization,
    AuthorizationFacts,
    AuthorizationStatus,
    PayerAuthorizationRule,
    UnitKind,
)
from app.rules.billing import Coverage, member_primary_coverage
from app.rules.claims import ChargeStatus
from app.rules.coverage_alerts import CoverageAlert, LatestAnswer, coverage_alerts
from app.rules.eligibility import CoverageAnswer, CoverageFacts
from app.rules.program_billing import PROGRAMS, ProgramRule, ProgramStay


def authorization(row: Any) -> Authorization:
    return Authorization(
        id=row.id,
        payer_id=row.payer_id,
        number=row.number,
        service_codes=tuple(row.service_codes or ()),
        program=row.program,
        unit_kind=UnitKind(row.unit_kind),
        authorized=row.authorized,
        used=row.used,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        status=AuthorizationStatus(row.status),
    )


def authorization_rule(row: Any | None) -> PayerAuthorizationRule:
    if row is None:
        return PayerAuthorizationRule()
    return PayerAuthorizationRule(row.authorization_required, row.expiring_days, row.expiring_units)


async def coverage_rules(db: AsyncSession, payer_ids: Collection[uuid.UUID] | None = None) -> dict[uuid.UUID, Any]:
    rule = models.PayerCoverageRule
    query = select(rule)
    if payer_ids is not None:
        query = query.where(rule.payer_id.in_(list(payer_ids)))
    return {row.payer_id: row for row in (await db.scalars(query)).all()}


async def authorizations_by_patient(
    db: AsyncSession, patient_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Authorization]]:
    if not patient_ids:
        return {}
    auth = models.PriorAuthorization
    found: dict[uuid.UUID, list[Authorization]] = defaultdict(list)
    for row in await core_rows(
        db, select(auth).where(auth.patient_id.in_(list(patient_ids))).order_by(auth.ends_on, auth.number)
    ):
        found[row.patient_id].append(authorization(row))
    return found


async def attach(db: AsyncSession, sessions: Mapping[uuid.UUID, Any], patient_ids: Collection[uuid.UUID]) -> None:
    """Give billing inputs (db.queries.billing.BillingInputs) their coverage and authorization facts, in one
    statement (and, for program sessions with a per-diem payer, their programs and the day's stays)."""
    if not patient_ids:
        return
    wanted = {
        (patient, inputs.session_date) for inputs in sessions.values() for patient in inputs.patient_by_entry.values()
    }
    answers, by_patient, rules = await coverage_facts(db, wanted, patient_ids)
    required = frozenset(payer for payer, rule in rules.items() if rule[0])
    auth_rules = {payer: rule[1] for payer, rule in rules.items()}
    for inputs in sessions.values():
        inputs.coverage = CoverageFacts(
            {(p, payer): a for (p, payer, day), a in answers.items() if day == inputs.session_date}, required
        )
        inputs.authorizations = AuthorizationFacts(by_patient, auth_rules)
    await _attach_programs(db, [s for s in sessions.values() if s.session.group_type in PROGRAMS])


async def coverage_facts(
    db: AsyncSession, wanted: Collection[tuple[uuid.UUID, date]], patient_ids: Collection[uuid.UUID]
) -> tuple[
    dict[tuple[uuid.UUID, uuid.UUID, date], CoverageAnswer],
    dict[uuid.UUID, list[Authorization]],
    dict[uuid.UUID, tuple[bool, PayerAuthorizationRule]],
]:
    """The newest eligibility answer per (patient, payer, date) for the (patient, date) pairs, the patients'
    authorizations, and every payer's coverage rule (eligibility required, the authorization rule): one
    statement of three JSON aggregates."""
    check, auth, rule = models.EligibilityCheck, models.PriorAuthorization, models.PayerCoverageRule
    latest = (
        select(check.patient_id, check.payer_id, check.service_date, check.status)
        .distinct(check.patient_id, check.payer_id, check.service_date)
        .where(tuple_(check.patient_id, check.service_date).in_(list(wanted)))
        .order_by(check.patient_id, check.payer_id, check.service_date, check.checked_at.desc())
        .subquery()
    )
    answers_json = select(
        func.json_agg(func.json_build_array(latest.c.patient_id, latest.c.payer_id, latest.c.service_date,
                                            latest.c.status), type_=JSON)
    ).scalar_subquery()  # fmt: skip
    auths_json = select(
        func.json_agg(
            func.json_build_array(auth.id, auth.patient_id, auth.payer_id, auth.number, auth.service_codes,
                                  auth.program, auth.unit_kind, auth.authorized, auth.used, auth.starts_on,
                                  auth.ends_on, auth.status),
            type_=JSON,
        )
    ).where(auth.patient_id.in_(list(patient_ids))).scalar_subquery()  # fmt: skip
    rules_json = select(
        func.json_agg(func.json_build_array(rule.payer_id, rule.eligibility_required, rule.authorization_required,
                                            rule.expiring_days, rule.expiring_units), type_=JSON)
    ).scalar_subquery()  # fmt: skip
    answers_rows, auth_rows, rule_rows = (await db.execute(select(answers_json, auths_json, rules_json))).one()
    answers = {
        (uuid.UUID(p), uuid.UUID(payer), date.fromisoformat(day)): CoverageAnswer(status)
        for p, payer, day, status in answers_rows or ()
    }
    by_patient: dict[uuid.UUID, list[Authorization]] = defaultdict(list)
    for pk, patient, payer, number, codes, program, kind, authorized, used, starts, ends, status in sorted(
        auth_rows or (), key=lambda r: (r[10], r[3])
    ):
        by_patient[uuid.UUID(patient)].append(
            Authorization(
                uuid.UUID(pk), uuid.UUID(payer), number, tuple(codes or ()), program, UnitKind(kind), authorized,
                used, date.fromisoformat(starts), date.fromisoformat(ends), AuthorizationStatus(status),
            )
        )  # fmt: skip
    rules = {
        uuid.UUID(payer): (eligibility, PayerAuthorizationRule(required, days, units))
        for payer, eligibility, required, days, units in rule_rows or ()
    }
    return answers, by_patient, rules


async def _attach_programs(db: AsyncSession, sessions: Sequence[Any]) -> None:
    """Program sessions learn how their members' payers bill the program per diem, and the members' stays in
    the program that day: one statement for the rules, one per session with a per-diem payer."""
    if not sessions:
        return
    payers = {c.payer_id for s in sessions for m in s.members for c in m.coverages}
    programs = await programs_of_payers(db, payers)
    for inputs in sessions:
        inputs.programs = {
            payer: program_rule(row)
            for (payer, program), row in programs.items()
            if program == inputs.session.group_type
        }
        if not inputs.programs:
            continue
        zone = ZoneInfo(inputs.timezone)
        window = (
            datetime.combine(inputs.session_date, time(), zone),
            datetime.combine(inputs.session_date + timedelta(days=1), time(), zone),
        )
        inputs.program_stays = await program_stays(
            db, inputs.session.facility_id, inputs.session.group_type, window, set(inputs.patient_by_entry.values())
        )


def program_rule(row: Any) -> ProgramRule:
    return ProgramRule(
        row.program, row.procedure_code, tuple(row.modifiers or ()), row.rate, row.minimum_hours, row.sessions_bill_too
    )


# ---------------------------------------------------------------- eligibility checks


async def checks_page(db: AsyncSession, patient_id: uuid.UUID, limit: int = 50) -> list[models.EligibilityCheck]:
    check = models.EligibilityCheck
    return list(
        (
            await db.scalars(
                select(check)
                .where(check.patient_id == patient_id)
                .order_by(check.checked_at.desc(), check.id)
                .limit(limit)
            )
        ).all()
    )


async def latest_checks_by_patient(
    db: AsyncSession, patient_ids: Sequence[uuid.UUID], on: date
) -> list[models.EligibilityCheck | None]:
    """Each patient's newest check for the date, in the order asked."""
    check = models.EligibilityCheck
    rows = (
        await db.scalars(
            select(check)
            .distinct(check.patient_id)
            .where(check.patient_id.in_(list(patient_ids)), check.service_date == on)
            .order_by(check.patient_id, check.checked_at.desc())
        )
    ).all()
    by_patient = {row.patient_id: row for row in rows}
    return [by_patient.get(p) for p in patient_ids]


async def unchecked_members(
    db: AsyncSession, starts_from: datetime, starts_before: datetime
) -> list[tuple[uuid.UUID, uuid.UUID, datetime, str]]:
    """(session id, patient id, session start, facility time zone) of every roster member of the live sessions
    starting in the window: the nightly check's work list."""
    session, roster = models.GroupSession, models.RosterEntry
    rows = await core_rows(
        db,
        select(session.id, roster.patient_id, session.starts_at, models.Facility.timezone)
        .join(roster, roster.session_id == session.id)
        .join(models.Facility, models.Facility.id == session.facility_id)
        .where(
            session.starts_at >= starts_from,
            session.starts_at < starts_before,
            session.cancelled_at.is_(None),
        )
        .order_by(session.starts_at, session.id, roster.patient_id),
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def checked_pairs(
    db: AsyncSession, wanted: Iterable[tuple[uuid.UUID, date]], since: datetime
) -> set[tuple[uuid.UUID, date]]:
    """The (patient, date) pairs already asked about since the moment."""
    wanted = list(wanted)
    if not wanted:
        return set()
    check = models.EligibilityCheck
    rows = await core_rows(
        db,
        select(check.patient_id, check.service_date).where(
            tuple_(check.patient_id, check.service_date).in_(wanted), check.checked_at >= since
        ),
    )
    return {(r[0], r[1]) for r in rows}


async def claim_member_day(db: AsyncSession, patient_id: uuid.UUID, day: date, since: datetime) -> bool:
    """Whether this transaction may ask about the member's day: it holds the day's advisory lock (to its end;
    another run holding it is checking the member now) and no check of the day committed since the moment
    (read after the lock, so a run that finished the member first is seen)."""
    key = func.hashtextextended(f"eligibility-check:{patient_id}:{day.isoformat()}", 0)
    if not (await db.execute(select(func.pg_try_advisory_xact_lock(key)))).scalar_one():
        return False
    return not await checked_pairs(db, [(patient_id, day)], since)


# ---------------------------------------------------------------- payer rules


async def lock_coverage_rule(db: AsyncSession, payer_id: uuid.UUID, now: datetime) -> models.PayerCoverageRule:
    """The payer's coverage rule, created with its defaults if it had none, locked for update."""
    await db.execute(
        upsert(models.PayerCoverageRule)
        .values(
            payer_id=payer_id,
            eligibility_required=False,
            authorization_required=False,
            expiring_days=7,
            expiring_units=2,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["payer_id"])
    )
    return await db.get(models.PayerCoverageRule, payer_id, with_for_update=True, populate_existing=True)


async def lock_program(db: AsyncSession, payer_id: uuid.UUID, program: str) -> models.PayerProgram | None:
    return await db.get(models.PayerProgram, (payer_id, program), with_for_update=True, populate_existing=True)


async def programs_of_payers(
    db: AsyncSession, payer_ids: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], models.PayerProgram]:
    if not payer_ids:
        return {}
    program = models.PayerProgram
    rows = (await db.scalars(select(program).where(program.payer_id.in_(list(payer_ids))))).all()
    return {(row.payer_id, row.program): row for row in rows}


# ---------------------------------------------------------------- authorizations


async def lock_authorization(db: AsyncSession, authorization_id: uuid.UUID) -> models.PriorAuthorization | None:
    return await db.get(models.PriorAuthorization, authorization_id, with_for_update=True, populate_existing=True)


async def unannounced_authorizations(db: AsyncSession) -> list[tuple[models.PriorAuthorization, uuid.UUID, str]]:
    """Every ACTIVE authorization not yet announced as expiring, with its patient's facility and its time zone, locked
    for update; one another transaction holds is skipped (a billing draw or another process's daily pass
    announces it, or the next pass does)."""
    auth = models.PriorAuthorization
    rows = (
        await db.execute(
            select(auth, models.Facility.id, models.Facility.timezone)
            .join(models.Patient, models.Patient.id == auth.patient_id)
            .join(models.Facility, models.Facility.id == models.Patient.facility_id)
            .where(auth.status == AuthorizationStatus.ACTIVE, auth.expiring_announced_at.is_(None))
            .order_by(auth.id)
            .with_for_update(of=auth, skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


async def lock_authorizations_of(
    db: AsyncSession, pairs: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> list[models.PriorAuthorization]:
    """The (patient, payer) pairs' ACTIVE authorizations, locked in one order (by id) so two billing runs
    never wait on each other in a circle: the second waits for the first's commit, then sees its draw."""
    if not pairs:
        return []
    auth = models.PriorAuthorization
    return list(
        (
            await db.scalars(
                select(auth)
                .where(
                    tuple_(auth.patient_id, auth.payer_id).in_(list(pairs)),
                    auth.status == AuthorizationStatus.ACTIVE,
                )
                .order_by(auth.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    )


async def days_drawn(db: AsyncSession, authorization_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, frozenset[date]]:
    if not authorization_ids:
        return {}
    use = models.AuthorizationUse
    rows = await core_rows(
        db,
        select(use.authorization_id, func.array_agg(func.distinct(use.service_date)))
        .where(use.authorization_id.in_(list(authorization_ids)), use.returned_at.is_(None))
        .group_by(use.authorization_id),
    )
    return {r[0]: frozenset(r[1]) for r in rows}


async def live_uses_of_charges(db: AsyncSession, charge_ids: Collection[uuid.UUID]) -> list[models.AuthorizationUse]:
    if not charge_ids:
        return []
    use = models.AuthorizationUse
    return list(
        (
            await db.scalars(
                select(use).where(use.charge_id.in_(list(charge_ids)), use.returned_at.is_(None)).with_for_update()
            )
        ).all()
    )


async def give_back(db: AsyncSession, authorization_id: uuid.UUID, units: int) -> None:
    auth = models.PriorAuthorization
    await db.execute(update(auth).where(auth.id == authorization_id).values(used=auth.used - units))


async def authorization_numbers_of_charges(db: AsyncSession, charge_ids: Collection[uuid.UUID]) -> list[str]:
    """The authorization numbers the charges drew from (a voided charge's too: a void claim carries them)."""
    if not charge_ids:
        return []
    use, auth = models.AuthorizationUse, models.PriorAuthorization
    rows = await core_rows(
        db,
        select(auth.number)
        .join(use, and_(use.authorization_id == auth.id, use.charge_id.in_(list(charge_ids))))
        .distinct()
        .order_by(auth.number),
    )
    return [r[0] for r in rows]


async def authorizations_page(
    db: AsyncSession, patient_ids: Sequence[uuid.UUID]
) -> list[list[models.PriorAuthorization]]:
    auth = models.PriorAuthorization
    rows = (
        await db.scalars(
            select(auth).where(auth.patient_id.in_(list(patient_ids))).order_by(auth.ends_on.desc(), auth.number)
        )
    ).all()
    found: dict[uuid.UUID, list[models.PriorAuthorization]] = defaultdict(list)
    for row in rows:
        found[row.patient_id].append(row)
    return [found[p] for p in patient_ids]


# ---------------------------------------------------------------- program days


async def program_stays(
    db: AsyncSession,
    facility_id: uuid.UUID,
    program: str,
    window: tuple[datetime, datetime],
    patient_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, list[ProgramStay]]:
    """Each patient's stays in the facility's sessions of the program starting in the window (one local day)."""
    if not patient_ids:
        return {}
    session, roster = models.GroupSession, models.RosterEntry
    rows = await core_rows(
        db,
        select(
            roster.patient_id,
            session.id,
            session.starts_at,
            session.ends_at,
            roster.status,
            roster.arrived_at,
            roster.departed_at,
            session.billed_at,
            session.cancelled_at,
        )
        .join(roster, roster.session_id == session.id)
        .where(
            session.facility_id == facility_id,
            session.group_type == program,
            session.starts_at >= window[0],
            session.starts_at < window[1],
            roster.patient_id.in_(list(patient_ids)),
        )
        .order_by(session.starts_at, session.id),
    )
    found: dict[uuid.UUID, list[ProgramStay]] = defaultdict(list)
    for patient, pk, starts, ends, status, arrived, departed, billed, cancelled in rows:
        found[patient].append(
            ProgramStay(pk, starts, ends, status, arrived, departed, billed is not None, cancelled is not None)
        )
    return found


async def per_diem_charge_for_update(db: AsyncSession, patient_id: uuid.UUID, day: date) -> models.Charge | None:
    charge = models.Charge
    return await db.scalar(
        select(charge)
        .where(
            charge.patient_id == patient_id,
            charge.service_date == day,
            charge.per_diem.is_(True),
            charge.status == ChargeStatus.ACTIVE,
        )
        .with_for_update()
    )


async def per_diem_claims_for_update(db: AsyncSession, patient_id: uuid.UUID, day: date) -> list[models.Claim]:
    """The patient's per-diem claims for the day, oldest first."""
    claim, charge, link = models.Claim, models.Charge, models.claim_charges
    of_the_day = (
        select(link.c.claim_id)
        .join(charge, charge.id == link.c.charge_id)
        .where(charge.patient_id == patient_id, charge.service_date == day, charge.per_diem.is_(True))
    )
    return list(
        (
            await db.scalars(
                select(claim)
                .where(claim.per_diem.is_(True), claim.patient_id == patient_id, claim.id.in_(of_the_day))
                .order_by(claim.created_at, claim.id)
                .with_for_update()
            )
        ).all()
    )


async def lock_program_day(db: AsyncSession, patient_id: uuid.UUID, day: date) -> None:
    """Serialize the billing of one patient's program day: the second session to settle it waits for the first
    to commit, then sees it billed."""
    await db.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"program-day:{patient_id}:{day.isoformat()}", 0)))
    )


# ---------------------------------------------------------------- the enrollment's and roster's alerts

# (patient id, group id or None, the session's or group's program, from when)
AlertKey = tuple[uuid.UUID, uuid.UUID | None, str, datetime]


async def coverage_alerts_of(db: AsyncSession, keys: Sequence[AlertKey]) -> list[list[CoverageAlert]]:
    """Each key's coverage alerts (app.rules.coverage_alerts), in 7 statements whatever the keys."""
    patient_ids = sorted({k[0] for k in keys})
    group_ids = sorted({k[1] for k in keys if k[1] is not None})
    since = min(k[3] for k in keys)
    occurrence = models.GroupOccurrence
    dates: dict[uuid.UUID, list[tuple[datetime, date]]] = defaultdict(list)
    if group_ids:
        for group_id, starts_at, day in await core_rows(
            db,
            select(occurrence.group_id, occurrence.starts_at, occurrence.session_date).where(
                occurrence.group_id.in_(group_ids), occurrence.cancelled_at.is_(None), occurrence.starts_at >= since
            ),
        ):
            dates[group_id].append((starts_at, day))
    coverage = models.Coverage
    coverages: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in await core_rows(db, select(coverage).where(coverage.patient_id.in_(patient_ids))):
        coverages[row.patient_id].append(row)
    by_patient = await authorizations_by_patient(db, patient_ids)
    check = models.EligibilityCheck
    latest = {
        row.patient_id: LatestAnswer(CoverageAnswer(row.status), row.service_date)
        for row in await core_rows(
            db,
            select(check.patient_id, check.status, check.service_date)
            .distinct(check.patient_id)
            .where(check.patient_id.in_(patient_ids))
            .order_by(check.patient_id, check.checked_at.desc()),
        )
    }
    required = {payer for payer, row in (await coverage_rules(db)).items() if row.authorization_required}
    zones = {
        patient: ZoneInfo(zone)
        for patient, zone in await core_rows(
            db,
            select(models.Patient.id, models.Facility.timezone)
            .join(models.Facility, models.Facility.id == models.Patient.facility_id)
            .where(models.Patient.id.in_(patient_ids)),
        )
    }
    answers = []
    for patient_id, group_id, program, moment in keys:
        today = moment.astimezone(zones[patient_id]).date()  # the facility's day
        primary = member_primary_coverage(
            (
                Coverage(r.payer_id, str(r.payer_id), r.priority, r.effective_from, r.effective_to, r.member_id)
                for r in coverages[patient_id]
            ),
            today,
        )
        ahead = sorted(day for starts, day in dates.get(group_id, []) if starts >= moment) if group_id else []
        answers.append(
            coverage_alerts(
                payer_id=primary.payer_id if primary else None,
                authorizations=by_patient.get(patient_id, ()),
                program=program,
                today=today,
                session_dates=ahead or [today],
                latest=latest.get(patient_id),
                authorization_required=primary is not None and primary.payer_id in required,
            )
        )
    return answers
