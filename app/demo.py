"""The demo clinic: an Arizona facility with payers, band tables, staff and patients.

Idempotent: every record has a fixed id derived from its name, and existing ids are skipped.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

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
    async with services.sessionmaker() as session, session.begin():
        if await session.get(models.Facility, FACILITY_ID) is not None:
            return "Demo clinic already loaded."
        await _reference_data(session)
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


__all__ = ["load_demo", "demo_id", "FACILITY_ID"]
