"""Group types, occurrence status and other small scheduling rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class GroupType(StrEnum):
    THERAPY = "THERAPY"
    PSYCHOEDUCATION = "PSYCHOEDUCATION"
    SKILLS_TRAINING = "SKILLS_TRAINING"
    SUPPORT = "SUPPORT"
    IOP = "IOP"
    PHP = "PHP"
    OTHER = "OTHER"


class OccurrenceStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


def occurrence_status(cancelled_at: datetime | None, ends_at: datetime, now: datetime) -> OccurrenceStatus:
    if cancelled_at is not None:
        return OccurrenceStatus.CANCELLED
    if ends_at <= now:
        return OccurrenceStatus.COMPLETED
    return OccurrenceStatus.SCHEDULED
