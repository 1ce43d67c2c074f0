"""The demo clinic: an Arizona facility with payers, band tables, staff and patients.

Idempotent: every record has a fixed id derived from its name, and existing ids are skipped.
What it shows does not depend on the day or the hour it is loaded: its past is last week's
sessions, every row marked; the programs' schedule starts next Monday; and today's four sessions
sit at fixed offsets from the one in progress, each whole and within one day (`staged_windows`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.auth import ALL_SCOPES, Principal
from app.config import DEMO_INACTIVE_MEMBER
from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import groups as group_queries
from app.db.queries import notes as notes_queries
from app.db.queries import reference as reference_queries
from app.db.queries import sessions as session_queries
from app.db.queries.common import Page, insert_missing
from app.ids import encode_id
from app.operations import (
    attendance,
    authorizations,
    billing,
    billing_pipeline,
    claim_batches,
    eligibility,
    enrollment,
    notes,
    remittance,
    scheduling,
)
from app.operations import reference as reference_operations
from app.operations.work import Services, unit_of_work
from app.payer_sim import Outcome, Policy, answer_claims
from app.payer_sim.answers import payer_claim_number
from app.payer_sim.exchange import simulated_exchange
from app.rules.attendance import AttendanceStatus
from app.rules.authorizations import UnitKind
from app.rules.billing import BillingIssueCode
from app.rules.claims import ClaimFrequency, ClaimStatus
from app.rules.edi.claims837 import read_837p
from app.rules.notes import Participation, RiskFlag, SignedNoteRule
from app.rules.reference import StaffAssignmentRole
from app.rules.scheduling import GroupType
from app.rules.visits import Modality

NAMESPACE = uuid.UUID("6f1c3f52-59a4-4d43-9d55-2a6b4c1e8a10")


def demo_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


def gid(type_name: str, *parts: object) -> str:
    """The global id of a demo record (for tests and examples)."""
    return encode_id(type_name, demo_id(*parts))


FACILITY_ID = demo_id("facility", "desert-bloom")
AT_RISK_PATIENT = demo_id("patient", 8)  # Indigo Reyes, IOP Evenings: absent twice in a row last week
# Mesa Health Plan bills IOP per diem and wants eligibility and prior authorization (app.rules.program_billing):
# Rowan Castillo's day last Wednesday is billed per diem and their authorization is near its end; Sloane
# Whitaker's coverage lapsed, caught by the eligibility check before their first session.
MESA = demo_id("payer", "MESA")
PER_DIEM_PATIENT = demo_id("patient", 30)
LAPSED_PATIENT = demo_id("patient", 31)
PROGRAM_PATIENTS = [(30, "Rowan Castillo", "MHP5512077"), (31, "Sloane Whitaker", DEMO_INACTIVE_MEMBER)]
AUTHORIZATION_NUMBER = "MHP-IOP-2291"

STAFF = [
    ("Dana Whitfield, LCSW", "1245319599"),
    ("Marcus Oyelaran, LPC", "1679576722"),
    ("Priya Raman, PsyD", "1003000126"),
    ("Tomás Aguilar, LISAC", "1215930367"),
]
# NUCC taxonomy codes (PRV*PE): clinical social worker, mental health counselor, psychologist, addiction counselor.
STAFF_TAXONOMY = ["1041C0700X", "101YM0800X", "103T00000X", "101YA0400X"]

FIRST = [
    "Avery",
    "Blake",
    "Casey",
    "Devon",
    "Emery",
    "Finley",
    "Gray",
    "Harper",
    "Indigo",
    "Jordan",
    "Kai",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Riley",
    "Sage",
    "Taylor",
    "Umber",
    "Vale",
    "Winter",
    "Xen",
    "Yael",
    "Zion",
    "Arden",
    "Bellamy",
    "Corin",
    "Dale",
]
LAST = ["Stone", "Rivers", "Mesa", "Sandoval", "Yazzie", "Begay", "Nakai", "Ortiz", "Reyes", "Chee"]


async def load_demo(services: Services) -> str:
    """Reference data by fixed ids, then the clinic's groups, schedule and today's sessions through
    the operations clients use (app.operations), as the demo administrator."""
    async with services.sessionmaker() as db, db.begin():
        await _reference_data(db)
        has_groups = await group_queries.groups_page(
            db, among_facilities=[FACILITY_ID], include_deleted=True, group_type=None, search=None, window=Page(0, 1)
        )
    if has_groups[1]:
        return "Demo clinic already loaded."
    await _clinic_activity(Demo(services))
    return "Loaded the demo clinic: Desert Bloom Behavioral Health (America/Phoenix)."


async def _reference_data(db) -> None:
    await insert_missing(
        db,
        models.Facility,
        [
            {
                "id": FACILITY_ID,
                "name": "Desert Bloom Behavioral Health",
                "state": "AZ",
                "timezone": "America/Phoenix",
                "npi": "1234567893",
                "tax_id": "861234567",
                "address_line1": "2200 E Camelback Rd",
                "city": "Phoenix",
                "postal_code": "85016-4312",  # ZIP+4: the claims' billing provider (837P 2010AA N403)
                "taxonomy": "261QM0801X",  # mental health clinic (PRV*BI for payers that want it)
                "submitter_id": "DBBH0001",  # the clearinghouse's submitter id (ISA06, GS02, 1000A)
            }
        ],
    )
    ahcccs, commercial = demo_id("payer", "AHCCCS"), demo_id("payer", "SUNCREST")
    await insert_missing(
        db,
        models.Payer,
        [
            # SBR09: AHCCCS is Medicaid (MC), Suncrest commercial (CI); each has its clearinghouse receiver id.
            {
                "id": ahcccs,
                "name": "AHCCCS Complete Care (demo)",
                "payer_code": "AZAHCCCS",
                "claim_filing_indicator": "MC",
                "receiver_id": "AZAHCCCS",
                "taxonomy_required": True,
            },
            {
                "id": commercial,
                "name": "Suncrest Health Plan (demo)",
                "payer_code": "SUNCREST",
                "claim_filing_indicator": "CI",
                "receiver_id": "SUNCRST01",
            },
        ],
    )
    bands = [
        # A gap at 9 on purpose: nine billable members code to the 5-8 band with a warning.
        (ahcccs, 1, 4, "90853", ["HQ"], Decimal("38.50")),
        (ahcccs, 5, 8, "90853", ["HQ"], Decimal("31.25")),
        (ahcccs, 10, 12, "90853", ["HQ", "U1"], Decimal("26.00")),
        (commercial, 2, 6, "90853", [], Decimal("55.00")),
        (commercial, 7, 10, "90853", [], Decimal("47.00")),
    ]
    await insert_missing(
        db,
        models.GroupSizeBand,
        [
            {
                "id": demo_id("band", p, lo),
                "payer_id": p,
                "state": "AZ",
                "min_size": lo,
                "max_size": hi,
                "procedure_code": code,
                "modifiers": mods,
                "rate": rate,
            }
            for p, lo, hi, code, mods, rate in bands
        ],
    )
    # The clinic's one price for group psychotherapy and for a day of IOP billed per diem (S9480), whoever
    # pays; each payer's band or per-diem rate is what it expects to be paid (Charge.expectedAmount). A code
    # billed that the schedule has no price for would be FEE_NOT_SCHEDULED (BLOCKING).
    await insert_missing(
        db,
        models.FacilityFee,
        [
            {
                "id": demo_id("fee", code),
                "facility_id": FACILITY_ID,
                "procedure_code": code,
                "modifiers": [],
                "amount": amount,
            }
            for code, amount in (("90853", Decimal("60.00")), ("S9480", Decimal("210.00")))
        ],
    )
    await insert_missing(
        db,
        models.SupervisionRule,
        [
            {"id": demo_id("rule", ahcccs), "payer_id": ahcccs, "state": "AZ", "max_participants_per_supervisor": 6},
            {
                "id": demo_id("rule", commercial),
                "payer_id": commercial,
                "state": "AZ",
                "max_participants_per_supervisor": 8,
            },
        ],
    )
    # AHCCCS: a visit counts from 45 minutes, an unsigned note is a warning, and in Arizona a
    # supervisor co-signs. Suncrest: no claim without a signed note.
    await insert_missing(
        db,
        models.PayerDocumentationRule,
        [
            {
                "payer_id": ahcccs,
                "signed_note": SignedNoteRule.WARNING,
                "minimum_minutes": 45,
                "cosign_states": ["AZ"],
                "telehealth": {},
            },
            {
                "payer_id": commercial,
                "signed_note": SignedNoteRule.BLOCKING,
                "minimum_minutes": None,
                "cosign_states": [],
                "telehealth": {},
            },
        ],
    )
    await insert_missing(
        db,
        models.Staff,
        [
            {
                "id": demo_id("staff", i),
                "name": name,
                "npi": npi,
                "facility_id": FACILITY_ID,
                "taxonomy": STAFF_TAXONOMY[i],
            }
            for i, (name, npi) in enumerate(STAFF)
        ],
    )
    patients = []
    for i in range(30):
        patients.append(
            {
                "id": demo_id("patient", i),
                "mrn": f"DB{1000 + i}",
                "name": f"{FIRST[i]} {LAST[i % len(LAST)]}",
                "date_of_birth": date(1960 + (i * 7) % 40, 1 + i % 12, 1 + (i * 3) % 28),
                "facility_id": FACILITY_ID,
                "sex": "FM"[i % 2],
                "address_line1": f"{100 + i} W Roosevelt St",
                "city": "Phoenix",
                "state": "AZ",
                "postal_code": "85003",
            }
        )
    await insert_missing(db, models.Patient, patients)
    await insert_missing(
        db,
        models.Coverage,
        [
            {
                "id": demo_id("coverage", i),
                "patient_id": demo_id("patient", i),
                "payer_id": ahcccs if i % 3 else commercial,
                "member_id": f"A{700000 + i}",
                "priority": 1,
                "effective_from": date(2024, 1, 1),
                "effective_to": None,
            }
            for i in range(28)  # the last two patients have no coverage
        ],
    )
    await insert_missing(
        db,
        models.Diagnosis,
        [
            {
                "id": demo_id("diagnosis", i, position),
                "patient_id": demo_id("patient", i),
                "position": position,
                "code": code,
                "description": DIAGNOSES[code],
                "effective_from": date(2024, 1, 1) + timedelta(days=7 * i),
                "effective_to": None,
            }
            for i in range(30)
            for position, code in enumerate(_diagnoses_of(i), 1)
        ],
    )
    await _program_payer(db)
    await insert_missing(
        db,
        models.StaffAssignment,
        [
            {
                "id": demo_id("assign", i),
                "staff_id": demo_id("staff", 2 + i % 2),
                "patient_id": demo_id("patient", i),
                "role": StaffAssignmentRole.SUPERVISING,
            }
            for i in range(30)
        ],
    )


async def _program_payer(db) -> None:
    """Mesa Health Plan: IOP billed per diem (S9480 for three hours present), eligibility checked and prior
    authorization required; its two members."""
    await insert_missing(db, models.Payer, [{"id": MESA, "name": "Mesa Health Plan (demo)", "payer_code": "MESAHP"}])
    await insert_missing(
        db,
        models.GroupSizeBand,
        [{"id": demo_id("band", MESA, 1), "payer_id": MESA, "state": "AZ", "min_size": 1, "max_size": 12,
          "procedure_code": "90853", "modifiers": [], "rate": Decimal("45.00")}],
    )  # fmt: skip
    await insert_missing(
        db,
        models.PayerCoverageRule,
        [{"payer_id": MESA, "eligibility_required": True, "authorization_required": True, "expiring_days": 14,
          "expiring_units": 2}],
    )  # fmt: skip
    await insert_missing(
        db,
        models.PayerProgram,
        [{"payer_id": MESA, "program": "IOP", "procedure_code": "S9480", "modifiers": [], "rate": Decimal("195.00"),
          "minimum_hours": Decimal("3"), "sessions_bill_too": False}],
    )  # fmt: skip
    await insert_missing(
        db,
        models.Patient,
        [
            {"id": demo_id("patient", i), "mrn": f"DB{1000 + i}", "name": name, "date_of_birth": date(1988, 4, 2 + i - 30),
             "facility_id": FACILITY_ID, "sex": "F", "address_line1": f"{100 + i} W Roosevelt St", "city": "Phoenix",
             "state": "AZ", "postal_code": "85003"}
            for i, name, _ in PROGRAM_PATIENTS
        ],
    )  # fmt: skip
    await insert_missing(
        db,
        models.Coverage,
        [
            {"id": demo_id("coverage", i), "patient_id": demo_id("patient", i), "payer_id": MESA, "member_id": member,
             "priority": 1, "effective_from": date(2024, 1, 1), "effective_to": None}
            for i, _, member in PROGRAM_PATIENTS
        ],
    )  # fmt: skip
    await insert_missing(
        db,
        models.Diagnosis,
        [
            {"id": demo_id("diagnosis", i, 1), "patient_id": demo_id("patient", i), "position": 1, "code": "F10.20",
             "description": DIAGNOSES["F10.20"], "effective_from": date(2024, 1, 1), "effective_to": None}
            for i, _, _ in PROGRAM_PATIENTS
        ],
    )  # fmt: skip


# ICD-10-CM codes a group-therapy clinic bills under, with their descriptions.
DIAGNOSES = {
    "F10.20": "Alcohol dependence, uncomplicated",
    "F11.20": "Opioid dependence, uncomplicated",
    "F12.20": "Cannabis dependence, uncomplicated",
    "F33.1": "Major depressive disorder, recurrent, moderate",
    "F32.1": "Major depressive disorder, single episode, moderate",
    "F41.1": "Generalized anxiety disorder",
    "F43.10": "Post-traumatic stress disorder, unspecified",
    "F43.21": "Adjustment disorder with depressed mood",
    "F63.81": "Intermittent explosive disorder",
    "F31.81": "Bipolar II disorder",
    "Z63.4": "Disappearance and death of family member",
}


def _diagnoses_of(patient: int) -> tuple[str, ...]:
    """Each demo patient's diagnoses, principal first, fitting the groups they attend."""
    if patient < 14:  # the IOP programs (and CBT): substance use with a co-occurring disorder
        substance = ("F10.20", "F11.20", "F12.20")[patient % 3]
        return (substance, ("F33.1", "F41.1", "F43.10")[patient % 3]) if patient % 2 else (substance,)
    if patient < 22:  # PHP: acute mood disorders
        return (("F33.1", "F31.81", "F32.1")[patient % 3], "F41.1")
    if patient < 26:  # anger management
        return ("F63.81",)
    return ("F43.21", "Z63.4")  # grief support


class Demo:
    """Runs operations as the demo administrator, each in its own transaction."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.actor = Principal(subject="demo-loader", scopes=frozenset(ALL_SCOPES), facilities=("*",))

    async def run(self, operation, *args, **options):
        async with unit_of_work(self.services, self.actor.subject) as uow:
            return await operation(uow, self.actor, *args, **options)

    async def run_as(self, staff: int, operation, *args):
        """As one of the clinic's clinicians (notes are written and signed by a staff member)."""
        clinician = Principal(
            subject=str(demo_id("staff", staff)), scopes=frozenset(ALL_SCOPES), facilities=(str(FACILITY_ID),)
        )
        async with unit_of_work(self.services, clinician.subject) as uow:
            return await operation(uow, clinician, *args)

    async def session_of(
        self, occurrence: models.GroupOccurrence
    ) -> tuple[models.GroupSession, list[models.RosterEntry]]:
        """The session the clinical side built from the committed occurrence, and its roster."""
        async with self.services.sessionmaker() as db:
            session = await session_queries.session_of_occurrence(db, occurrence.id)
            return session, (await session_queries.rosters(db, [session.id]))[0]


GROUPS = [
    # name, type, facilitator, co-facilitator, max, minutes, rule, first start (Phoenix wall time)
    ("IOP Mornings (compliant)", "IOP", 0, 1, 10, 180, "FREQ=WEEKLY;BYDAY=MO,WE,FR", "09:00"),
    ("IOP Evenings (short of hours)", "IOP", 1, None, 10, 120, "FREQ=WEEKLY;BYDAY=TU,TH", "17:30"),
    ("PHP Day Program", "PHP", 2, 3, 12, 240, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "08:30"),
    ("Anger Management Skills", "SKILLS_TRAINING", 3, None, 6, 60, "FREQ=WEEKLY;BYDAY=SA", "10:00"),
    ("Grief Support Circle", "SUPPORT", 0, None, 8, 90, None, None),
    ("Morning CBT Group", "THERAPY", 1, 2, 9, 90, None, None),
]


PHOENIX = ZoneInfo("America/Phoenix")
SESSION_MINUTES = 90  # the grief circle's and the CBT group's length
LATEST_START = timedelta(hours=22, minutes=29)  # a 90-minute session that ends at 23:59, within its day
LATE_BY = timedelta(minutes=10)  # when the live session's LATE members arrived, after its start


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime


def staged_windows(now: datetime) -> dict[str, Window]:
    """Where today's four sessions go for `now` (Phoenix wall time): each is SESSION_MINUTES long and
    within one day, since no session spans midnight. The live one holds now (it started half an hour
    ago, or at midnight just after it, or at LATEST_START late at night, so only in the day's last
    minute has it ended); the ended one ran an hour before it, the billed one half an hour before that,
    and the later one starts an hour after it. One that would span midnight moves whole to the day
    before (the past ones, loaded in the small hours) or the day after (the later one, late at night)."""
    length = timedelta(minutes=SESSION_MINUTES)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = (now - timedelta(minutes=30)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    live = Window(*_within_its_day(min(max(start, midnight), midnight + LATEST_START), length, later=True))
    ended = Window(*_within_its_day(live.starts_at - length - timedelta(minutes=60), length, later=False))
    billed = Window(*_within_its_day(ended.starts_at - length - timedelta(minutes=30), length, later=False))
    later = Window(*_within_its_day(live.ends_at + timedelta(minutes=60), length, later=True))
    return {"billed": billed, "ended": ended, "live": live, "later": later}


def _within_its_day(starts_at: datetime, length: timedelta, later: bool) -> tuple[datetime, datetime]:
    """A window from `starts_at`, moved whole past midnight (`later`) or back before it if it would span it."""
    day_end = starts_at.replace(hour=23, minute=59, second=0, microsecond=0)
    if starts_at + length > day_end:
        starts_at = day_end.replace(hour=0, minute=0) + timedelta(days=1) if later else day_end - length
    return starts_at, starts_at + length


async def _clinic_activity(demo: Demo) -> None:
    now = demo.services.clock.now().astimezone(PHOENIX)  # one reading: the week and today's sessions agree
    # Each payer's timely-filing limit, as an administrator sets it (updatePayerClaimSettings): AHCCCS takes
    # claims for 180 days from the date of service, Suncrest for 90.
    for payer_key, days in (("AHCCCS", 180), ("SUNCREST", 90)):
        await demo.run(
            reference_operations.update_payer_claim_settings,
            demo_id("payer", payer_key),
            reference_operations.NewPayer("", "", timely_filing_days=days),
        )
    monday = now.date() - timedelta(days=now.weekday())
    groups = []
    for name, kind, lead, co, capacity, minutes, rule, start in GROUPS:
        first = datetime.combine(monday, datetime.strptime(start, "%H:%M").time(), PHOENIX) if rule else None
        group = await demo.run(
            scheduling.create_group,
            scheduling.NewGroup(
                name=name,
                group_type=GroupType(kind),
                facility_id=FACILITY_ID,
                facilitator_id=demo_id("staff", lead),
                max_capacity=capacity,
                duration_minutes=minutes,
                location=f"Room {len(groups) + 1}",
                min_capacity=3,
                co_facilitator_id=demo_id("staff", co) if co is not None else None,
                recurrence_rule=rule,
                recurrence_start=first,
            ),
        )
        groups.append(group.id)
    iop_am, iop_pm, php, anger, grief, cbt = groups

    # Enrollments: CBT fills its 9 seats and three wait in line.
    plan = {
        iop_am: range(0, 8),
        iop_pm: range(8, 14),
        php: range(14, 22),
        anger: range(22, 26),
        cbt: range(0, 12),
        grief: range(26, 30),
    }
    for group, patients in plan.items():
        for i in patients:
            await demo.run(enrollment.enroll_patient, group, demo_id("patient", i))

    # Five weeks of occurrences from each rule, from next Monday: none of them is in the past whatever
    # day the demo is loaded, and this week's compliance reads the rule itself.
    next_monday = monday + timedelta(days=7)
    for group in (iop_am, iop_pm, php, anger):
        await demo.run(scheduling.generate_occurrences, group, next_monday, next_monday + timedelta(days=34))

    async def occurrence(group: uuid.UUID, window: Window):
        added = await demo.run(
            scheduling.add_occurrence,
            scheduling.NewOccurrence(group, window.starts_at.date(), window.starts_at.time(), window.ends_at.time()),
        )
        return await demo.session_of(added)

    async def mark(entries, statuses, late_arrival: datetime | None = None) -> None:
        for status, entry in zip(statuses, entries, strict=False):
            arrived_at = late_arrival if status == "LATE" else None
            await demo.run(
                attendance.set_attendance, entry.id, attendance.Mark(AttendanceStatus(status), arrived_at=arrived_at)
            )

    async def supervised(session) -> None:
        await demo.run(
            attendance.set_supervisor_attendance,
            session.id,
            demo_id("staff", 2),
            attendance.Mark(AttendanceStatus.ATTENDED),
        )

    # Last week's IOP Evenings (Tuesday and Thursday): Indigo missed both, so the programs' rule of
    # two absences in a row flags them (patientsAtRisk, Enrollment.absenceAlert).
    for days_back in (6, 4):
        added = await demo.run(
            scheduling.add_occurrence,
            scheduling.NewOccurrence(iop_pm, monday - timedelta(days=days_back), time(17, 30), time(19, 30)),
        )
        _, roster = await demo.session_of(added)
        await mark(roster, ["ABSENT" if entry.patient_id == AT_RISK_PATIENT else "ATTENDED" for entry in roster])

    await _payer_cycle(demo, anger, now, mark, supervised)

    windows = staged_windows(now)
    locked, locked_roster = await occurrence(grief, windows["billed"])
    ended, ended_roster = await occurrence(cbt, windows["ended"])
    live, live_roster = await occurrence(cbt, windows["live"])
    await occurrence(grief, windows["later"])

    await mark(locked_roster, ["ATTENDED", "ATTENDED", "LATE", "ATTENDED"])
    await supervised(locked)
    # Arden Nakai joined the grief circle by video from home: POS 10 and modifier 95 on the claim.
    await demo.run(
        attendance.set_roster_entry_visit,
        locked_roster[0].id,
        attendance.Visit(modality=Modality.TELEHEALTH_VIDEO, patient_at_home=True),
        {"modality", "patient_at_home"},
    )
    # Bellamy Ortiz called in, audio only, from home: POS 10 and modifier 93 on the claim (audio-only is
    # paid with the patient at home; away from home it is AUDIO_ONLY_AWAY_FROM_HOME).
    await demo.run(
        attendance.set_roster_entry_visit,
        locked_roster[1].id,
        attendance.Visit(modality=Modality.TELEHEALTH_AUDIO, patient_at_home=True),
        {"modality", "patient_at_home"},
    )
    # Corin Reyes and Dale Chee have no coverage: NO_COVERAGE (a WARNING) in the preview, and each is
    # charged as self-pay (the patient's responsibility; no payer, no claim).
    await _document_locked(demo, locked, locked_roster)
    # Ended with its last member never marked: it awaits finalization, the facilitator's prompt to
    # mark them (the mark that clears it bills the session).
    await mark(ended_roster[:-1], ["ABSENT" if i == 3 else "ATTENDED" for i in range(len(ended_roster) - 1)])
    await supervised(ended)
    # Seven billable members and one supervisor present: the ratio warning, accepted with a note.
    await demo.run(
        billing.accept_billing_issue,
        ended.id,
        BillingIssueCode.SUPERVISION_RATIO_BREACH,
        "Second clinician in the room; documented per AHCCCS exception",
    )
    await _document_ended(demo, ended, ended_roster)
    # In the room now: mixed attendance, one supervisor present, so the preview shows issues.
    await mark(live_roster, ["ATTENDED"] * 5 + ["LATE", "LATE", "ABSENT"], live.starts_at + LATE_BY)
    await supervised(live)
    # The facilitator has started the group note: member notes are drafts.
    await demo.run_as(
        1,
        notes.create_group_note,
        live.id,
        {"topic": "Challenging automatic thoughts", "interventions": ["Thought records"]},
    )

    await demo.run(billing.run_billing, locked.id)
    async with demo.services.sessionmaker() as db:
        claims = (await billing_queries.claims_by_session(db, [locked.id]))[0]
    # The telehealth member's claim goes out (POS 10, modifier 95); the other stays a draft.
    video = [c for c in claims if c.patient_id == locked_roster[0].patient_id]
    if video:
        settings = demo.services.settings
        await demo.run(
            billing.submit_claim,
            video[0].id,
            billing.SubmitterContact(settings.edi_contact_name, settings.edi_contact_phone),
        )
    await _corrections(demo, php, monday)
    await _group_of_one(demo, grief, monday)
    await _program_coordination(demo, monday)
    # What the billing sweep finds on its first pass, done now so the demo reads the same before it
    # runs: ended sessions with every row marked are billed, the others await finalization.
    await billing_pipeline.bill_due_sessions(demo.services, actor=demo.actor.subject)


async def _accept_warnings(demo: Demo, session_id: uuid.UUID, drafts: list[models.Claim] | None = None) -> None:
    """The billing office reviews the session's warnings before its claims go out (a claim is sent only with
    each one accepted), noting why each may stand."""
    if drafts is None:
        async with demo.services.sessionmaker() as db:
            drafts = [c for c in (await billing_queries.claims_by_session(db, [session_id]))[0] if c.status == "DRAFT"]
    warnings = {
        issue["code"]
        for claim in drafts
        for issue in claim.validation or []
        if issue.get("severity") == "WARNING" and not issue.get("accepted")
    }
    for code in sorted(warnings):
        await demo.run(
            billing.accept_billing_issue,
            session_id,
            BillingIssueCode(code),
            "Reviewed by the billing office before the claims went out; documented in the program's file",
        )


async def _submit_all(demo: Demo, session_id: uuid.UUID, frequency: ClaimFrequency | None = None) -> list[models.Claim]:
    """Submit the session's DRAFT claims (of one frequency, when given) that nothing holds; the claims sent."""
    settings = demo.services.settings
    contact = billing.SubmitterContact(settings.edi_contact_name, settings.edi_contact_phone)
    async with demo.services.sessionmaker() as db:
        drafts = [
            c
            for c in (await billing_queries.claims_by_session(db, [session_id]))[0]
            if c.status == ClaimStatus.DRAFT and (frequency is None or c.frequency == frequency)
        ]
    await _accept_warnings(demo, session_id, drafts)
    return [await demo.run(billing.submit_claim, claim.id, contact) for claim in drafts]


async def _payer_answers(demo: Demo, sent: list[models.Claim]) -> None:
    """The payer's 277CA arrives for the claims sent: each gets the payer's claim control number, which a
    later void or replacement sends in REF*F8."""
    async with demo.services.sessionmaker() as db, db.begin():
        for index, claim in enumerate(sent, 1):
            received = read_837p(claim.edi837).interchange
            number = payer_claim_number(received.created_at.date(), received.control_number, index)
            await billing_queries.record_payer_claim_number(db, claim.id, number)


async def _corrections(demo: Demo, php: uuid.UUID, monday: date) -> None:
    """Last Monday's PHP Day Program, billed, sent and answered; then corrected twice, as a billing office does.

    Four AHCCCS members attended (band 1-4). Umber Stone, marked absent, had come in late after all: five
    billable moves everyone to the 5-8 band, so the four claims the payer holds get REPLACEMENTs carrying
    the payer's claim numbers in REF*F8, and Umber an ORIGINAL. Then Quinn Nakai's coverage on file turns
    out wrong (Suncrest is the primary): the AHCCCS claim is VOIDed (REF*F8 the payer's number for the
    replacement) and an ORIGINAL goes to Suncrest, held until its note is signed (Suncrest's rule). The
    program's lead (Priya Raman) is the rendering provider (2310B) of every claim."""
    added = await demo.run(
        scheduling.add_occurrence,
        scheduling.NewOccurrence(php, monday - timedelta(days=7), time(8, 30), time(12, 30)),
    )
    session, roster = await demo.session_of(added)
    by_patient = {entry.patient_id: entry for entry in roster}
    ahcccs_members = [demo_id("patient", i) for i in (14, 16, 17, 19)]
    for entry in roster:
        status = AttendanceStatus.ATTENDED if entry.patient_id in ahcccs_members else AttendanceStatus.ABSENT
        await demo.run(attendance.set_attendance, entry.id, attendance.Mark(status))
    await demo.run(billing.run_billing, session.id)
    sent = await _submit_all(demo, session.id)
    await _payer_answers(demo, sent)
    # The payer's eligibility answer shows a mistyped member id on one claim: a claim-level correction
    # (billing.write, audited with its reason) replaces the claim the payer holds (REF*F8 its number).
    mistyped = next(claim for claim in sent if claim.patient_id == demo_id("patient", 17))
    await demo.run(
        billing.correct_claim,
        mistyped.id,
        billing.ClaimCorrection(member_id="A800017"),
        given={"member_id"},
        reason="Member id corrected to A800017, as the payer's eligibility answer gives it",
    )
    await _payer_answers(demo, await _submit_all(demo, session.id, ClaimFrequency.REPLACEMENT))

    await demo.run(
        attendance.set_attendance,
        by_patient[demo_id("patient", 20)].id,
        attendance.Mark(
            AttendanceStatus.LATE,
            force=True,
            reason="Signed in at 8:40; the sign-in sheet was found after billing",
            arrived_at=session.starts_at + timedelta(minutes=10),
        ),
    )
    await _payer_answers(demo, await _submit_all(demo, session.id))

    quinn = demo_id("patient", 16)
    async with demo.services.sessionmaker() as db, db.begin():
        await reference_queries.demote_coverages(db, quinn, demo_id("payer", "AHCCCS"), 2)
        await insert_missing(
            db,
            models.Coverage,
            [
                {
                    "id": demo_id("coverage", "corrected", 16),
                    "patient_id": quinn,
                    "payer_id": demo_id("payer", "SUNCREST"),
                    "member_id": "S880016",
                    "priority": 1,
                    "effective_from": date(2024, 1, 1),
                    "effective_to": None,
                }
            ],
        )
    await demo.run(
        attendance.set_attendance,
        by_patient[quinn].id,
        attendance.Mark(
            AttendanceStatus.LATE,
            force=True,
            reason="Coverage corrected to Suncrest; arrived at 8:35",
            arrived_at=session.starts_at + timedelta(minutes=5),
        ),
    )
    await _submit_all(demo, session.id, ClaimFrequency.VOID)


GROUP_OF_ONE_DAYS_BACK = 4  # last Thursday, from this week's Monday


async def _group_of_one(demo: Demo, grief: uuid.UUID, monday: date) -> None:
    """Last Thursday's grief circle: only Arden Nakai came. 90853 is a group code and needs two patients at
    least, so the preview's GROUP_OF_ONE (BLOCKING) held the session; the sweep that follows bills it at its
    finalization deadline as it stands, and the claim carries GROUP_OF_ONE, which no submission gets past
    (one patient's visit is individual psychotherapy, coded otherwise)."""
    added = await demo.run(
        scheduling.add_occurrence,
        scheduling.NewOccurrence(grief, monday - timedelta(days=GROUP_OF_ONE_DAYS_BACK), time(14, 0), time(15, 30)),
    )
    session, roster = await demo.session_of(added)
    for entry in roster:
        status = AttendanceStatus.ATTENDED if entry.patient_id == demo_id("patient", 26) else AttendanceStatus.ABSENT
        await demo.run(attendance.set_attendance, entry.id, attendance.Mark(status))
    await demo.run(
        attendance.set_supervisor_attendance,
        session.id,
        demo_id("staff", 2),
        attendance.Mark(AttendanceStatus.ATTENDED),
    )


PER_DIEM_GROUP = ("IOP Afternoons (Mesa, per diem)", "FREQ=WEEKLY;BYDAY=MO,WE", "13:00")


async def _program_coordination(demo: Demo, monday: date) -> None:
    """Mesa's IOP: Rowan's day last Wednesday in two groups (13:00-14:30 and 15:00-16:30, three hours) billed
    per diem by the sweep that follows; their 10-day authorization ends this Sunday, before the group's five
    weeks; Sloane, enrolled for the weeks ahead, is answered inactive for the first of them."""
    name, rule, start = PER_DIEM_GROUP
    group = await demo.run(
        scheduling.create_group,
        scheduling.NewGroup(
            name=name,
            group_type=GroupType.IOP,
            facility_id=FACILITY_ID,
            facilitator_id=demo_id("staff", 3),
            max_capacity=8,
            duration_minutes=180,
            location="Room 7",
            recurrence_rule=rule,
            recurrence_start=datetime.combine(monday, datetime.strptime(start, "%H:%M").time(), PHOENIX),
        ),
    )
    await demo.run(enrollment.enroll_patient, group.id, PER_DIEM_PATIENT)
    wednesday = monday - timedelta(days=5)
    await demo.run(
        authorizations.create_authorization,
        PER_DIEM_PATIENT,
        MESA,
        authorizations.AuthorizationSpec(
            AUTHORIZATION_NUMBER, (), "IOP", UnitKind.DAYS, 10, monday - timedelta(days=21), monday + timedelta(days=6)
        ),
    )
    await demo.run(
        authorizations.create_authorization,
        LAPSED_PATIENT,
        MESA,
        authorizations.AuthorizationSpec(
            "MHP-IOP-2304", (), "IOP", UnitKind.DAYS, 20, monday - timedelta(days=7), monday + timedelta(days=90)
        ),
    )
    exchange = simulated_exchange([DEMO_INACTIVE_MEMBER])
    await demo.run(eligibility.check_eligibility, exchange, PER_DIEM_PATIENT, wednesday)
    for begins, ends in ((time(13), time(14, 30)), (time(15), time(16, 30))):
        added = await demo.run(scheduling.add_occurrence, scheduling.NewOccurrence(group.id, wednesday, begins, ends))
        _, roster = await demo.session_of(added)
        for entry in roster:
            await demo.run(attendance.set_attendance, entry.id, attendance.Mark(AttendanceStatus.ATTENDED))
    next_monday = monday + timedelta(days=7)
    await demo.run(scheduling.generate_occurrences, group.id, next_monday, next_monday + timedelta(days=34))
    await demo.run(enrollment.enroll_patient, group.id, LAPSED_PATIENT)
    for patient in (PER_DIEM_PATIENT, LAPSED_PATIENT):
        await demo.run(eligibility.check_eligibility, exchange, patient, next_monday)


# The simulated payer's answers to the demo's batch, by session (days ago) and member: paid below the contract,
# rejected at the front door, denied for authorization; then paid, denied for missing information, paid and later reversed.
PAST_SESSIONS = (160, 9)  # days ago: the first near AHCCCS's 180-day filing limit
DEMO_OUTCOMES = {
    (160, 22): Outcome.PAID_BELOW_CONTRACT,  # allowed 90% of AHCCCS's rate: an underpayment
    (160, 23): Outcome.REJECTED,
    (160, 25): Outcome.DENIED_NO_AUTHORIZATION,
    (9, 22): Outcome.PAID,
    (9, 23): Outcome.DENIED_MISSING_INFORMATION,
    (9, 25): Outcome.PAID_THEN_REVERSED,
}
# What the simulated AHCCCS allows: its 1-4 band's rate, what the Anger Management claims (three billable
# members) expect to be paid (Charge.expectedAmount); the facility bills its fee (60.00), CO-45 the rest.
DEMO_CONTRACT = {"90853:HQ": Decimal("38.50")}
UNMARKED_DAYS_AGO = 4  # a session nobody marked, closed at its finalization deadline


async def _payer_cycle(demo: Demo, anger: uuid.UUID, now: datetime, mark, supervised) -> None:
    """Anger Management's past: two sessions billed, sent in the daily batch and answered by the simulated
    payer (a 999, a 277CA, an 835 and a later reversing 835, imported as the inbox would), so the claims show
    paid, rejected, denied and reversed and the billing office's queues have work; and one session nobody
    marked, which the sweep closes at its deadline."""
    days_of: dict[uuid.UUID, int] = {}
    for days in PAST_SESSIONS:
        added = await demo.run(
            scheduling.add_occurrence,
            scheduling.NewOccurrence(anger, now.date() - timedelta(days=days), time(10, 0), time(11, 0)),
        )
        session, roster = await demo.session_of(added)
        days_of[session.id] = days
        # The Suncrest member (no claim without a signed note) was away both times.
        await mark(roster, ["ABSENT" if entry.patient_id == demo_id("patient", 24) else "ATTENDED" for entry in roster])
        await supervised(session)
        await demo.run(billing.run_billing, session.id)
        await _accept_warnings(demo, session.id)
    await demo.run(
        scheduling.add_occurrence,
        scheduling.NewOccurrence(anger, now.date() - timedelta(days=UNMARKED_DAYS_AGO), time(10, 0), time(11, 0)),
    )
    settings = demo.services.settings
    contact = billing.SubmitterContact(settings.edi_contact_name, settings.edi_contact_phone)
    submission = await demo.run(claim_batches.submit_batches, contact)
    for batch in submission.batches:
        async with demo.services.sessionmaker() as db:
            claims = (await claim_batches.batch_claims(db, [batch.id]))[0]
        patients = {demo_id("patient", i): i for i in range(30)}
        policy = Policy(
            outcomes={
                c.claim_number: DEMO_OUTCOMES[(days_of[c.session_id], patients[c.patient_id])]
                for c in claims
                if (days_of.get(c.session_id), patients.get(c.patient_id)) in DEMO_OUTCOMES
            },
            contract=DEMO_CONTRACT,
        )
        answers = answer_claims(batch.text, policy)
        for name, text in (
            ("999", answers.acknowledgment),
            ("277", answers.claim_acknowledgment),
            ("835", answers.remittance),
            ("reversal.835", answers.reversal),
        ):
            if text is not None:
                await demo.run(remittance.import_edi, text, name=f"{batch.file_name}.{name}", source="demo")


async def _document_locked(demo: Demo, session: models.GroupSession, roster: list[models.RosterEntry]) -> None:
    """The grief circle's notes by its facilitator (Dana), every one signed; the AHCCCS member's
    note co-signed by their supervisor (Priya), as AHCCCS asks in Arizona."""
    group = await demo.run_as(
        0,
        notes.create_group_note,
        session.id,
        {
            "topic": "Anniversary reactions",
            "interventions": ["Peer support", "Validation"],
            "group_dynamics": "Supportive; two members shared for the first time",
        },
    )
    await demo.run_as(0, notes.sign_note, "GroupNote", group.id)
    async with demo.services.sessionmaker() as db:
        members = {n.roster_entry_id: n for n in (await notes_queries.member_notes_by_session(db, [session.id]))[0]}
    for entry in roster:
        note = members.get(entry.id)
        if note is None:
            continue
        await demo.run_as(
            0,
            notes.update_note,
            "MemberNote",
            note.id,
            {
                "participation": Participation.ACTIVE,
                "progress_toward_goals": "Named one coping step for the week",
            },
        )
        await demo.run_as(0, notes.sign_note, "MemberNote", note.id)
    await demo.run_as(2, notes.cosign_note, "MemberNote", members[roster[0].id].id)


async def _document_ended(demo: Demo, session: models.GroupSession, roster: list[models.RosterEntry]) -> None:
    """This morning's CBT: one member left a third of the way in (30 minutes, below AHCCCS's 45),
    the group note is signed, the first member note signed with a risk flag, the rest still drafts."""
    third = int((session.ends_at - session.starts_at).total_seconds() // 180)
    await demo.run(
        attendance.set_roster_entry_visit,
        roster[1].id,
        attendance.Visit(departed_at=session.starts_at + timedelta(minutes=third)),
        {"departed_at"},
    )
    group = await demo.run_as(
        1,
        notes.create_group_note,
        session.id,
        {
            "topic": "Behavioral activation",
            "interventions": ["Activity scheduling", "Homework review"],
        },
    )
    await demo.run_as(1, notes.sign_note, "GroupNote", group.id)
    async with demo.services.sessionmaker() as db:
        members = {n.roster_entry_id: n for n in (await notes_queries.member_notes_by_session(db, [session.id]))[0]}
    first = members[roster[0].id]
    await demo.run_as(
        1,
        notes.update_note,
        "MemberNote",
        first.id,
        {
            "participation": Participation.MODERATE,
            "risk_flags": [RiskFlag.SUBSTANCE_USE],
            "progress_toward_goals": "Scheduled two activities; reports one lapse",
        },
    )
    await demo.run_as(1, notes.sign_note, "MemberNote", first.id)


__all__ = ["load_demo", "demo_id", "FACILITY_ID"]
