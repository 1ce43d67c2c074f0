"""Sessions' loaders: sessions and roster entries by id; a session's roster, supervisors and audit
log; an occurrence's session; the prefetch of a page's batches, and the priming of a live update's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import sessions as queries
from app.db.queries.common import Page
from app.live.envelopes import SessionEnvelope
from app.schema.batching import Loaders, selection_names
from app.schema.context import Info
from app.schema.loaders import billing, reference


def sessions(info: Info) -> DataLoader[uuid.UUID, models.GroupSession | None]:
    return info.context.loaders.by_id(models.GroupSession)


def roster_entries(info: Info) -> DataLoader[uuid.UUID, models.RosterEntry | None]:
    return info.context.loaders.by_id(models.RosterEntry)


def rosters(info: Info) -> DataLoader[uuid.UUID, list[Any]]:
    """A session's roster by patient name: RosterRow read models, each with its patient."""
    return info.context.loaders.of(queries.rosters)


def supervisors(info: Info) -> DataLoader[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """A session's supervisors, by name: (staff id, attendance status)."""
    return info.context.loaders.of(_supervisors)


async def _supervisors(db: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[list[tuple[uuid.UUID, str]]]:
    found = await queries.supervisors_by_session(db, session_ids)
    return [found[pk] for pk in session_ids]


def of_occurrences(info: Info) -> DataLoader[uuid.UUID, models.GroupSession | None]:
    """An occurrence's session."""
    return info.context.loaders.of(queries.sessions_by_occurrence)


def audit_entries(info: Info) -> DataLoader[uuid.UUID, list[models.AuditEntry]]:
    """A session's audit log."""
    return info.context.loaders.of(queries.audit_entries)


def audit_pages(info: Info, window: Page) -> DataLoader[uuid.UUID, tuple[list[models.AuditEntry], int]]:
    """A session's audit log page at `window` (newest first), and its total."""
    return info.context.loaders.of(queries.audit_pages, window.offset, window.limit)


async def prefetch(info: Info, page: Sequence[Any], *path: str) -> None:
    """Run the batches the selection at `path` (below the current field) will ask for, for every
    session of the page at once, before graphql-core completes the rows: the same statements as
    when the fields ask one by one, but each field then finds its value loaded and resolves
    without an awaitable (app.schema.batching.ready)."""
    if not page:
        return
    below = [child for field in info.selected_fields for child in field.selections]  # the current field's own selection
    fields = selection_names(below, *path)
    ids = [session.id for session in page]
    jobs = []
    if fields & {"roster", "attendance"} and "billingPreview" in fields:
        await _rosters_and_previews(info, ids)
    elif fields & {"roster", "attendance"}:
        jobs.append(rosters(info).load_many(ids))
    elif "billingPreview" in fields:
        jobs.append(billing.previews(info).load_many(ids))
    if "facility" in fields:
        jobs.append(reference.facilities(info).load_many(list({s.facility_id for s in page})))
    marks = None
    if "supervisors" in fields:
        marks = supervisors(info).load_many(ids)
        jobs.append(marks)
    results = await asyncio.gather(*jobs)
    if marks is not None and "staff" in selection_names(below, *path, "supervisors"):
        staff_ids = list({staff_id for found in results[-1] for staff_id, _ in found})
        if staff_ids:
            await reference.staff(info).load_many(staff_ids)


async def _rosters_and_previews(info: Info, ids: Sequence[uuid.UUID]) -> None:
    """A page's rosters and billing previews from one read of the roster (the previews' members and
    the roster rows come from the same statement), put in both loaders."""
    inputs, found = await info.context.loaders.run(lambda db: billing_queries.billing_inputs_and_rosters(db, ids))
    rosters(info).prime_many({pk: found.get(pk, []) for pk in ids})
    billing.previews(info).prime_many({pk: inputs[pk].preview() if pk in inputs else None for pk in ids})


def prime_session_update(loaders: Loaders, envelope: SessionEnvelope) -> None:
    """What the hub read for a session change, in the loaders that would read it again: the session,
    its billing preview and (when read) its roster."""
    loaders.prime_row(envelope.session)
    loaders.prime(billing_queries.previews, envelope.session.id, envelope.preview)
    if envelope.roster is not None:
        loaders.prime(queries.rosters, envelope.session.id, list(envelope.roster))
