"""What a live watcher is told: the kind of each session or group update (rules.md §10)."""

from __future__ import annotations

from enum import StrEnum

# A row a session change touched, as its live update names it: its GraphQL type's name and its key.
# Only the schema turns the two into the global id clients know (app.ids.encode_id).
Touched = tuple[str, str]


def touched(type_name: str, key: object) -> Touched:
    """(type name, key as text): what JSON carries across processes and the schema encodes."""
    return (type_name, str(key))


class SessionUpdateKind(StrEnum):
    SNAPSHOT = "SNAPSHOT"
    ATTENDANCE_CHANGED = "ATTENDANCE_CHANGED"
    ROSTER_CHANGED = "ROSTER_CHANGED"
    SUPERVISORS_CHANGED = "SUPERVISORS_CHANGED"
    ISSUE_ACCEPTED = "ISSUE_ACCEPTED"
    AWAITING_FINALIZATION = "AWAITING_FINALIZATION"
    BILLED = "BILLED"
    LOCKED = "LOCKED"
    FORCE_UPDATED = "FORCE_UPDATED"
    CANCELLED = "CANCELLED"
    RESCHEDULED = "RESCHEDULED"
    DETAILS_CHANGED = "DETAILS_CHANGED"  # the title or facilitator followed an edit of the group
    NOTE_CHANGED = "NOTE_CHANGED"
    VISIT_CHANGED = "VISIT_CHANGED"
    PAUSED = "PAUSED"


class GroupUpdateKind(StrEnum):
    SNAPSHOT = "SNAPSHOT"
    ENROLLED = "ENROLLED"
    WAITLISTED = "WAITLISTED"
    DISENROLLED = "DISENROLLED"
    PROMOTED = "PROMOTED"
    REMOVED = "REMOVED"
    OCCURRENCE_SCHEDULED = "OCCURRENCE_SCHEDULED"
    OCCURRENCE_UPDATED = "OCCURRENCE_UPDATED"
    OCCURRENCE_CANCELLED = "OCCURRENCE_CANCELLED"
    GROUP_CHANGED = "GROUP_CHANGED"
    PAUSED = "PAUSED"


# Broadcaster signals that carry the current state rather than one change: no sequence of their own.
UNSEQUENCED = frozenset({"SNAPSHOT", "PAUSED"})
