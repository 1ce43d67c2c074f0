"""Enrollment operations: enroll, disenroll, remove, with the self-filling waitlist."""
from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from app.resolvers import enrollment as ops
from app.schema.node import node_fetcher
from app.schema.permissions import scoped
from app.schema.scheduling import DisenrollResult, Enrollment, EnrollmentResult


@node_fetcher("Enrollment")
async def _enrollment_node(info: Info, pk: uuid.UUID) -> Enrollment:
    return await ops.get_enrollment(info, pk)


@strawberry.type
class EnrollmentMutation:
    @strawberry.mutation(**scoped("pm.group_enrollments.create"))
    async def enroll_patient(self, info: Info, group_id: strawberry.ID, patient_id: strawberry.ID) -> EnrollmentResult:
        return await ops.enroll_patient(info.context, group_id, patient_id)

    @strawberry.mutation(**scoped("pm.group_enrollments.edit"))
    async def disenroll_patient(
        self, info: Info, enrollment_id: strawberry.ID, reason: str | None = None
    ) -> DisenrollResult:
        return await ops.disenroll_patient(info.context, enrollment_id, reason)

    @strawberry.mutation(**scoped("pm.group_enrollments.delete"))
    async def remove_enrollment(self, info: Info, enrollment_id: strawberry.ID) -> Enrollment:
        return await ops.remove_enrollment(info.context, enrollment_id)
