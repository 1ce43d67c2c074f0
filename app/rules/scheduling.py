"""Occurrence status and other small scheduling rules."""
from __future__ import annotations

from datetime import datetime


def occurrence_status(cancelled_at: datetime | None, ends_at: datetime, now: datetime) -> str:
    if cancelled_at is not None:
        return "CANCELLED"
    if ends_at <= now:
        return "COMPLETED"
    return "SCHEDULED"
