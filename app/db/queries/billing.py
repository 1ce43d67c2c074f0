"""Billing: what the preview and the pipeline read, charges, claims and accepted warnings."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models
from app.db.queries import coverage as coverage_queries
from app.db.queries.common import columns_of, core_rows, rows_by_column
from app.db.queries.notes import documentation_rule
from app.db.queries.sessions import PatientRow, RosterRow, supervisors_by_session
from app.rules import billing as rules
from app.rules.attendance import AttendanceStatus
from app.rules.authorizations import AuthorizationFacts, authorization_issues
from app.rules.billing import BillingIssueCode
from app.rules.claims import ChargeStatus, ClaimStatus
from app.rules.diagnoses import Diagnosis, active_diagnosis_codes
from app.rules.eligibility import CoverageFacts, coverage_issues
from app.rules.fees import fee_key
from app.rules.program_billing import (
    ProgramRule,
    ProgramStay,
    bills_on_its_own,
    per_diem_services,
    program_issues,
)
from app.rules.visits import Stay, effective_modality, minutes_present


@dataclass
class BillingInputs:
    """The arguments of rules.build_billing_preview for one session, plus lookups for charges."""

    session: models.GroupSession
    session_date: date
    state: str
    timezone: str
    accepted_codes: frozenset[str] = frozenset()
    members: list[rules.RosterEntry] = field(default_factory=list)
    supervisors: list[rules.SupervisorAttendance] = field(default_factory=list)
    bands_by_payer: dict[uuid.UUID, list[rules.Band]] = field(default_factory=dict)
    ratio_by_payer: dict[uuid.UUID, int] = field(default_factory=dict)
    patient_by_entry: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    rules_by_payer: dict[uuid.UUID, rules.DocumentationRule] = field(default_factory=dict)
    fees: dict[tuple[str, tuple[str, ...]], Decimal] = field(default_factory=dict)  # the facility's schedule
    rendering_provider_known: bool = True  # the session's facilitator, with an NPI (the 837P's 2310B)
    coverage: CoverageFacts = field(default_factory=CoverageFacts)
    authorizations: AuthorizationFacts = field(default_factory=AuthorizationFacts)
    # The session's program as its members' payers bill it per diem, and their stays that day (program_billing).
    programs: dict[uuid.UUID, ProgramRule] = field(default_factory=dict)
    program_stays: dict[uuid.UUID, list[ProgramStay]] = field(default_factory=dict)

    def member_issues(self) -> list[rules.BillingIssue]:
        """Eligibility and prior authorization findings (app.rules.eligibility, app.rules.authorizations), and
        the services billed (the session's lines, the program days) the facility's fee schedule has no price for."""
        codes = {payer: {band.procedure_code for band in bands} for payer, bands in self.bands_by_payer.items()}
        billed = [(line.roster_entry_id, line.procedure_code, line.modifiers) for line in self.charge_lines()]
        billed += per_diem_services(self.members, self.programs, self.session_date)
        return coverage_issues(self.members, self.patient_by_entry, self.coverage, self.session_date) + (
            authorization_issues(
                self.members,
                self.patient_by_entry,
                self.authorizations,
                session_date=self.session_date,
                procedure_codes_by_payer=codes,
                program=self.session.group_type,
            )
            + program_issues(self.members, self.patient_by_entry, self.programs, self.program_stays, self.session_date)
            + rules.check_fee_schedule(billed, self.fees)
        )

    def preview(self) -> rules.Preview:
        return rules.build_billing_preview(
            members=self.members,
            supervisors=self.supervisors,
            session_date=self.session_date,
            state=self.state,
            bands_by_payer=self.bands_by_payer,
            ratio_by_payer=self.ratio_by_payer,
            accepted_codes=self.accepted_codes,
            rules_by_payer=self.rules_by_payer,
            rendering_provider_known=self.rendering_provider_known,
            member_issues=self.member_issues(),
        )

    def charge_lines(self) -> tuple[rules.ChargeLine, ...]:
        lines = rules.charge_lines(
            self.members,
            session_date=self.session_date,
            bands_by_payer=self.bands_by_payer,
            rules_by_payer=self.rules_by_payer,
            fees=self.fees,
        )
        return tuple(line for line in lines if bills_on_its_own(line.payer_id, self.programs))


class EntryWithNote(NamedTuple):
    entry: Any  # sessions.RosterRow (its patient read beside it by roster_with_note_status)
    note_status: str | None
    has_address: bool = True  # the patient's address is complete (the 837P's 2010BA N3/N4)


def _has_address(patient: Any):
    """The patient's street, city, state and ZIP are all there, as an SQL expression."""
    return and_(
        patient.address_line1.isnot(None),
        patient.city.isnot(None),
        patient.state.isnot(None),
        patient.postal_code.isnot(None),
    )


async def billing_inputs(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BillingInputs]:
    """Everything the billing rules need for the sessions, in 6 statements whatever their number (and, for
    program sessions billed per diem, their programs and the day's stays)."""
    sessions = await sessions_to_bill(db, session_ids)
    if not sessions:
        return sessions
    return await _assemble(db, sessions, await members_with_note_status(db, list(sessions)))


async def billing_inputs_and_roster(db: AsyncSession, session_id: uuid.UUID) -> tuple[BillingInputs, list[Any]] | None:
    """A live update's reads: the session's billing inputs and its roster (RosterRow read models with
    their patients, by patient name, as sessions.rosters reads it), the roster the watchers are sent
    built from the members' own statement; 6 statements."""
    return _one(session_id, await _inputs_and_rosters(db, await sessions_to_bill(db, [session_id])))


async def billing_inputs_and_roster_in_transaction(
    db: AsyncSession, session_id: uuid.UUID
) -> tuple[BillingInputs, list[Any]] | None:
    """billing_inputs_and_roster, read inside the writing transaction (flushed first): the session's
    row overwrites what its instance held (populate_existing)."""
    statement = _sessions_statement([session_id]).execution_options(populate_existing=True)
    return _one(session_id, await _inputs_and_rosters(db, await _sessions_of(db, statement)))


def _one(
    session_id: uuid.UUID, found: tuple[dict[uuid.UUID, BillingInputs], dict[uuid.UUID, list[Any]]]
) -> tuple[BillingInputs, list[Any]] | None:
    inputs, rosters = found
    if session_id not in inputs:
        return None
    return inputs[session_id], rosters[session_id]


async def billing_inputs_and_rosters(
    db: AsyncSession, session_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, BillingInputs], dict[uuid.UUID, list[Any]]]:
    """The sessions' billing inputs and their rosters (as sessions.rosters reads them: RosterRow read
    models with their patients, by patient name), the rosters built from the members' own statement;
    6 statements whatever their number. Sessions that do not exist are in neither."""
    return await _inputs_and_rosters(db, await sessions_to_bill(db, session_ids))


async def _inputs_and_rosters(
    db: AsyncSession, sessions: dict[uuid.UUID, BillingInputs]
) -> tuple[dict[uuid.UUID, BillingInputs], dict[uuid.UUID, list[Any]]]:
    """`sessions` (from sessions_to_bill) with their members, assembled, and their rosters."""
    if not sessions:
        return {}, {}
    roster = await roster_with_note_status(db, list(sessions))
    members = sorted(roster, key=lambda member: (member.entry.created_at, member.entry.id))
    inputs = await _assemble(db, sessions, members)
    rosters: dict[uuid.UUID, list[Any]] = {pk: [] for pk in sessions}
    for member in roster:
        rosters[member.entry.session_id].append(member.entry)
    return inputs, rosters


async def _assemble(
    db: AsyncSession, sessions: dict[uuid.UUID, BillingInputs], members: Sequence[EntryWithNote]
) -> dict[uuid.UUID, BillingInputs]:
    """The one place billing inputs are put together: `sessions` (from sessions_to_bill) gain their
    members (in roster order: created_at, id), supervisors, the payers' coverages, diagnoses and
    documentation rules, and their states' bands and ratios, and their coverage facts; 4 statements."""
    patient_ids = list({member.entry.patient_id for member in members})
    coverages, payer_rules, diagnoses = await coverages_rules_and_diagnoses(db, patient_ids)
    for entry, note_status, has_address in members:
        into = sessions[entry.session_id]
        member = _member(entry, note_status, into, coverages[entry.patient_id], diagnoses[entry.patient_id])
        into.members.append(replace(member, has_address=has_address))
        into.patient_by_entry[entry.id] = entry.patient_id
    for session_id, marks in (await supervisors_by_session(db, list(sessions))).items():
        sessions[session_id].supervisors = [rules.SupervisorAttendance(staff_id, status) for staff_id, status in marks]
    bands, ratios = await bands_and_ratios(db, {inputs.state for inputs in sessions.values()})
    for inputs in sessions.values():
        inputs.bands_by_payer = {payer: b for (state, payer), b in bands.items() if state == inputs.state}
        inputs.ratio_by_payer = {payer: r for (state, payer), r in ratios.items() if state == inputs.state}
        inputs.rules_by_payer = payer_rules
    await coverage_queries.attach(db, sessions, patient_ids)
    return sessions


def _member(
    entry: Any, note_status: str | None, into: BillingInputs, coverages: list[rules.Coverage], diagnoses: list[Any]
) -> rules.RosterEntry:
    session = into.session
    active = active_diagnosis_codes(
        (Diagnosis(d.code, d.effective_from, d.effective_to) for d in diagnoses), into.session_date
    )
    stay = Stay(entry.arrived_at, entry.departed_at)
    return rules.RosterEntry(
        id=entry.id,
        status=entry.status,
        coverages=tuple(coverages),
        diagnoses=active,
        minutes=minutes_present(entry.status, stay, session.starts_at, session.ends_at),
        note_status=note_status,
        modality=effective_modality(session.modality, entry.modality),
        at_home=entry.patient_at_home,
        arrival_known=entry.status != AttendanceStatus.LATE or entry.arrived_at is not None,
    )


async def sessions_to_bill(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BillingInputs]:
    """The sessions that exist, with their facility's state, time zone, local date and fee schedule
    and their accepted warnings, in one statement: billing inputs with no members yet."""
    return await _sessions_of(db, _sessions_statement(session_ids))


def _sessions_statement(session_ids: Sequence[uuid.UUID]) -> Select:
    accepted, fee = models.AcceptedBillingIssue, models.FacilityFee
    accepted_codes = (  # the session's accepted warnings, in the session's own statement
        select(func.array_agg(accepted.code)).where(accepted.session_id == models.GroupSession.id).scalar_subquery()
    )
    fees = (  # the facility's fee schedule, [[code, modifiers, "amount"], ...], in the same statement
        select(func.json_agg(func.json_build_array(fee.procedure_code, fee.modifiers, cast(fee.amount, String))))
        .where(fee.facility_id == models.Facility.id)
        .scalar_subquery()
    )
    return (
        select(models.GroupSession, models.Facility, accepted_codes, models.Staff.npi, fees)
        .join(models.Facility, models.Facility.id == models.GroupSession.facility_id)
        .outerjoin(models.Staff, models.Staff.id == models.GroupSession.facilitator_id)
        .where(models.GroupSession.id.in_(session_ids))
    )


async def _sessions_of(db: AsyncSession, statement: Select) -> dict[uuid.UUID, BillingInputs]:
    rows = (await db.execute(statement)).all()
    return {
        session.id: BillingInputs(
            session=session,
            session_date=session.starts_at.astimezone(ZoneInfo(facility.timezone)).date(),
            state=facility.state,
            timezone=facility.timezone,
            accepted_codes=frozenset(codes or ()),
            rendering_provider_known=bool(facilitator_npi),
            fees={fee_key(code, modifiers or ()): Decimal(amount) for code, modifiers, amount in schedule or ()},
        )
        for session, facility, codes, facilitator_npi, schedule in rows
    }


async def members_with_note_status(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[EntryWithNote]:
    """The sessions' roster entries (RosterRow without patient) with their member note's status, by
    created_at: plain rows, as a page of 50 sessions has 750."""
    roster, note, patient = models.RosterEntry, models.MemberNote, models.Patient
    split = len(columns_of(roster))
    rows = await core_rows(
        db,
        select(*columns_of(roster), note.status, _has_address(patient))
        .join(patient, patient.id == roster.patient_id)
        .outerjoin(note, and_(note.roster_entry_id == roster.id, note.session_id == roster.session_id))
        .where(roster.session_id.in_(session_ids))
        .order_by(roster.created_at, roster.id),
    )
    return [EntryWithNote(RosterRow(*row[:split], None), row[split], row[split + 1]) for row in rows]


async def roster_with_note_status(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[EntryWithNote]:
    """The sessions' roster entries with their patients (RosterRow with PatientRow) and their member
    note's status, in the roster's own order (sessions.rosters): by patient name."""
    roster, note, patient = models.RosterEntry, models.MemberNote, models.Patient
    split = len(columns_of(roster))
    rows = await core_rows(
        db,
        select(*columns_of(roster), note.status, _has_address(patient), *columns_of(patient))
        .join(patient, patient.id == roster.patient_id)
        .outerjoin(note, and_(note.roster_entry_id == roster.id, note.session_id == roster.session_id))
        .where(roster.session_id.in_(session_ids))
        .order_by(patient.name, roster.id),
    )
    make_patient = PatientRow._make
    return [
        EntryWithNote(RosterRow(*row[:split], make_patient(row[split + 2 :])), row[split], row[split + 1])
        for row in rows
    ]


async def bands_and_ratios(
    db: AsyncSession, states: Collection[str]
) -> tuple[dict[tuple[str, uuid.UUID], list[rules.Band]], dict[tuple[str, uuid.UUID], int]]:
    """The states' size bands (by min_size, as the rules expect them) and supervision ratios, keyed
    by (state, payer id), in one statement: a band row has a size range, a ratio row (min_size
    NULL) the ratio."""
    band, rule = models.GroupSizeBand, models.SupervisionRule
    bands_or_ratios = union_all(
        select(
            band.state,
            band.payer_id,
            band.min_size,
            band.max_size,
            band.procedure_code,
            band.modifiers,
            band.rate,
            cast(null(), Integer).label("ratio"),
        ).where(band.state.in_(states)),
        select(
            rule.state,
            rule.payer_id,
            cast(null(), Integer),
            cast(null(), Integer),
            cast(null(), String),
            cast(null(), band.modifiers.type),
            cast(null(), band.rate.type),
            rule.max_participants_per_supervisor,
        ).where(rule.state.in_(states)),
    )
    bands: dict[tuple[str, uuid.UUID], list[rules.Band]] = defaultdict(list)
    ratios: dict[tuple[str, uuid.UUID], int] = {}
    rows = await core_rows(db, select(bands_or_ratios.subquery()).order_by(text("min_size NULLS LAST")))
    for state, payer_id, min_size, max_size, procedure_code, modifiers, rate, ratio in rows:
        if min_size is None:
            ratios[(state, payer_id)] = ratio
        else:
            bands[(state, payer_id)].append(
                rules.Band(min_size, max_size, procedure_code, tuple(modifiers or ()), rate)
            )
    return bands, ratios


async def coverages_rules_and_diagnoses(
    db: AsyncSession, patient_ids: Collection[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[rules.Coverage]], dict[uuid.UUID, rules.DocumentationRule], dict[uuid.UUID, list[Any]]]:
    """The patients' coverages, the documentation rules of their payers, and the patients'
    diagnoses in their order (position 1 the principal), in one statement: a coverage row and a
    diagnosis row (`code` set) of one UNION ALL."""
    coverages: dict[uuid.UUID, list[rules.Coverage]] = defaultdict(list)
    payer_rules: dict[uuid.UUID, rules.DocumentationRule] = {}
    diagnoses: dict[uuid.UUID, list[Any]] = {pk: [] for pk in patient_ids}
    if not patient_ids:
        return coverages, payer_rules, diagnoses
    coverage_, rule, diagnosis = models.Coverage, models.PayerDocumentationRule, models.Diagnosis
    both = union_all(
        select(
            coverage_.patient_id,
            coverage_.payer_id,
            models.Payer.payer_code,
            coverage_.priority,
            coverage_.effective_from,
            coverage_.effective_to,
            coverage_.member_id,
            rule.payer_id.label("rule_payer_id"),
            rule.signed_note,
            rule.minimum_minutes,
            rule.late_entry_hours,
            rule.audio_only_away_from_home,
            rule.cosign_states,
            rule.telehealth,
            cast(null(), diagnosis.code.type).label("code"),
            cast(null(), diagnosis.position.type).label("position"),
        )
        .join(models.Payer, models.Payer.id == coverage_.payer_id)
        .outerjoin(rule, rule.payer_id == coverage_.payer_id)
        .where(coverage_.patient_id.in_(patient_ids)),
        select(
            diagnosis.patient_id,
            cast(null(), coverage_.payer_id.type),
            cast(null(), models.Payer.payer_code.type),
            cast(null(), coverage_.priority.type),
            cast(diagnosis.effective_from, coverage_.effective_from.type),
            cast(diagnosis.effective_to, coverage_.effective_to.type),
            cast(null(), coverage_.member_id.type),
            cast(null(), rule.payer_id.type),
            cast(null(), rule.signed_note.type),
            cast(null(), rule.minimum_minutes.type),
            cast(null(), rule.late_entry_hours.type),
            cast(null(), rule.audio_only_away_from_home.type),
            cast(null(), rule.cosign_states.type),
            cast(null(), rule.telehealth.type),
            diagnosis.code,
            diagnosis.position,
        ).where(diagnosis.patient_id.in_(patient_ids)),
    )
    for row in await core_rows(db, select(both.subquery()).order_by(text("position NULLS FIRST"))):
        if row.code is not None:
            diagnoses[row.patient_id].append(row)
            continue
        coverages[row.patient_id].append(
            rules.Coverage(
                payer_id=row.payer_id,
                payer_code=row.payer_code,
                priority=row.priority,
                effective_from=row.effective_from,
                effective_to=row.effective_to,
                member_id=row.member_id,
            )
        )
        if row.rule_payer_id is not None and row.payer_id not in payer_rules:
            payer_rules[row.payer_id] = documentation_rule(row)
    return coverages, payer_rules, diagnoses


async def previews(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[rules.Preview | None]:
    """Each session's billing preview (None for a session that does not exist)."""
    found = await billing_inputs(db, session_ids)
    return [found[pk].preview() if pk in found else None for pk in session_ids]


def _occurrence_holds_billing(now: datetime):
    """The session's occurrence was cancelled or moved, and the clinical feed has not caught up yet."""
    occurrence, session = models.GroupOccurrence, models.GroupSession
    return exists().where(
        occurrence.id == session.occurrence_id,
        or_(
            occurrence.cancelled_at.is_not(None),
            occurrence.ends_at > now,
            occurrence.starts_at != session.starts_at,
            occurrence.ends_at != session.ends_at,
        ),
    )


async def due_session(
    db: AsyncSession, now: datetime, skipped: Collection[uuid.UUID] = ()
) -> models.GroupSession | None:
    """One ended, unbilled, uncancelled session whose occurrence still stands as it is, that no
    other biller holds and that is not among `skipped`, locked for billing."""
    query = (
        select(models.GroupSession)
        .where(
            models.GroupSession.billed_at.is_(None),
            models.GroupSession.cancelled_at.is_(None),
            models.GroupSession.ends_at <= now,
            ~_occurrence_holds_billing(now),
        )
        .order_by(models.GroupSession.ends_at, models.GroupSession.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if skipped:
        query = query.where(models.GroupSession.id.not_in(skipped))
    return await db.scalar(query)


async def accept_issue(db: AsyncSession, session_id: uuid.UUID, code: BillingIssueCode, note: str, actor: str) -> None:
    await db.execute(
        upsert(models.AcceptedBillingIssue)
        .values(id=uuid.uuid4(), session_id=session_id, code=code, note=note, actor=actor)
        .on_conflict_do_update(constraint="uq_accepted_billing_issues_code", set_={"note": note, "actor": actor})
    )


async def active_charges_for_update(db: AsyncSession, session_id: uuid.UUID) -> list[models.Charge]:
    rows = await db.scalars(
        select(models.Charge)
        .where(
            models.Charge.session_id == session_id,
            models.Charge.status == ChargeStatus.ACTIVE,
            models.Charge.per_diem.is_(False),  # a program day's line is corrected with its day
        )
        .with_for_update()
    )
    return list(rows.all())


async def claims_for_update(db: AsyncSession, session_id: uuid.UUID) -> list[models.Claim]:
    """The session's claims, oldest first."""
    rows = await db.scalars(
        select(models.Claim)
        .where(models.Claim.session_id == session_id, models.Claim.per_diem.is_(False))
        .order_by(models.Claim.created_at, models.Claim.id)
        .with_for_update()
    )
    return list(rows.all())


async def draft_claims_for_update(db: AsyncSession, session_id: uuid.UUID) -> list[models.Claim]:
    """The unsent claims hung on the session, oldest first: its members' own and the per-diem days whose
    last session it is."""
    rows = await db.scalars(
        select(models.Claim)
        .where(models.Claim.session_id == session_id, models.Claim.status == ClaimStatus.DRAFT)
        .order_by(models.Claim.created_at, models.Claim.id)
        .with_for_update()
    )
    return list(rows.all())


async def link_claim_charges(db: AsyncSession, claim_id: uuid.UUID, charge_ids: Sequence[uuid.UUID]) -> None:
    if charge_ids:
        await db.execute(insert(models.claim_charges), [{"claim_id": claim_id, "charge_id": c} for c in charge_ids])


async def link_claims_charges(db: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """(claim, charge) links of many claims in one statement."""
    if pairs:
        await db.execute(
            insert(models.claim_charges), [{"claim_id": claim, "charge_id": charge} for claim, charge in pairs]
        )


async def charge_ids_of_claim(db: AsyncSession, claim_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await db.scalars(select(models.claim_charges.c.charge_id).where(models.claim_charges.c.claim_id == claim_id))
    return list(rows.all())


async def charges_of_claims(db: AsyncSession, claim_ids: Sequence[uuid.UUID]) -> list[list[models.Charge]]:
    rows = (
        await db.execute(
            select(models.claim_charges.c.claim_id, models.Charge)
            .join(models.Charge, models.Charge.id == models.claim_charges.c.charge_id)
            .where(models.claim_charges.c.claim_id.in_(claim_ids))
            .order_by(models.Charge.created_at)
        )
    ).all()
    grouped: dict[uuid.UUID, list[models.Charge]] = {pk: [] for pk in claim_ids}
    for claim_id, charge in rows:
        grouped[claim_id].append(charge)
    return [grouped[pk] for pk in claim_ids]


async def charges_by_session(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[list[models.Charge]]:
    return await rows_by_column(db, models.Charge.session_id, session_ids, models.Charge.created_at, models.Charge.id)


async def claims_by_session(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[list[models.Claim]]:
    return await rows_by_column(db, models.Claim.session_id, session_ids, models.Claim.created_at, models.Claim.id)


async def charges_by_patient(db: AsyncSession, patient_ids: Sequence[uuid.UUID]) -> list[list[models.Charge]]:
    return await rows_by_column(db, models.Charge.patient_id, patient_ids, models.Charge.created_at, models.Charge.id)


async def next_interchange_number(db: AsyncSession) -> int:
    return int(await db.scalar(text("SELECT nextval('edi_interchange_seq')")))


async def record_payer_claim_number(db: AsyncSession, claim_id: uuid.UUID, number: str) -> None:
    """The payer's claim control number for the claim (its 277CA's REF*1K, its 835's CLP07)."""
    await db.execute(update(models.Claim).where(models.Claim.id == claim_id).values(payer_claim_number=number))


async def fee_schedule(db: AsyncSession, facility_id: uuid.UUID) -> list[models.FacilityFee]:
    """The facility's fee schedule, by code and modifiers."""
    rows = await db.scalars(
        select(models.FacilityFee)
        .where(models.FacilityFee.facility_id == facility_id)
        .order_by(models.FacilityFee.procedure_code, models.FacilityFee.modifiers)
    )
    return list(rows.all())


async def fee_schedules(db: AsyncSession, facility_ids: Sequence[uuid.UUID]) -> list[list[models.FacilityFee]]:
    return await rows_by_column(
        db,
        models.FacilityFee.facility_id,
        facility_ids,
        models.FacilityFee.procedure_code,
        models.FacilityFee.modifiers,
    )


async def delete_fee_schedule(db: AsyncSession, facility_id: uuid.UUID) -> None:
    await db.execute(delete(models.FacilityFee).where(models.FacilityFee.facility_id == facility_id))
