"""An integration event as integrators read it (it wraps its outbox row)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from app.db import models


def _event_id(event: strawberry.Parent[models.IntegrationEvent]) -> strawberry.ID:
    return strawberry.ID(str(event.id))


@strawberry.type
class IntegrationEvent:
    id: strawberry.ID = strawberry.field(resolver=_event_id)
    type: str
    occurred_at: datetime
    payload: JSON
