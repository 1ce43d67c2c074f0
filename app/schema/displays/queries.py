"""Room display reads: the paired displays of the caller's facilities (never their credentials)."""

from __future__ import annotations

import strawberry

from app.operations import displays as ops
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.displays.types import RoomDisplay
from app.schema.pagination import page_args
from app.schema.permissions import scoped


@strawberry.type
class DisplaysQuery:
    @strawberry.field(
        **scoped(Scope.REFERENCE_WRITE), description="Paired room displays of the caller's facilities, newest first."
    )
    async def displays(
        self, info: Info, include_revoked: bool = False, first: int | None = None, after: str | None = None
    ) -> Connection[RoomDisplay]:
        window = page_args(first, after)
        async with info.context.db() as db:
            rows, total = await ops.displays(db, info.context.principal, include_revoked=include_revoked, window=window)
        return Connection.from_page(rows, window, total)
