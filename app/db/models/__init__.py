"""All tables, imported together so Alembic and queries see one metadata."""

from app.db.models.absences import AbsenceAlert, AbsenceThreshold
from app.db.models.base import Base
from app.db.models.billing import Charge, Claim, ClaimBatch, FacilityFee, claim_charges
from app.db.models.calendars import CalendarFeed
from app.db.models.clinical import (
    AcceptedBillingIssue,
    GroupSession,
    RosterEntry,
    SupervisorAttendance,
)
from app.db.models.coverage import (
    AuthorizationUse,
    EligibilityCheck,
    PayerCoverageRule,
    PayerProgram,
    PriorAuthorization,
)
from app.db.models.displays import RoomDisplay
from app.db.models.notes import GroupNote, MemberNote, NoteAddendum, PayerDocumentationRule
from app.db.models.platform import (
    AttemptCounter,
    AuditEntry,
    ConsumerOffset,
    IdempotencyKey,
    IntegrationEvent,
    ReadVersion,
    ReadVersionMark,
)
from app.db.models.reference import (
    Coverage,
    Diagnosis,
    Facility,
    GroupSizeBand,
    Patient,
    Payer,
    Staff,
    StaffAssignment,
    SupervisionRule,
)
from app.db.models.remittance import EdiFile, ProviderAdjustment, RemittanceLine
from app.db.models.scheduling import (
    ComplianceThreshold,
    Enrollment,
    GroupDefinition,
    GroupOccurrence,
)
from app.db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AttemptCounter",
    "AuthorizationUse",
    "EligibilityCheck",
    "PayerCoverageRule",
    "PayerProgram",
    "PriorAuthorization",
    "FacilityFee",
    "AbsenceAlert",
    "AbsenceThreshold",
    "Base",
    "CalendarFeed",
    "Charge",
    "Diagnosis",
    "Claim",
    "ClaimBatch",
    "claim_charges",
    "AcceptedBillingIssue",
    "GroupSession",
    "RosterEntry",
    "SupervisorAttendance",
    "AuditEntry",
    "ConsumerOffset",
    "IdempotencyKey",
    "IntegrationEvent",
    "ReadVersion",
    "ReadVersionMark",
    "Coverage",
    "Facility",
    "GroupSizeBand",
    "Patient",
    "Payer",
    "Staff",
    "StaffAssignment",
    "SupervisionRule",
    "ComplianceThreshold",
    "Enrollment",
    "GroupDefinition",
    "GroupOccurrence",
    "RoomDisplay",
    "GroupNote",
    "MemberNote",
    "NoteAddendum",
    "PayerDocumentationRule",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "EdiFile",
    "ProviderAdjustment",
    "RemittanceLine",
]
