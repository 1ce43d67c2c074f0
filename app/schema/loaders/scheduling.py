"""Scheduling's loaders: groups by id, compliance thresholds, a group's week of occurrences, its audit pages."""

from __future__ import annotations

import uuid
from datetime import date

from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import groups as queries
from app.db.queries.common import Page
from app.rules.compliance import ComplianceThresholds
from app.schema.context import Info


def groups(info: Info) -> DataLoader[uuid.UUID, models.GroupDefinition | None]:
    return info.context.loaders.by_id(models.GroupDefinition)


def compliance_thresholds(info: Info) -> DataLoader[str, ComplianceThresholds | None]:
    """A program's (IOP, PHP) thresholds, by group type."""
    return info.context.loaders.of(queries.compliance_thresholds)


def week_occurrences(info: Info) -> DataLoader[tuple[uuid.UUID, date], list[tuple]]:
    """A (group, Monday) week's occurrences, cancelled ones too."""
    return info.context.loaders.of(queries.week_occurrences)


def audit_pages(
    info: Info, window: Page, hidden_types: tuple[str, ...] = ()
) -> DataLoader[uuid.UUID, tuple[list[models.AuditEntry], int]]:
    """A group's audit log page at `window`, and its total, without the entries about `hidden_types`."""
    return info.context.loaders.of(queries.audit_pages, window.offset, window.limit, hidden_types)
