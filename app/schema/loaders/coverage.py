"""Coverage's loaders: a patient's coverage alerts for a group or session."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from app.db.queries import coverage as queries
from app.rules.coverage_alerts import CoverageAlert
from app.schema.context import Info


def alerts(info: Info) -> DataLoader[queries.AlertKey, list[CoverageAlert]]:
    """(patient id, group id or None, program, from when) → what the enrollment or roster shows."""
    return info.context.loaders.of(queries.coverage_alerts_of)
