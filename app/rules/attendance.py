"""The attendance state machine (rules.md §7) and the derived session status."""
from __future__ import annotations

from datetime import datetime

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "SCHEDULED": ("ATTENDED", "ABSENT", "LATE"),
    "ATTENDED": ("ABSENT", "LATE"),
    "LATE": ("ATTENDED", "ABSENT"),
    "ABSENT": ("ATTENDED", "LATE"),
}


def allowed_next_statuses(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def is_allowed_transition(current: str, new: str) -> bool:
    return new in allowed_next_statuses(current)


def session_status(
    *, starts_at: datetime, ends_at: datetime, cancelled: bool, locked: bool, now: datetime
) -> str:
    if cancelled:
        return "CANCELLED"
    if locked:
        return "LOCKED"
    if now < starts_at:
        return "SCHEDULED"
    if now < ends_at:
        return "IN_PROGRESS"
    return "ENDED"
