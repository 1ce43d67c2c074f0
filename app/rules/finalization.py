"""Finalization (attendance guide, Steps; rules.md §9): at its end time a session is billed unless
its billing preview has a BLOCKING issue; then it waits until the last one clears or until the
finalization deadline, when it is billed with its issues recorded on the claims."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.rules.billing import BillingIssue, IssueSeverity


class Finalization(StrEnum):
    """What billing does with an ended, unbilled session now."""

    BILL = "BILL"  # no BLOCKING issue
    WAIT = "WAIT"  # awaiting finalization: a BLOCKING issue, the deadline not reached
    BILL_AT_DEADLINE = "BILL_AT_DEADLINE"  # still blocked at the deadline: billed with its issues


def blocking_issues(issues: Iterable[BillingIssue]) -> tuple[BillingIssue, ...]:
    """The preview's BLOCKING issues, whatever their code."""
    return tuple(issue for issue in issues if issue.severity == IssueSeverity.BLOCKING)


def finalization_deadline(ends_at: datetime, timezone: str, hours: float) -> datetime:
    """`hours` of the facility's wall clock after the session's end: 24 hours after a 17:00 end is
    17:00 the next day in the facility's zone, across a DST change too."""
    zone = ZoneInfo(timezone)
    local_end = ends_at.astimezone(zone).replace(tzinfo=None)
    return (local_end + timedelta(hours=hours)).replace(tzinfo=zone).astimezone(ends_at.tzinfo)


def finalization(issues: Iterable[BillingIssue], *, now: datetime, deadline: datetime) -> Finalization:
    if not blocking_issues(issues):
        return Finalization.BILL
    if now >= deadline:
        return Finalization.BILL_AT_DEADLINE
    return Finalization.WAIT


def awaiting_message(issues: Iterable[BillingIssue], deadline: datetime) -> str:
    """Why a session is not billed yet, for runBilling's refusal."""
    reasons = "; ".join(issue.message for issue in blocking_issues(issues))
    return (
        f"The session is awaiting finalization ({reasons}); it is billed when the last blocking issue "
        f"clears, or at {deadline.isoformat()}"
    )
