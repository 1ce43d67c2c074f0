"""The contract's enums: the domain's enums (app.rules) as GraphQL enums; values are the wire names."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.rules import (
    attendance,
    billing,
    claims,
    compliance,
    displays,
    notes,
    reference,
    scheduling,
    updates,
    visits,
    waitlist,
)

PAUSED = "Live updates are interrupted (broadcaster unreachable); a SNAPSHOT follows when they resume."


def _describe(enum_type: type[Enum], **descriptions: str) -> type[Enum]:
    for value in enum_type.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = descriptions.get(value.name, value.description)
    return enum_type


GroupType = strawberry.enum(scheduling.GroupType)
OccurrenceStatus = strawberry.enum(scheduling.OccurrenceStatus)
EnrollmentStatus = strawberry.enum(waitlist.EnrollmentStatus)
AttendanceStatus = strawberry.enum(attendance.AttendanceStatus)
SessionStatus = strawberry.enum(attendance.SessionStatus)
StaffAssignmentRole = strawberry.enum(reference.StaffAssignmentRole)
BillingIssueCode = strawberry.enum(billing.BillingIssueCode)
IssueSeverity = strawberry.enum(billing.IssueSeverity)
ComplianceProgram = strawberry.enum(compliance.ComplianceProgram)
ComplianceStatus = strawberry.enum(compliance.ComplianceStatus)
ComplianceRequirement = strawberry.enum(compliance.ComplianceRequirement)
ChargeStatus = strawberry.enum(claims.ChargeStatus)
ClaimStatus = strawberry.enum(claims.ClaimStatus)
ClaimFrequency = strawberry.enum(
    claims.ClaimFrequency, description="X12 837P CLM05-3: ORIGINAL = 1, REPLACEMENT = 7, VOID = 8"
)
SessionUpdateKind = _describe(strawberry.enum(updates.SessionUpdateKind), PAUSED=PAUSED)
GroupUpdateKind = _describe(strawberry.enum(updates.GroupUpdateKind), PAUSED=PAUSED)

DisplayNameFormat = strawberry.enum(
    displays.NameFormat,
    name="DisplayNameFormat",
    description="How a facility's room displays show a patient: first name and last initial (the default), or initials.",
)
DisplayMode = strawberry.enum(
    displays.DisplayMode,
    description=(
        "What a room display shows: STAFF (the session, each member's status, billing) or PATIENT_FACING "
        "(for screens patients can see: names and the session, no billing panel, no member's status)."
    ),
)
NoteStatus = strawberry.enum(
    notes.NoteStatus, description="DRAFT → SIGNED by its author → CO_SIGNED by a supervisor where required"
)
SignedNoteRule = strawberry.enum(
    notes.SignedNoteRule, description="A payer's say on an unsigned member note: no check, a WARNING, or BLOCKING"
)
Participation = strawberry.enum(notes.Participation)
RiskFlag = strawberry.enum(notes.RiskFlag)
Modality = strawberry.enum(visits.Modality)
