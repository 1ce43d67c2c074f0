"""Finalization: billed at the end time, awaiting finalization while a BLOCKING issue stands, billed
with its issues at the deadline (a wall-clock deadline in the facility's zone)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.rules.billing import BillingIssue, BillingIssueCode, IssueSeverity
from app.rules.finalization import (
    Finalization,
    awaiting_message,
    blocking_issues,
    finalization,
    finalization_deadline,
)

UTC = timezone.utc
END = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
DEADLINE = END + timedelta(hours=24)
UNMARKED = BillingIssue(
    BillingIssueCode.GROUP_UNATTENDED_BILLED, IssueSeverity.BLOCKING, "1 participant is still SCHEDULED"
)
BAND_GAP = BillingIssue(BillingIssueCode.GROUP_SIZE_BAND_MISMATCH, IssueSeverity.WARNING, "between bands")
NO_BAND = BillingIssue(BillingIssueCode.GROUP_SIZE_BAND_MISMATCH, IssueSeverity.BLOCKING, "no band")


@pytest.mark.parametrize(
    "issues, now, expected",
    [
        ((), END, Finalization.BILL),
        ((BAND_GAP,), END, Finalization.BILL),  # a WARNING never holds billing back
        ((UNMARKED,), END, Finalization.WAIT),
        ((UNMARKED, BAND_GAP), DEADLINE - timedelta(seconds=1), Finalization.WAIT),
        ((NO_BAND,), END + timedelta(hours=3), Finalization.WAIT),  # any BLOCKING code, not only SCHEDULED rows
        ((UNMARKED,), DEADLINE, Finalization.BILL_AT_DEADLINE),
        ((UNMARKED, NO_BAND), DEADLINE + timedelta(days=3), Finalization.BILL_AT_DEADLINE),
        ((BAND_GAP,), DEADLINE + timedelta(days=3), Finalization.BILL),
    ],
)
def test_finalization(issues, now, expected):
    assert finalization(issues, now=now, deadline=DEADLINE) is expected


def test_blocking_issues_are_every_blocking_severity_whatever_the_code():
    assert blocking_issues([BAND_GAP, UNMARKED, NO_BAND]) == (UNMARKED, NO_BAND)
    assert blocking_issues([BAND_GAP]) == ()


@pytest.mark.parametrize(
    "ends_at, zone, hours, expected",
    [
        # Phoenix keeps no DST: 24 wall hours are 24 hours.
        (datetime(2026, 3, 8, 0, 0, tzinfo=UTC), "America/Phoenix", 24, datetime(2026, 3, 9, 0, 0, tzinfo=UTC)),
        # New York springs forward on 8 March 2026: 17:00 EST on the 7th to 17:00 EDT on the 8th is 23 hours.
        (datetime(2026, 3, 7, 22, 0, tzinfo=UTC), "America/New_York", 24, datetime(2026, 3, 8, 21, 0, tzinfo=UTC)),
        # ... and falls back on 1 November 2026: 25 hours.
        (datetime(2026, 10, 31, 21, 0, tzinfo=UTC), "America/New_York", 24, datetime(2026, 11, 1, 22, 0, tzinfo=UTC)),
        (datetime(2026, 3, 10, 17, 0, tzinfo=UTC), "America/Phoenix", 1.5, datetime(2026, 3, 10, 18, 30, tzinfo=UTC)),
        (datetime(2026, 3, 10, 17, 0, tzinfo=UTC), "America/Phoenix", 0, datetime(2026, 3, 10, 17, 0, tzinfo=UTC)),
    ],
)
def test_finalization_deadline_is_wall_time_in_the_facility_zone(ends_at, zone, hours, expected):
    assert finalization_deadline(ends_at, zone, hours) == expected


def test_awaiting_message_names_the_blocking_issues_and_the_deadline():
    message = awaiting_message([UNMARKED, BAND_GAP], DEADLINE)
    assert "1 participant is still SCHEDULED" in message and "between bands" not in message
    assert DEADLINE.isoformat() in message
