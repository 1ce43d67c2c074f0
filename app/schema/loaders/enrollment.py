"""Enrollment's loaders: enrollments by id; a group's counts, pages, history and waitlist; an enrollment's audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import enrollments as queries
from app.db.queries.common import Page
from app.live.envelopes import GroupEnvelope
from app.schema.batching import Loaders
from app.schema.context import Info

Pages = DataLoader[uuid.UUID, tuple[list[models.Enrollment], int]]


def enrollments(info: Info) -> DataLoader[uuid.UUID, models.Enrollment | None]:
    return info.context.loaders.by_id(models.Enrollment)


def counts(info: Info) -> DataLoader[uuid.UUID, dict[str, int]]:
    """A group's enrolled and waitlisted counts, by status."""
    return info.context.loaders.of(queries.counts_by_group)


def pages(info: Info, statuses: Sequence[str], window: Page) -> Pages:
    """A group's enrollments in `statuses` (a tuple), the page at `window`, and their total."""
    return info.context.loaders.of(queries.enrollment_pages, tuple(statuses), window.offset, window.limit)


def history_pages(info: Info, window: Page) -> Pages:
    """Every enrollment a group has had (removed ones too), the page at `window`, and their total."""
    return info.context.loaders.of(queries.enrollment_history_pages, window.offset, window.limit)


def waitlists(info: Info) -> DataLoader[uuid.UUID, list[models.Enrollment]]:
    """A group's waitlist, in position order."""
    return info.context.loaders.of(queries.waitlists)


def audit_entries(info: Info) -> DataLoader[uuid.UUID, list[models.AuditEntry]]:
    """An enrollment's audit log, oldest first."""
    return info.context.loaders.of(queries.audit_entries_of_enrollments)


def prime_group_update(loaders: Loaders, envelope: GroupEnvelope) -> None:
    """What the hub read for a group change, in the loaders that would read it again: the group, its
    counts and waitlist (the line in that change's state), the changed enrollment and occurrence."""
    loaders.prime_row(envelope.group)
    if envelope.counts is not None:
        loaders.prime(queries.counts_by_group, envelope.group.id, envelope.counts)
    if envelope.waitlist is not None:
        loaders.prime(queries.waitlists, envelope.group.id, list(envelope.waitlist))
    for row in (envelope.enrollment, envelope.occurrence):
        if row is not None:
            loaders.prime_row(row)
