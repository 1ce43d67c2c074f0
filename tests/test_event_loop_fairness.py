"""No single request holds the event loop long enough to delay other clients (rules.md §11)."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import pytest

from tests.support.builders_scheduling import create_group

VIEWER = "{ viewer { subject } }"


async def longest_wait_while(task: asyncio.Task, gql) -> float:
    """Another client's trivial query, due every 20 ms while `task` runs: the longest time from when
    one was due to when it was answered (a loop held by `task` delays both the sending and the answer)."""
    longest = 0.0
    due = time.perf_counter()
    while not task.done():
        assert (await gql.execute(VIEWER))["viewer"]["subject"] == "tester"
        longest = max(longest, time.perf_counter() - due)
        due = time.perf_counter() + 0.02
        await asyncio.sleep(0.02)
    return longest


def compliance_of_thirty_weeks() -> str:
    """30 aliases (the limit), each a different week of 2199: no two share a computation."""
    weeks = [date(2199, 6, 3) + timedelta(weeks=i) for i in range(30)]
    aliases = " ".join(
        f'w{i}: compliance(weekOf: "{week.isoformat()}") {{ status hoursPerWeek }}' for i, week in enumerate(weeks)
    )
    return f"query($id: ID!) {{ group(id: $id) {{ {aliases} }} }}"


@pytest.mark.parametrize(
    "rule, expected",
    [
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", {("COMPLIANT", 9.0)}),
        # Matches once in 28 years: each week walks years of days to find its next date.
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", {("NON_COMPLIANT", 0.0)}),
    ],
)
async def test_compliance_centuries_after_the_anchor_does_not_stall_another_client(gql, clinic, rule, expected):
    group = await create_group(
        gql,
        clinic,
        groupType="IOP",
        durationMinutes=180,
        recurrenceRule=rule,
        recurrenceStart="1900-01-01T09:00:00-07:00",
    )
    heavy = asyncio.create_task(gql.post(compliance_of_thirty_weeks(), {"id": group}))
    waited = await longest_wait_while(heavy, gql)
    body = (await heavy).json()
    assert "errors" not in body, body
    assert {(c["status"], c["hoursPerWeek"]) for c in body["data"]["group"].values()} == expected
    assert waited < 1.0, f"a trivial query waited {waited:.2f}s behind the compliance request"
