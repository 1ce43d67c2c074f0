"""A group definition's shape (the scheduling guide's Create group form), case by case."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from app.rules.groups import GroupShape, group_problems, occurrence_follows

START = datetime(2026, 12, 7, 13, 0, tzinfo=timezone.utc)
GROUP = GroupShape(
    name="IOP Afternoons",
    max_capacity=10,
    min_capacity=3,
    duration_minutes=180,
    recurrence_rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
    recurrence_start=START,
    facilitator_id="s1",
    co_facilitator_id="s2",
)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"min_capacity": None, "co_facilitator_id": None, "recurrence_rule": None, "recurrence_start": None}, None),
        ({"name": "   "}, "name must not be empty"),
        ({"name": "x" * 201}, "name must be at most 200 characters"),
        ({"max_capacity": 0}, "maxCapacity must be positive"),
        ({"min_capacity": 0}, "minCapacity must be positive"),
        ({"min_capacity": 11}, "minCapacity must not exceed maxCapacity"),
        ({"duration_minutes": 4}, "durationMinutes must be between 5 and 720"),
        ({"duration_minutes": 721}, "durationMinutes must be between 5 and 720"),
        ({"recurrence_start": None}, "recurrenceStart is required with a recurrenceRule"),
        ({"recurrence_rule": "FREQ=HOURLY"}, "more frequent than DAILY"),
        ({"recurrence_rule": "FREQ=DAILY;BYHOUR=9,13"}, "more frequent than DAILY"),
        ({"co_facilitator_id": "s1"}, "coFacilitator must differ from facilitator"),
    ],
)
def test_group_problems(change, problem):
    problems = group_problems(replace(GROUP, **change))
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


BEFORE = {"facilitator_id": "dana", "co_facilitator_id": None, "location": "Room 1", "duration_minutes": 90}


@pytest.mark.parametrize(
    "after, occurrence, follows",
    [
        ({}, {}, {}),  # nothing changed
        ({"facilitator_id": "marcus"}, {}, {"facilitator_id": "marcus"}),
        ({"facilitator_id": "marcus"}, {"facilitator_id": "priya"}, {}),  # a substitute stays
        (
            {"location": "Room 4", "co_facilitator_id": "tomas"},
            {},
            {"location": "Room 4", "co_facilitator_id": "tomas"},
        ),
        ({"location": "Room 4"}, {"location": "Annex"}, {}),  # a one-off room stays
        ({"location": None}, {}, {"location": None}),  # cleared on the group, cleared on the occurrence
        ({"duration_minutes": 120}, {}, {"duration_minutes": 120}),
        ({"duration_minutes": 120}, {"duration_minutes": 60}, {}),  # an occurrence made shorter by hand stays
        ({"facilitator_id": "marcus", "duration_minutes": 60}, {"facilitator_id": "priya"}, {"duration_minutes": 60}),
    ],
)
def test_occurrence_follows_the_groups_edits_where_it_had_the_groups_value(after, occurrence, follows):
    assert occurrence_follows(BEFORE, {**BEFORE, **after}, {**BEFORE, **occurrence}) == follows
