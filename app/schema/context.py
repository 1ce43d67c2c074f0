"""Per-request (HTTP) or per-connection (websocket) context handed to every resolver."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from starlette.requests import Request
from strawberry.extensions import SchemaExtension

from app.auth import Principal
from app.db.uow import UnitOfWork
from app.events.wiring import unit_of_work
from app.errors import Unauthenticated
from app.schema.loaders import Loaders
from app.services import Services

log = logging.getLogger(__name__)


@dataclass
class Context:
    services: Services
    request: Any
    response: Any
    _principal: Principal | None = None
    connection_params: dict[str, Any] | None = None
    request_id: str | None = None
    operation_type: str | None = None
    loaders: Loaders = field(init=False)
    _db_slots: asyncio.Semaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # An HTTP request's DataLoaders share one read session, closed by RequestSession when the
        # operation ends; a websocket's context lives for the socket, so its loaders do not.
        self.loaders = Loaders(self.services.sessionmaker, shared=isinstance(self.request, Request))
        self._db_slots = asyncio.Semaphore(self.services.settings.db_connections_per_request)

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise Unauthenticated("Missing bearer token")
        return self._principal

    def unit_of_work(self) -> UnitOfWork:
        return unit_of_work(self.services, self.principal.subject)

    def db(self) -> "CappedSession":
        """A short read-only session for one resolver; at most `db_connections_per_request` at once."""
        return CappedSession(self.services.sessionmaker, self._db_slots)


class CappedSession:
    """`async with` a session once one of the request's connection slots is free."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], slots: asyncio.Semaphore) -> None:
        self._sessionmaker = sessionmaker
        self._slots = slots
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> AsyncSession:
        await self._slots.acquire()
        try:
            self._session = self._sessionmaker()
            return await self._session.__aenter__()
        except BaseException:
            self._slots.release()
            raise

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await self._session.__aexit__(*exc_info)
        finally:
            self._slots.release()


class RequestSession(SchemaExtension):
    """Closes the request's shared loader session once the operation is done."""

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
