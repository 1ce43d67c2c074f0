"""Query functions against the real PostgreSQL: rows written directly, read back through app.db.queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import models

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=timezone.utc)  # 10:00 in Phoenix


@pytest.fixture
async def db(services) -> AsyncIterator[AsyncSession]:
    async with services.sessionmaker() as session, session.begin():
        yield session


@pytest.fixture
async def facility(db) -> models.Facility:
    row = models.Facility(name="Desert Bloom", state="AZ", timezone="America/Phoenix")
    db.add(row)
    await db.flush()
    return row


async def add_session(db, facility, starts_at: datetime, minutes: int = 90, **columns) -> models.GroupSession:
    row = models.GroupSession(
        facility_id=facility.id,
        group_type="THERAPY",
        title="Morning CBT",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        **columns,
    )
    db.add(row)
    await db.flush()
    return row


async def add_group(db, facility, **columns) -> models.GroupDefinition:
    staff = models.Staff(name="Dana", facility_id=facility.id)
    db.add(staff)
    await db.flush()
    values = {"name": "IOP", "group_type": "IOP", "max_capacity": 8, "duration_minutes": 60, **columns}
    row = models.GroupDefinition(facility_id=facility.id, facilitator_id=staff.id, **values)
    db.add(row)
    await db.flush()
    return row


async def add_occurrence(db, group, starts_at: datetime, **columns) -> models.GroupOccurrence:
    row = models.GroupOccurrence(
        group_id=group.id,
        facilitator_id=group.facilitator_id,
        session_date=starts_at.date(),
        start_time=starts_at.time(),
        end_time=time(23, 59),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        **columns,
    )
    db.add(row)
    await db.flush()
    return row
