"""Live-update payloads: each wraps the envelope the hub built once for the change."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.live.envelopes import SessionEnvelope
from app.schema.billing.types import BillingPreview
from app.schema.enrollment.types import Enrollment
from app.schema.enums import GroupUpdateKind, SessionUpdateKind
from app.schema.scheduling.types import GroupDefinition, GroupOccurrence
from app.schema.sessions.types import GroupSession


@strawberry.type
class SessionUpdate:
    kind: SessionUpdateKind
    sequence: int
    at: datetime
    session: GroupSession

    @strawberry.field
    def billing_preview(update: strawberry.Parent[SessionEnvelope]) -> BillingPreview:
        return update.preview

    @strawberry.field
    def changed_participant_ids(update: strawberry.Parent[SessionEnvelope]) -> list[strawberry.ID]:
        return [strawberry.ID(entry_id) for entry_id in update.changed]


@strawberry.type
class GroupUpdate:
    kind: GroupUpdateKind
    sequence: int
    at: datetime
    group: GroupDefinition
    enrollment: Enrollment | None
    occurrence: GroupOccurrence | None
