"""Enrollment types: each wraps its row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.db import models
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enums import EnrollmentStatus
from app.schema.loaders import coverage as coverage_loaders
from app.schema.loaders import enrollment as enrollment_loaders
from app.schema.loaders import history as history_loaders
from app.schema.loaders import reference, scheduling
from app.schema.node import Node, global_id, rows_of
from app.schema.permissions import scoped

GroupDefinitionType = Annotated["GroupDefinition", strawberry.lazy("app.schema.scheduling.types")]  # noqa: F821 - resolved lazily
AuditEntryType = Annotated["AuditEntry", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily
PatientType = Annotated["Patient", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
CoverageAlertType = Annotated["CoverageAlert", strawberry.lazy("app.schema.coverage.types")]  # noqa: F821 - resolved lazily
AbsenceAlertType = Annotated["AbsenceAlert", strawberry.lazy("app.schema.history.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class Enrollment(Node):
    id: strawberry.ID = global_id("Enrollment")
    status: EnrollmentStatus
    waitlist_position: int | None
    enrolled_at: datetime | None
    waitlisted_at: datetime | None
    disenrolled_at: datetime | None
    disenroll_reason: str | None
    deleted_at: datetime | None

    @strawberry.field
    async def group(enrollment: strawberry.Parent[models.Enrollment], info: Info) -> GroupDefinitionType:
        return await scheduling.groups(info).load(enrollment.group_id)

    @strawberry.field
    async def patient(enrollment: strawberry.Parent[models.Enrollment], info: Info) -> PatientType:
        return await reference.patients(info).load(enrollment.patient_id)

    @strawberry.field(
        description="Set while the patient has missed the group type's threshold of sessions in a row (ENROLLED only).",
        **scoped(Scope.SESSION_READ),
    )
    async def absence_alert(enrollment: strawberry.Parent[models.Enrollment], info: Info) -> AbsenceAlertType | None:
        return await history_loaders.absence_alert_of(info, enrollment)

    @strawberry.field(
        description="The patient's coverage problems for this group: an authorization that runs out before the "
        "group's last session (or none where the payer requires one), coverage answered inactive."
    )
    async def coverage_alerts(enrollment: strawberry.Parent[models.Enrollment], info: Info) -> list[CoverageAlertType]:
        group = await scheduling.groups(info).load(enrollment.group_id)
        key = (enrollment.patient_id, enrollment.group_id, group.group_type, info.context.now())
        return await coverage_loaders.alerts(info).load(key)

    @strawberry.field(
        description="The enrollment's audit log, oldest first: each change of status, and its absence alerts."
    )
    async def audit_log(enrollment: strawberry.Parent[models.Enrollment], info: Info) -> list[AuditEntryType]:
        return await enrollment_loaders.audit_entries(info).load(enrollment.id)

    @strawberry.field(
        description="Who this request's removeEnrollment promoted from the waitlist into the freed seat; null otherwise."
    )
    def promoted(enrollment: strawberry.Parent[models.Enrollment], info: Info) -> Enrollment | None:
        found = info.context.promotions.get(enrollment.id, [])
        return found[0] if found else None

    is_type_of = rows_of(models.Enrollment)


@strawberry.type
class EnrollmentResult:
    enrollment: Enrollment
    outcome: EnrollmentStatus
    message: str


@strawberry.type
class DisenrollResult:
    enrollment: Enrollment
    promoted: Enrollment | None
    message: str
