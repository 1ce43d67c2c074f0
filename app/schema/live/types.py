"""Live-update payloads: each wraps the envelope the hub built once for the change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.ids import encode_id
from app.live.envelopes import SessionEnvelope
from app.schema.enums import GroupUpdateKind, SessionUpdateKind

BillingPreviewType = Annotated["BillingPreview", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
EnrollmentType = Annotated["Enrollment", strawberry.lazy("app.schema.enrollment.types")]  # noqa: F821 - resolved lazily
GroupDefinitionType = Annotated["GroupDefinition", strawberry.lazy("app.schema.scheduling.types")]  # noqa: F821 - resolved lazily
GroupOccurrenceType = Annotated["GroupOccurrence", strawberry.lazy("app.schema.scheduling.types")]  # noqa: F821 - resolved lazily
GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class SessionUpdate:
    kind: SessionUpdateKind
    sequence: int
    at: datetime
    session: GroupSessionType

    @strawberry.field
    def billing_preview(update: strawberry.Parent[SessionEnvelope]) -> BillingPreviewType:
        return update.preview

    @strawberry.field
    def changed_participant_ids(update: strawberry.Parent[SessionEnvelope]) -> list[strawberry.ID]:
        return [strawberry.ID(encode_id(type_name, key)) for type_name, key in update.changed]


@strawberry.type
class GroupUpdate:
    kind: GroupUpdateKind
    sequence: int
    at: datetime
    group: GroupDefinitionType
    enrollment: EnrollmentType | None
    occurrence: GroupOccurrenceType | None
