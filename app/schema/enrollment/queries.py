"""Enrollment reads: the node fetcher."""

from __future__ import annotations

import uuid

from app.operations.enrollment import seen_enrollment
from app.schema.context import Info
from app.schema.enrollment.types import Enrollment
from app.schema.loaders import enrollment, scheduling


async def enrollment_node(info: Info, pk: uuid.UUID) -> Enrollment:
    row = await enrollment.enrollments(info).load(pk)
    group = await scheduling.groups(info).load(row.group_id) if row else None
    return seen_enrollment(info.context.principal, row, group)
