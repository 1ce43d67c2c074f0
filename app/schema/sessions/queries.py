"""Session reads: the list page, the detail page, and the session node fetcher."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

import strawberry

from app.db.queries import sessions as queries
from app.errors import NotFound
from app.ids import decode_id
from app.operations.common import check, require_scope, visible_or_not_found
from app.rules.attendance import date_range_problem, next_quarter_hour, session_date_range
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.enums import GroupType, SessionStatus
from app.schema.loaders import sessions
from app.schema.pagination import page_args
from app.schema.permissions import scoped
from app.schema.sessions.types import GroupSession


@strawberry.input(
    description="Defaults as on the list page: today (facility time zone), the viewer's facility, all types, all statuses."
)
class GroupSessionFilter:
    from_: date | None = strawberry.field(name="from", default=None)
    to: date | None = None
    facility_id: strawberry.ID | None = None
    group_type: GroupType | None = None
    status: SessionStatus | None = None


async def session_node(info: Info, pk: uuid.UUID) -> GroupSession:
    require_scope(info.context.principal, Scope.SESSION_READ)
    row = await sessions.sessions(info).load(pk)
    return visible_or_not_found(info.context.principal, row, "GroupSession")


def _facilities(info: Info, filter: GroupSessionFilter | None) -> list[uuid.UUID] | None:
    """The facility asked for (visible or NOT_FOUND), else the viewer's home facility, else (an
    all-facility token) every facility."""
    actor = info.context.principal
    if filter is not None and filter.facility_id:
        facility_id = decode_id(filter.facility_id, "Facility")
        if not actor.sees_facility(facility_id):
            raise NotFound("No Facility with that id")
        return [facility_id]
    if actor.all_facilities:
        return None
    try:
        return [uuid.UUID(actor.home_facility or "")]
    except ValueError:
        return []


@strawberry.type
class SessionsQuery:
    @strawberry.field(**scoped(Scope.SESSION_READ))
    async def group_sessions(
        self, info: Info, filter: GroupSessionFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[GroupSession]:
        window = page_args(first, after)
        date_from = filter.from_ if filter else None
        date_to = filter.to if filter else None
        status = filter.status if filter else None
        if status is not None:
            now = info.context.now()  # which sessions have a status changes with the clock, page or not
        elif date_from is None or date_to is None:
            now = info.context.now_until(next_quarter_hour)  # "today" follows the clock
        else:
            now = info.context.now_until(lambda _: None)
        if date_from is None and date_to is None:
            dates = queries.today_condition(now)
        else:
            start, end = session_date_range(date_from, date_to, now.date())
            check(date_range_problem(start, end))
            dates = queries.dates_condition(start, end)
        # On the request's read session, which the page's batches then use too.
        rows, total = await info.context.loaders.run(
            partial(
                queries.sessions_page,
                dates=dates,
                facility_ids=_facilities(info, filter),
                group_type=filter.group_type if filter else None,
                status=status,
                now=now,
                window=window,
            )
        )
        await sessions.prefetch(info, rows, "edges", "node")
        return Connection.from_page(rows, window, total)

    @strawberry.field(**scoped(Scope.SESSION_READ))
    async def group_session(self, info: Info, id: strawberry.ID) -> GroupSession | None:
        pk = decode_id(id, "GroupSession")
        row = await info.context.loaders.run(lambda db: queries.session_row(db, pk))
        session = visible_or_not_found(info.context.principal, row, "GroupSession")
        await sessions.prefetch(info, [session])
        return session
