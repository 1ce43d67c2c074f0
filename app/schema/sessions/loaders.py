"""The batched reads of a session's detail: roster, supervisors, preview, session by occurrence."""
from __future__ import annotations

import uuid

from strawberry.types import Info

from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import sessions as queries
from app.operations.common import require_scope
from app.rules.billing import Preview
from app.rules.scopes import Scope


async def roster(info: Info, session_id: uuid.UUID) -> list[models.RosterEntry]:
    return await info.context.loaders.custom("rosters", queries.rosters).load(session_id)


async def supervisors(info: Info, session_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    async def batch(db, keys):
        found = await queries.supervisors_by_session(db, keys)
        return [found[key] for key in keys]

    return await info.context.loaders.custom("supervisors", batch).load(session_id)


async def preview(info: Info, session_id: uuid.UUID) -> Preview:
    return await info.context.loaders.custom("previews", billing_queries.previews).load(session_id)


async def session_of_occurrence(info: Info, occurrence_id: uuid.UUID) -> models.GroupSession | None:
    """The occurrence's session, when the caller may read sessions of its facility."""
    require_scope(info.context.principal, Scope.SESSION_READ)
    session = await info.context.loaders.custom("session_by_occurrence", queries.sessions_by_occurrence).load(occurrence_id)
    if session is None or not info.context.principal.sees_facility(session.facility_id):
        return None
    return session
