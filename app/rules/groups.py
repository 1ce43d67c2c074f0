"""Group-definition checks: capacities, duration, recurrence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.rules.recurrence import FIRST_START_YEARS, recurrence_rule_problem
from app.rules.reference import control_problem, invisible_problem

MIN_DURATION = 5
MAX_DURATION = 720


@dataclass(frozen=True)
class GroupShape:
    name: str
    max_capacity: int
    min_capacity: int | None
    duration_minutes: int
    recurrence_rule: str | None
    recurrence_start: datetime | None
    facilitator_id: object
    co_facilitator_id: object | None


def group_problems(group: GroupShape, first_start_years: int = FIRST_START_YEARS) -> list[str]:
    """`first_start_years`: how far from recurrenceStart a rule's first start is looked for."""
    problems: list[str] = []
    if not group.name.strip():
        problems.append("name must not be empty")
    elif len(group.name) > 200:
        problems.append("name must be at most 200 characters")
    elif problem := control_problem("name", group.name) or invisible_problem("name", group.name):
        problems.append(problem)
    if group.max_capacity < 1:
        problems.append("maxCapacity must be positive")
    if group.min_capacity is not None:
        if group.min_capacity < 1:
            problems.append("minCapacity must be positive")
        elif group.min_capacity > group.max_capacity:
            problems.append("minCapacity must not exceed maxCapacity")
    if not MIN_DURATION <= group.duration_minutes <= MAX_DURATION:
        problems.append(f"durationMinutes must be between {MIN_DURATION} and {MAX_DURATION}")
    if group.recurrence_rule is not None:
        if group.recurrence_start is None:
            problems.append("recurrenceStart is required with a recurrenceRule")
        else:
            problem = recurrence_rule_problem(group.recurrence_rule, group.recurrence_start, first_start_years)
            if problem:
                problems.append(problem)
    if group.co_facilitator_id is not None and group.co_facilitator_id == group.facilitator_id:
        problems.append("coFacilitator must differ from facilitator")
    return problems


# What a future occurrence takes from its group (FAQ: group edits take effect).
FOLLOWED = ("facilitator_id", "co_facilitator_id", "location", "duration_minutes")


def occurrence_follows(
    before: Mapping[str, Any], after: Mapping[str, Any], occurrence: Mapping[str, Any]
) -> dict[str, Any]:
    """The group's edits a future occurrence takes: each of facilitator, co-facilitator, location
    and duration that changed on the group, where the occurrence still had the group's old value
    (a substitute facilitator or a one-off room set on the occurrence stays)."""
    return {name: after[name] for name in FOLLOWED if before[name] != after[name] and occurrence[name] == before[name]}
