"""The contract's enums, one Python Enum each; values are the wire names."""
from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class GroupType(Enum):
    THERAPY = "THERAPY"
    PSYCHOEDUCATION = "PSYCHOEDUCATION"
    SKILLS_TRAINING = "SKILLS_TRAINING"
    SUPPORT = "SUPPORT"
    IOP = "IOP"
    PHP = "PHP"
    OTHER = "OTHER"


@strawberry.enum
class OccurrenceStatus(Enum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


@strawberry.enum
class EnrollmentStatus(Enum):
    ENROLLED = "ENROLLED"
    WAITLISTED = "WAITLISTED"
    DISENROLLED = "DISENROLLED"


@strawberry.enum
class AttendanceStatus(Enum):
    SCHEDULED = "SCHEDULED"
    ATTENDED = "ATTENDED"
    LATE = "LATE"
    ABSENT = "ABSENT"


@strawberry.enum
class SessionStatus(Enum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    ENDED = "ENDED"
    LOCKED = "LOCKED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class StaffAssignmentRole(Enum):
    SUPERVISING = "SUPERVISING"
    RENDERING = "RENDERING"


@strawberry.enum
class BillingIssueCode(Enum):
    SUPERVISION_RATIO_BREACH = "SUPERVISION_RATIO_BREACH"
    GROUP_SIZE_BAND_MISMATCH = "GROUP_SIZE_BAND_MISMATCH"
    GROUP_UNATTENDED_BILLED = "GROUP_UNATTENDED_BILLED"


@strawberry.enum
class IssueSeverity(Enum):
    BLOCKING = "BLOCKING"
    WARNING = "WARNING"


@strawberry.enum
class ComplianceProgram(Enum):
    IOP = "IOP"
    PHP = "PHP"


@strawberry.enum
class ComplianceStatus(Enum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"


@strawberry.enum
class ComplianceRequirement(Enum):
    HOURS_PER_WEEK = "HOURS_PER_WEEK"
    DAYS_PER_WEEK = "DAYS_PER_WEEK"
    HOURS_PER_DAY = "HOURS_PER_DAY"


@strawberry.enum
class ChargeStatus(Enum):
    ACTIVE = "ACTIVE"
    VOIDED = "VOIDED"


@strawberry.enum
class ClaimStatus(Enum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    VOIDED = "VOIDED"
    REPLACED = "REPLACED"


@strawberry.enum(description="X12 837P CLM05-3: ORIGINAL = 1, REPLACEMENT = 7, VOID = 8")
class ClaimFrequency(Enum):
    ORIGINAL = "ORIGINAL"
    REPLACEMENT = "REPLACEMENT"
    VOID = "VOID"


@strawberry.enum
class SessionUpdateKind(Enum):
    SNAPSHOT = "SNAPSHOT"
    ATTENDANCE_CHANGED = "ATTENDANCE_CHANGED"
    ROSTER_CHANGED = "ROSTER_CHANGED"
    SUPERVISORS_CHANGED = "SUPERVISORS_CHANGED"
    ISSUE_ACCEPTED = "ISSUE_ACCEPTED"
    BILLED = "BILLED"
    LOCKED = "LOCKED"
    FORCE_UPDATED = "FORCE_UPDATED"
    CANCELLED = "CANCELLED"
    RESCHEDULED = "RESCHEDULED"
    PAUSED = strawberry.enum_value(
        "PAUSED", description="Live updates are interrupted (broadcaster unreachable); a SNAPSHOT follows when they resume."
    )


@strawberry.enum
class GroupUpdateKind(Enum):
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
    PAUSED = strawberry.enum_value(
        "PAUSED", description="Live updates are interrupted (broadcaster unreachable); a SNAPSHOT follows when they resume."
    )
