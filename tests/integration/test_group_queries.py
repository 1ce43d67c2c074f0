"""app.db.queries.groups against PostgreSQL; the occurrence status SQL agrees with its rule."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import models
from app.db.queries import groups as queries
from app.db.queries.common import Page, contains_pattern
from app.rules.scheduling import OccurrenceStatus, occurrence_status
from tests.integration.conftest import NOW, add_group, add_occurrence

HOUR = timedelta(hours=1)


async def test_the_occurrence_status_sql_agrees_with_its_rule(db, facility):
    group = await add_group(db, facility)
    cases = [
        await add_occurrence(db, group, NOW + HOUR),
        await add_occurrence(db, group, NOW - HOUR),  # ends exactly now
        await add_occurrence(db, group, NOW - 3 * HOUR),
        await add_occurrence(db, group, NOW + 2 * HOUR, cancelled_at=NOW - HOUR),
    ]
    by_rule = {o.id: occurrence_status(o.cancelled_at, o.ends_at, NOW) for o in cases}
    assert set(by_rule.values()) == set(OccurrenceStatus)
    for status in OccurrenceStatus:
        found = set(
            await db.scalars(select(models.GroupOccurrence.id).where(queries.occurrence_status_condition(status, NOW)))
        )
        assert found == {pk for pk, rule in by_rule.items() if rule == status}, status


async def test_a_deleted_group_is_not_a_live_group(db, facility):
    live = await add_group(db, facility)
    deleted = await add_group(db, facility, deleted_at=NOW)
    assert (await queries.lock_live_group(db, live.id)).id == live.id
    assert await queries.lock_live_group(db, deleted.id) is None
    assert (await queries.lock_group(db, deleted.id)).id == deleted.id


async def test_search_is_literal_and_the_total_counts_every_page(db, facility):
    for name in ("100% Recovery", "100 Steps", "Skills_A", "SkillsBA"):
        await add_group(db, facility, name=name)
    rows, total = await queries.groups_page(
        db, among_facilities=[facility.id], include_deleted=False, group_type=None, search="100%", window=Page(0, 10)
    )
    assert [r.name for r in rows] == ["100% Recovery"] and total == 1
    rows, total = await queries.groups_page(
        db, among_facilities=None, include_deleted=False, group_type=None, search="s_a", window=Page(0, 1)
    )
    assert [r.name for r in rows] == ["Skills_A"] and total == 1
    rows, total = await queries.groups_page(
        db, among_facilities=None, include_deleted=False, group_type=None, search=None, window=Page(1, 2)
    )
    assert len(rows) == 2 and total == 4
    assert contains_pattern(" 5_0%\\ ") == "%5\\_0\\%\\\\%"


async def test_taken_slots_include_cancelled_occurrences(db, facility):
    group = await add_group(db, facility)
    live = await add_occurrence(db, group, NOW + HOUR)
    cancelled = await add_occurrence(db, group, NOW + 2 * HOUR, cancelled_at=NOW)
    taken = await queries.taken_slots(db, group.id, NOW.date(), NOW.date())
    assert taken == {(live.session_date, live.start_time), (cancelled.session_date, cancelled.start_time)}
