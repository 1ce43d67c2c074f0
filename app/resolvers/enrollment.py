"""Enrollment operations (built by issue #4)."""
from __future__ import annotations

from typing import Any

from app.errors import NotImplementedYet


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #4")


enroll_patient = disenroll_patient = remove_enrollment = _not_yet
group_capacity = group_enrollments = group_waitlist = _not_yet


async def fill_open_seats(uow: Any, group: Any) -> list:
    """Promote waitlisted patients into free seats (built by issue #4)."""
    return []
