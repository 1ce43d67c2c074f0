"""Billing helpers shared by the live preview and the claim scrubber (rules.md §8)."""
from __future__ import annotations

BILLABLE_STATUSES = frozenset({"ATTENDED", "LATE"})


def is_billable_status(status: str) -> bool:
    return status in BILLABLE_STATUSES
