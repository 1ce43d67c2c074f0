"""Sessions operations (built by issue #5)."""
from __future__ import annotations

from typing import Any

from app.errors import NotImplementedYet


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #5")


list_sessions = get_session = create_group_session = add_session_participant = _not_yet
session_for_occurrence = session_supervisors = session_roster = attendance_summary = _not_yet
