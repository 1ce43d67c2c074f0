"""The batched reads of a session's detail: roster, supervisors, preview, session by occurrence;
and the prefetch of a page's batches before its rows are completed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import sessions as queries
from app.operations.common import require_scope
from app.rules.billing import Preview
from app.rules.scopes import Scope
from app.schema.loaders import selection_names


def roster_loader(info: Info) -> DataLoader:
    return info.context.loaders.custom("rosters", queries.rosters)


def supervisors_loader(info: Info) -> DataLoader:
    async def batch(db, keys):
        found = await queries.supervisors_by_session(db, keys)
        return [found[key] for key in keys]

    return info.context.loaders.custom("supervisors", batch)


def preview_loader(info: Info) -> DataLoader:
    return info.context.loaders.custom("previews", billing_queries.previews)


async def roster(info: Info, session_id: uuid.UUID) -> list[Any]:
    return await roster_loader(info).load(session_id)


async def supervisors(info: Info, session_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    return await supervisors_loader(info).load(session_id)


async def preview(info: Info, session_id: uuid.UUID) -> Preview:
    return await preview_loader(info).load(session_id)


async def prefetch(info: Info, sessions: Sequence[Any], *path: str) -> None:
    """Run the batches the selection at `path` (below the current field) will ask for, for every
    session of the page at once, before graphql-core completes the rows: the same statements as
    when the fields ask one by one, but each field then finds its value loaded and resolves
    without an awaitable (app.schema.loaders.ready)."""
    if not sessions:
        return
    below = [child for field in info.selected_fields for child in field.selections]  # the current field's own selection
    fields = selection_names(below, *path)
    ids = [session.id for session in sessions]
    jobs = []
    if fields & {"roster", "attendance"}:
        jobs.append(roster_loader(info).load_many(ids))
    if "billingPreview" in fields:
        jobs.append(preview_loader(info).load_many(ids))
    if "facility" in fields:
        jobs.append(info.context.loaders.by_id(models.Facility).load_many(list({s.facility_id for s in sessions})))
    marks = None
    if "supervisors" in fields:
        marks = supervisors_loader(info).load_many(ids)
        jobs.append(marks)
    results = await asyncio.gather(*jobs)
    if marks is not None and "staff" in selection_names(below, *path, "supervisors"):
        staff_ids = list({staff_id for found in results[-1] for staff_id, _ in found})
        if staff_ids:
            await info.context.loaders.by_id(models.Staff).load_many(staff_ids)


async def session_of_occurrence(info: Info, occurrence_id: uuid.UUID) -> models.GroupSession | None:
    """The occurrence's session, when the caller may read sessions of its facility."""
    require_scope(info.context.principal, Scope.SESSION_READ)
    session = await info.context.loaders.custom("session_by_occurrence", queries.sessions_by_occurrence).load(
        occurrence_id
    )
    if session is None or not info.context.principal.sees_facility(session.facility_id):
        return None
    return session
