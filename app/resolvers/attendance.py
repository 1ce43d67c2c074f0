"""Attendance operations (built by issue #5)."""
from __future__ import annotations

from typing import Any

from app.errors import NotImplementedYet


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #5")


set_attendance = set_supervisor_attendance = _not_yet
