"""Enrollment changes: enroll, disenroll, remove, with the self-filling waitlist."""

from __future__ import annotations

import strawberry

from app.ids import decode_id
from app.operations import enrollment as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.enrollment.types import DisenrollResult, Enrollment, EnrollmentResult
from app.schema.permissions import scoped


@strawberry.type
class EnrollmentMutation:
    @strawberry.mutation(**scoped(Scope.ENROLLMENTS_CREATE))
    async def enroll_patient(self, info: Info, group_id: strawberry.ID, patient_id: strawberry.ID) -> EnrollmentResult:
        return await ops.enroll_patient(
            await info.context.transaction(),
            info.context.principal,
            decode_id(group_id, "GroupDefinition"),
            decode_id(patient_id, "Patient"),
        )

    @strawberry.mutation(**scoped(Scope.ENROLLMENTS_EDIT))
    async def disenroll_patient(
        self, info: Info, enrollment_id: strawberry.ID, reason: str | None = None
    ) -> DisenrollResult:
        return await ops.disenroll_patient(
            await info.context.transaction(), info.context.principal, decode_id(enrollment_id, "Enrollment"), reason
        )

    @strawberry.mutation(**scoped(Scope.ENROLLMENTS_DELETE))
    async def remove_enrollment(self, info: Info, enrollment_id: strawberry.ID) -> Enrollment:
        removed = await ops.remove_enrollment(
            await info.context.transaction(), info.context.principal, decode_id(enrollment_id, "Enrollment")
        )
        info.context.promotions[removed.enrollment.id] = removed.promoted
        return removed.enrollment
