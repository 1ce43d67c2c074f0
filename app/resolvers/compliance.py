"""IOP/PHP compliance of a group for one week: its live occurrences, or its rule when none exist."""
from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from strawberry.types import Info

from app.db import models
from app.rules.compliance import PROGRAMS, ComplianceThresholds, evaluate_compliance, session_hours, week_start
from app.rules.recurrence import expand_recurrence, slot_problem, wall_anchor

MAX_SLOTS_PER_WEEK = 7 * 24


async def group_compliance(info: Info, group: models.GroupDefinition, week_of: date | None):
    from app.schema.scheduling import ProgramCompliance

    if group.group_type not in PROGRAMS:
        return None
    loaders = info.context.loaders
    thresholds = await loaders.custom("compliance_thresholds", _thresholds).load(group.group_type)
    if thresholds is None:
        return None
    facility = await loaders.by_id(models.Facility).load(group.facility_id)
    if week_of is None:
        week_of = info.context.services.clock.now().astimezone(ZoneInfo(facility.timezone)).date()
    monday = week_start(week_of)
    occurrences = await loaders.custom("week_occurrences", _week_occurrences).load((group.id, monday))
    if occurrences:
        sessions = session_hours(occurrences)
    else:
        # In a worker thread: a rule whose dates are rare (29 February on a Monday) walks years of
        # days to find the next one, and 30 aliases of this field would hold the event loop meanwhile.
        sessions = await asyncio.to_thread(_projected_sessions, group, facility.timezone, monday)
    return ProgramCompliance.from_result(evaluate_compliance(group.group_type, thresholds, sessions, week_of=monday))


def _projected_sessions(group: models.GroupDefinition, tz_name: str, monday: date) -> list[tuple[date, float]]:
    """The rule's sessions that week, as generateOccurrences would create them."""
    if not group.recurrence_rule or group.recurrence_start is None:
        return []
    slots = expand_recurrence(
        group.recurrence_rule,
        wall_anchor(group.recurrence_start, tz_name),
        tz_name,
        monday,
        monday + timedelta(days=6),
        group.duration_minutes,
        MAX_SLOTS_PER_WEEK,
    )
    return session_hours((s.session_date, s.starts_at, s.ends_at, None) for s in slots if slot_problem(s) is None)


async def _thresholds(session, programs: Sequence[str]) -> list[ComplianceThresholds | None]:
    rows = await session.scalars(select(models.ComplianceThreshold).where(models.ComplianceThreshold.program.in_(programs)))
    found = {
        row.program: ComplianceThresholds(
            hours_per_week=float(row.min_hours_per_week),
            days_per_week=row.min_days_per_week,
            hours_per_day=float(row.min_hours_per_day) if row.min_hours_per_day is not None else None,
        )
        for row in rows
    }
    return [found.get(program) for program in programs]


async def _week_occurrences(session, keys: Sequence[tuple[uuid.UUID, date]]) -> list[list[tuple]]:
    """Every occurrence (cancelled ones too) of each (group, Monday) week, in one query."""
    occurrence = models.GroupOccurrence
    first = min(monday for _, monday in keys)
    last = max(monday for _, monday in keys) + timedelta(days=6)
    rows = await session.execute(
        select(occurrence.group_id, occurrence.session_date, occurrence.starts_at, occurrence.ends_at, occurrence.cancelled_at).where(
            occurrence.group_id.in_({group_id for group_id, _ in keys}), occurrence.session_date.between(first, last)
        )
    )
    by_week: dict[tuple[uuid.UUID, date], list[tuple]] = defaultdict(list)
    for row in rows:
        by_week[(row.group_id, week_start(row.session_date))].append(
            (row.session_date, row.starts_at, row.ends_at, row.cancelled_at)
        )
    return [by_week.get(key, []) for key in keys]
