"""Enrollment reads: the node fetcher."""

from __future__ import annotations

import uuid

from strawberry.types import Info

from app.db import models
from app.operations.enrollment import seen_enrollment
from app.schema.enrollment.types import Enrollment


async def enrollment_node(info: Info, pk: uuid.UUID) -> Enrollment:
    loaders = info.context.loaders
    row = await loaders.by_id(models.Enrollment).load(pk)
    group = await loaders.by_id(models.GroupDefinition).load(row.group_id) if row else None
    return seen_enrollment(info.context.principal, row, group)
