"""Integration events and live-update payloads."""
from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from app.schema.billing import BillingPreview
from app.schema.enums import GroupUpdateKind, SessionUpdateKind
from app.schema.scheduling import Enrollment, GroupDefinition, GroupOccurrence
from app.schema.sessions import GroupSession


@strawberry.type
class IntegrationEvent:
    id: strawberry.ID
    type: str
    occurred_at: datetime
    payload: JSON


@strawberry.type
class SessionUpdate:
    kind: SessionUpdateKind
    sequence: int
    at: datetime
    session: GroupSession
    billing_preview: BillingPreview
    changed_participant_ids: list[strawberry.ID]


@strawberry.type
class GroupUpdate:
    kind: GroupUpdateKind
    sequence: int
    at: datetime
    group: GroupDefinition
    enrollment: Enrollment | None
    occurrence: GroupOccurrence | None
