"""An occurrence's status (the scheduling guide's Schedule view), case by case."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.rules.scheduling import OccurrenceStatus, occurrence_status

END = datetime(2026, 3, 10, 18, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("cancelled_at", "now", "status"),
    [
        (None, END - timedelta(hours=2), OccurrenceStatus.SCHEDULED),
        (None, END - timedelta(seconds=1), OccurrenceStatus.SCHEDULED),
        (None, END, OccurrenceStatus.COMPLETED),
        (None, END + timedelta(days=1), OccurrenceStatus.COMPLETED),
        (END - timedelta(days=2), END - timedelta(hours=2), OccurrenceStatus.CANCELLED),
        (END - timedelta(days=2), END + timedelta(days=1), OccurrenceStatus.CANCELLED),
    ],
)
def test_occurrence_status(cancelled_at, now, status):
    assert occurrence_status(cancelled_at, END, now) == status
