"""What every resolver of one operation shares: the caller, its loaders and its one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from strawberry.extensions import SchemaExtension

from app.auth import Principal
from app.db.uow import UnitOfWork
from app.errors import Unauthenticated
from app.operations.work import Services, unit_of_work
from app.schema.batching import Loaders
from app.schema.errors import classify

log = logging.getLogger(__name__)


@dataclass
class Context:
    """One per HTTP request, and one per operation on a websocket (`for_operation`), so loaders
    never outlive the operation that filled them."""

    services: Services
    request: Any
    response: Any
    _principal: Principal | None = None
    connection_params: dict[str, Any] | None = None
    request_id: str | None = None
    operation_type: str | None = None
    loaders: Loaders = field(init=False)
    _transaction: UnitOfWork | None = field(default=None, init=False, repr=False)
    # Who a mutation of this operation promoted from a waitlist, by the group or enrollment it
    # returns (GroupDefinition.promoted, Enrollment.promoted).
    promotions: dict[Any, list[Any]] = field(default_factory=dict, init=False, repr=False)
    _db_slots: asyncio.Semaphore = field(init=False, repr=False)
    _now: tuple[Loaders, datetime] | None = field(default=None, init=False, repr=False)
    # What the read cache (app/http/read_cache.py) may keep of this operation's answer: until when
    # the fields that read the clock say the same (`now_until`), and whether one read it without
    # saying (`now`) or a resolver ruled the answer out (`not_cacheable`).
    read_until: datetime | None = field(default=None, init=False, repr=False)
    read_time_unbounded: bool = field(default=False, init=False, repr=False)
    read_not_cacheable: bool = field(default=False, init=False, repr=False)
    # The read cache's key of a first answer (a tuple), or the Fill of a miss to keep (app/http/read_cache.py).
    read_fill: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # An HTTP request's loaders share one read session, closed by OperationScope when the
        # operation ends.
        self.loaders = Loaders(self.services.sessionmaker, shared=isinstance(self.request, Request))
        self._db_slots = asyncio.Semaphore(self.services.settings.db_connections_per_request)

    def for_operation(self) -> "Context":
        """A fresh context for one operation on a websocket: the socket's caller, new loaders, and the
        socket's connection slots (its operations together hold at most `db_connections_per_request`:
        one socket of 100 operations held every connection when each had 3 of its own)."""
        context = Context(
            services=self.services,
            request=self.request,
            response=self.response,
            _principal=self._principal,
            connection_params=self.connection_params,
            request_id=self.request_id,
        )
        context._db_slots = self._db_slots
        return context

    def now(self) -> datetime:
        """The clock, read once per HTTP request: every field of a page says what it says at one
        moment. A subscription's message over HTTP is a moment of its own (each message comes with
        fresh loaders); a websocket operation reads the clock at each call. An answer that read it
        here is never kept by the read cache: a field that knows when its value changes next uses
        `now_until`."""
        self.read_time_unbounded = True
        return self._moment()

    def now_until(self, changes_at: Callable[[datetime], datetime | None]) -> datetime:
        """`now()`, for a field whose value stays what it is until `changes_at(now)` (None: until a
        write changes it): the read cache keeps the answer no longer than the earliest such instant."""
        now = self._moment()
        until = changes_at(now)
        if until is not None and (self.read_until is None or until < self.read_until):
            self.read_until = until
        return now

    def not_cacheable(self) -> None:
        """This operation's answer must not be kept by the read cache."""
        self.read_not_cacheable = True

    def _moment(self) -> datetime:
        if not isinstance(self.request, Request):
            return self.services.clock.now()
        if self._now is None or self._now[0] is not self.loaders:
            self._now = (self.loaders, self.services.clock.now())
        return self._now[1]

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise Unauthenticated("Missing bearer token")
        return self._principal

    async def transaction(self) -> UnitOfWork:
        """The operation's one transaction, begun on first use: every mutation field of a request
        writes in it, and OperationScope commits it (or rolls it back) when the operation ends.
        Each call starts a new root field, so the loaders forget what earlier fields read."""
        if self._transaction is None:
            self._transaction = await unit_of_work(self.services, self.principal.subject).begin()
        self.loaders.bind(self._transaction.db)
        return self._transaction

    def db(self) -> CappedSession:
        """A short read-only session for one resolver; at most `db_connections_per_request` at once, and
        at most `db_connections_per_caller` for all of the caller's requests and operations together."""
        caller = self._principal.subject if self._principal is not None else ""
        return CappedSession(self.services.sessionmaker, self._db_slots, self.services.caller_limits.connection(caller))

    async def finish(self, result: Any) -> None:
        """End the operation: commit its transaction when every field succeeded; otherwise roll it
        back and answer `data: null`, so the response never reports a write that was not kept."""
        uow, self._transaction = self._transaction, None
        if uow is None:
            return
        if result is None or result.errors:
            await uow.rollback()
            if result is not None:
                result.data = None
            return
        try:
            await uow.commit()
        except Exception as error:  # noqa: BLE001 - a commit-time failure is the operation's error
            result.data = None
            result.errors = [classify(GraphQLError(str(error), original_error=error), self.request_id)]


# What every resolver's `info` is: this operation's context, and no root value.
Info = strawberry.Info[Context, None]


class CappedSession:
    """`async with` a session once one of the request's connection slots is free."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        slots: asyncio.Semaphore,
        caller_slot: AbstractAsyncContextManager[None],
    ) -> None:
        self._sessionmaker = sessionmaker
        self._slots = slots
        self._caller_slot = caller_slot
        self._db: AsyncSession | None = None

    async def __aenter__(self) -> AsyncSession:
        await self._slots.acquire()  # the request's (or socket's) slot first, then the caller's
        try:
            await self._caller_slot.__aenter__()
        except BaseException:
            self._slots.release()
            raise
        try:
            self._db = self._sessionmaker()
            return await self._db.__aenter__()
        except BaseException as error:
            await self._caller_slot.__aexit__(type(error), error, error.__traceback__)
            self._slots.release()
            raise

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await self._db.__aexit__(*exc_info)
        finally:
            try:
                await self._caller_slot.__aexit__(None, None, None)
            finally:
                self._slots.release()


class OperationScope(SchemaExtension):
    """Ends each operation: commits or rolls back its transaction, closes its read session."""

    async def on_execute(self):
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            await context.finish(self.execution_context.result)

    async def on_operation(self):
        try:
            yield
        finally:
            context = self.execution_context.context
            loaders = getattr(context, "loaders", None)
            if loaders is not None:
                try:
                    await loaders.close()
                except Exception as error:  # noqa: BLE001 - the result stands; the broken connection is discarded
                    log.warning("closing the request's read session failed: %s", type(error).__name__)
