"""Who may do what: the scopes a bearer token carries (rules.md §2, the guides' permission names)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    GROUP_DEFINITIONS_VIEW = "pm.group_definitions.view"
    GROUP_DEFINITIONS_CREATE = "pm.group_definitions.create"
    GROUP_DEFINITIONS_EDIT = "pm.group_definitions.edit"
    GROUP_DEFINITIONS_DELETE = "pm.group_definitions.delete"
    GROUP_SCHEDULE_VIEW = "pm.group_schedule.view"
    GROUP_SCHEDULE_CREATE = "pm.group_schedule.create"
    GROUP_SCHEDULE_EDIT = "pm.group_schedule.edit"
    GROUP_SCHEDULE_DELETE = "pm.group_schedule.delete"
    ENROLLMENTS_VIEW = "pm.group_enrollments.view"
    ENROLLMENTS_CREATE = "pm.group_enrollments.create"
    ENROLLMENTS_EDIT = "pm.group_enrollments.edit"
    ENROLLMENTS_DELETE = "pm.group_enrollments.delete"
    SESSION_READ = "clinical.group-session.read"
    SESSION_CREATE = "clinical.group-session.create"
    ATTENDANCE_WRITE = "clinical.attendance.write"
    ATTENDANCE_FORCE = "clinical.attendance.write.force"
    BILLING_READ = "billing.read"
    BILLING_WRITE = "billing.write"
    REFERENCE_WRITE = "admin.reference.write"
    EVENTS_READ = "events.read"
    # A room display's: its room's live view, the fields a wall may show (app.schema.displays.privacy).
    DISPLAY = "display.room"
    NOTES_READ = "clinical.notes.read"
    NOTES_WRITE = "clinical.notes.write"
    NOTES_COSIGN = "clinical.notes.cosign"
    # Webhook endpoints: register, rotate their secrets, read their delivery logs, replay.
    INTEGRATIONS_WRITE = "integrations.write"


ALL_SCOPES = tuple(Scope)

# What a facilitator's tablet needs: read the day's groups and sessions, mark attendance.
FACILITATOR_SCOPES = (
    Scope.GROUP_DEFINITIONS_VIEW,
    Scope.GROUP_SCHEDULE_VIEW,
    Scope.ENROLLMENTS_VIEW,
    Scope.SESSION_READ,
    Scope.ATTENDANCE_WRITE,
)
