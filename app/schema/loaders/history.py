"""History's loaders: an enrollment's absence alert and the sessions an alert counts."""

from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import absences as queries
from app.rules.waitlist import EnrollmentStatus
from app.schema.context import Info


def absence_alerts(info: Info) -> DataLoader[uuid.UUID, models.AbsenceAlert | None]:
    """An enrollment's absence alert."""
    return info.context.loaders.of(queries.alerts_of_enrollments)


async def absence_alert_of(info: Info, enrollment: models.Enrollment) -> models.AbsenceAlert | None:
    """Enrollment.absenceAlert: only an ENROLLED enrollment is at risk."""
    if enrollment.status != EnrollmentStatus.ENROLLED or enrollment.deleted_at is not None:
        return None
    return await absence_alerts(info).load(enrollment.id)


def alert_sessions(info: Info) -> DataLoader[tuple[uuid.UUID, ...], list[models.GroupSession]]:
    """The sessions of an alert's key (see queries.sessions_of_alerts)."""
    return info.context.loaders.of(queries.sessions_of_alerts)
