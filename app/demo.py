"""The demo clinic: an Arizona facility with payers, band tables, staff and patients.

Idempotent: every record has a fixed id derived from its name, and existing ids are skipped.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.db import models

NAMESPACE = uuid.UUID("6f1c3f52-59a4-4d43-9d55-2a6b4c1e8a10")


def demo_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


FACILITY_ID = demo_id("facility", "desert-bloom")

STAFF = [
    ("Dana Whitfield, LCSW", "1245319599"),
    ("Marcus Oyelaran, LPC", "1679576722"),
    ("Priya Raman, PsyD", "1003000126"),
    ("Tomás Aguilar, LISAC", "1215930367"),
]

FIRST = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jordan",
         "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Riley", "Sage", "Taylor",
         "Umber", "Vale", "Winter", "Xen", "Yael", "Zion", "Arden", "Bellamy", "Corin", "Dale"]
LAST = ["Stone", "Rivers", "Mesa", "Sandoval", "Yazzie", "Begay", "Nakai", "Ortiz", "Reyes", "Chee"]


async def load_demo(services) -> str:
    """Reference data by fixed ids, then the clinic's groups, schedule and today's sessions through
    the GraphQL schema itself (so the demo exercises the same code paths clients do)."""
    async with services.sessionmaker() as session, session.begin():
        await _reference_data(session)
        has_groups = await session.scalar(
            select(models.GroupDefinition.id).where(models.GroupDefinition.facility_id == FACILITY_ID).limit(1)
        )
    if has_groups:
        return "Demo clinic already loaded."
    await _clinic_activity(DemoClient(services))
    return "Loaded the demo clinic: Desert Bloom Behavioral Health (America/Phoenix)."


async def _upsert(session, model, rows: list[dict]) -> None:
    if rows:
        await session.execute(insert(model).values(rows).on_conflict_do_nothing())


async def _reference_data(session) -> None:
    await _upsert(session, models.Facility, [{
        "id": FACILITY_ID, "name": "Desert Bloom Behavioral Health", "state": "AZ",
        "timezone": "America/Phoenix", "npi": "1234567893", "tax_id": "861234567",
        "address_line1": "2200 E Camelback Rd", "city": "Phoenix", "postal_code": "85016",
    }])
    ahcccs, commercial = demo_id("payer", "AHCCCS"), demo_id("payer", "SUNCREST")
    await _upsert(session, models.Payer, [
        {"id": ahcccs, "name": "AHCCCS Complete Care (demo)", "payer_code": "AZAHCCCS"},
        {"id": commercial, "name": "Suncrest Health Plan (demo)", "payer_code": "SUNCREST"},
    ])
    bands = [
        # A gap at 9 on purpose: nine billable members code to the 5-8 band with a warning.
        (ahcccs, 1, 4, "90853", ["HQ"], Decimal("38.50")),
        (ahcccs, 5, 8, "90853", ["HQ"], Decimal("31.25")),
        (ahcccs, 10, 12, "90853", ["HQ", "U1"], Decimal("26.00")),
        (commercial, 2, 6, "90853", [], Decimal("55.00")),
        (commercial, 7, 10, "90853", [], Decimal("47.00")),
    ]
    await _upsert(session, models.GroupSizeBand, [
        {"id": demo_id("band", p, lo), "payer_id": p, "state": "AZ", "min_size": lo, "max_size": hi,
         "procedure_code": code, "modifiers": mods, "rate": rate}
        for p, lo, hi, code, mods, rate in bands
    ])
    await _upsert(session, models.SupervisionRule, [
        {"id": demo_id("rule", ahcccs), "payer_id": ahcccs, "state": "AZ", "max_participants_per_supervisor": 6},
        {"id": demo_id("rule", commercial), "payer_id": commercial, "state": "AZ", "max_participants_per_supervisor": 8},
    ])
    await _upsert(session, models.Staff, [
        {"id": demo_id("staff", i), "name": name, "npi": npi, "facility_id": FACILITY_ID}
        for i, (name, npi) in enumerate(STAFF)
    ])
    patients = []
    for i in range(30):
        patients.append({
            "id": demo_id("patient", i), "mrn": f"DB{1000 + i}",
            "name": f"{FIRST[i]} {LAST[i % len(LAST)]}",
            "date_of_birth": date(1960 + (i * 7) % 40, 1 + i % 12, 1 + (i * 3) % 28),
            "facility_id": FACILITY_ID, "sex": "FM"[i % 2],
            "address_line1": f"{100 + i} W Roosevelt St", "city": "Phoenix", "state": "AZ", "postal_code": "85003",
        })
    await _upsert(session, models.Patient, patients)
    await _upsert(session, models.Coverage, [
        {"id": demo_id("coverage", i), "patient_id": demo_id("patient", i),
         "payer_id": ahcccs if i % 3 else commercial, "member_id": f"A{700000 + i}",
         "priority": 1, "effective_from": date(2024, 1, 1), "effective_to": None}
        for i in range(28)  # the last two patients have no coverage
    ])
    await _upsert(session, models.StaffAssignment, [
        {"id": demo_id("assign", i), "staff_id": demo_id("staff", 2 + i % 2), "patient_id": demo_id("patient", i),
         "role": "SUPERVISING"}
        for i in range(30)
    ])


class DemoClient:
    """Runs GraphQL operations in-process as the demo administrator."""

    def __init__(self, services) -> None:
        from app.auth import ALL_SCOPES, Principal
        from app.schema.root import schema

        self.services = services
        self.schema = schema
        self.principal = Principal(subject="demo-loader", scopes=frozenset(ALL_SCOPES), facilities=("*",))

    async def run(self, document: str, **variables) -> dict:
        from app.schema.context import Context

        context = Context(services=self.services, request=None, response=None, _principal=self.principal)
        result = await self.schema.execute(document, variable_values=variables, context_value=context)
        if result.errors:
            raise RuntimeError(f"demo step failed: {[e.message for e in result.errors]}")
        return result.data


def gid(type_name: str, *parts: object) -> str:
    from app.ids import encode_id

    return encode_id(type_name, demo_id(*parts))


GROUPS = [
    # name, type, facilitator, co-facilitator, max, minutes, rule, first start (Phoenix wall time)
    ("IOP Mornings (compliant)", "IOP", 0, 1, 10, 180, "FREQ=WEEKLY;BYDAY=MO,WE,FR", "09:00"),
    ("IOP Evenings (short of hours)", "IOP", 1, None, 10, 120, "FREQ=WEEKLY;BYDAY=TU,TH", "17:30"),
    ("PHP Day Program", "PHP", 2, 3, 12, 240, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "08:30"),
    ("Anger Management Skills", "SKILLS_TRAINING", 3, None, 6, 60, "FREQ=WEEKLY;BYDAY=SA", "10:00"),
    ("Grief Support Circle", "SUPPORT", 0, None, 8, 90, None, None),
    ("Morning CBT Group", "THERAPY", 1, 2, 9, 90, None, None),
]

CREATE_GROUP = """mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }"""
ENROLL = """mutation($g: ID!, $p: ID!) { enrollPatient(groupId: $g, patientId: $p) { outcome } }"""
GENERATE = """mutation($g: ID!, $from: Date!, $to: Date!) { generateOccurrences(groupId: $g, from: $from, to: $to) { skipped } }"""
ADD_OCCURRENCE = """mutation($input: AddOccurrenceInput!) { addOccurrence(input: $input) { id } }"""
OCCURRENCE_SESSION = """query($id: ID!) { occurrence(id: $id) { session { id roster { id } } } }"""
SET_ATTENDANCE = """mutation($id: ID!, $status: AttendanceStatus!) { setAttendance(participantId: $id, status: $status) { id } }"""
SET_SUPERVISOR = """mutation($s: ID!, $staff: ID!, $status: AttendanceStatus!) {
  setSupervisorAttendance(sessionId: $s, staffId: $staff, status: $status) { id } }"""
ACCEPT = """mutation($s: ID!, $note: String!) {
  acceptBillingIssue(sessionId: $s, code: SUPERVISION_RATIO_BREACH, note: $note) { readyToBill } }"""
RUN_BILLING = """mutation($s: ID!) { runBilling(sessionId: $s) { claims { id } } }"""
SUBMIT = """mutation($c: ID!) { submitClaim(claimId: $c) { status } }"""


async def _clinic_activity(client: DemoClient) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    phoenix = ZoneInfo("America/Phoenix")
    today = client.services.clock.now().astimezone(phoenix).date()
    monday = today - timedelta(days=today.weekday())
    groups = []
    for name, kind, lead, co, capacity, minutes, rule, start in GROUPS:
        data = {
            "name": name, "groupType": kind, "facilityId": gid("Facility", "facility", "desert-bloom"),
            "facilitatorId": gid("Staff", "staff", lead), "maxCapacity": capacity, "durationMinutes": minutes,
            "location": f"Room {len(groups) + 1}", "minCapacity": 3,
        }
        if co is not None:
            data["coFacilitatorId"] = gid("Staff", "staff", co)
        if rule:
            first = datetime.combine(monday, datetime.strptime(start, "%H:%M").time(), phoenix)
            data.update(recurrenceRule=rule, recurrenceStart=first.isoformat())
        groups.append((await client.run(CREATE_GROUP, input=data))["createGroup"]["id"])
    iop_am, iop_pm, php, anger, grief, cbt = groups

    # Enrollments: CBT fills its 9 seats and three wait in line.
    plan = {iop_am: range(0, 8), iop_pm: range(8, 14), php: range(14, 22), anger: range(22, 26), cbt: range(0, 12), grief: range(26, 30)}
    for group, patients in plan.items():
        for i in patients:
            await client.run(ENROLL, g=group, p=gid("Patient", "patient", i))

    # A month of occurrences from each rule, from this week's Monday (so this week's compliance shows).
    for group in (iop_am, iop_pm, php, anger):
        await client.run(GENERATE, g=group, **{"from": monday.isoformat(), "to": (monday + timedelta(days=34)).isoformat()})

    # Today's sessions in each state, relative to now in Phoenix.
    now = client.services.clock.now().astimezone(phoenix)

    async def occurrence(group: str, start: datetime, minutes: int) -> dict:
        # No session spans midnight: one that would is cut short at 23:59 of its day.
        end = min(start + timedelta(minutes=minutes), start.replace(hour=23, minute=59))
        start = min(start, end - timedelta(minutes=15))
        data = {"groupId": group, "sessionDate": start.date().isoformat(),
                "startTime": start.time().isoformat(), "endTime": end.time().isoformat()}
        added = (await client.run(ADD_OCCURRENCE, input=data))["addOccurrence"]
        # The clinical side builds the session from the committed occurrence's event.
        return (await client.run(OCCURRENCE_SESSION, id=added["id"]))["occurrence"]["session"]

    def at(delta: timedelta) -> datetime:
        """A start `delta` from now, on a five-minute mark, never before midnight of its own day."""
        start = (now + delta).replace(second=0, microsecond=0)
        return start.replace(minute=start.minute - start.minute % 5)

    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    locked = await occurrence(grief, at(timedelta(hours=-5)), 90)
    ended = await occurrence(cbt, at(timedelta(hours=-3)), 90)
    # In progress now: started half an hour ago (or at midnight, just after it).
    live = await occurrence(cbt, max(at(timedelta(minutes=-30)), midnight), 90)
    later = at(timedelta(hours=2))
    if later.date() == now.date() and later.hour < 23:
        await occurrence(grief, later, 90)

    for status, entry in zip(["ATTENDED", "ATTENDED", "LATE", "ATTENDED"], locked["roster"]):
        await client.run(SET_ATTENDANCE, id=entry["id"], status=status)
    await client.run(SET_SUPERVISOR, s=locked["id"], staff=gid("Staff", "staff", 2), status="ATTENDED")
    for i, entry in enumerate(ended["roster"]):
        await client.run(SET_ATTENDANCE, id=entry["id"], status="ABSENT" if i % 4 == 3 else "ATTENDED")
    await client.run(SET_SUPERVISOR, s=ended["id"], staff=gid("Staff", "staff", 2), status="ATTENDED")
    await client.run(ACCEPT, s=ended["id"], note="Second clinician in the room; documented per AHCCCS exception")
    # In the room now: mixed attendance, one supervisor present, so the preview shows issues.
    for status, entry in zip(["ATTENDED"] * 5 + ["LATE", "LATE", "ABSENT"], live["roster"]):
        await client.run(SET_ATTENDANCE, id=entry["id"], status=status)
    await client.run(SET_SUPERVISOR, s=live["id"], staff=gid("Staff", "staff", 2), status="ATTENDED")

    claims = (await client.run(RUN_BILLING, s=locked["id"]))["runBilling"]["claims"]
    if claims:
        await client.run(SUBMIT, c=claims[0]["id"])


__all__ = ["load_demo", "demo_id", "FACILITY_ID"]
