"""Per-request DataLoaders: one SQL statement per kind of lookup, whatever the page size."""
from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from strawberry.dataloader import DataLoader

BatchFn = Callable[[AsyncSession, Sequence[Any]], Awaitable[Sequence[Any]]]


class SharedDataLoader(DataLoader):
    """A DataLoader whose futures survive the cancellation of one of their awaiters.

    graphql-core cancels the pending resolvers of an execution that fails (a non-null field
    raising); a resolver awaiting a loader's future directly would cancel that future, and with
    it every other resolver awaiting the same key: a sibling alias in one request, or every
    watcher of a live update. Each caller awaits its own shield instead.
    """

    def load(self, key: Any) -> Awaitable[Any]:
        return asyncio.shield(super().load(key))


class Loaders:
    """`shared=True` (HTTP requests): every batch of the request runs, one after another, on one
    session and connection, closed by `close()` when the request ends. Each batch on its own
    session costs a pool checkout (pre-ping), BEGIN and ROLLBACK around its one statement; a
    detail page has seven batches (bench/README.md). The identity map is emptied after each
    batch, so a later batch (say, after a mutation in the same document) reads fresh rows."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], shared: bool = False) -> None:
        self._sessionmaker = sessionmaker
        self._loaders: dict[Hashable, DataLoader] = {}
        self._shared = shared
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock() if shared else None

    def custom(self, name: Hashable, batch: BatchFn) -> DataLoader:
        """A loader whose batch function gets a session and the keys, and returns one value per key."""
        loader = self._loaders.get(name)
        if loader is None:

            async def load(keys: Sequence[Any]) -> Sequence[Any]:
                if self._lock is not None:
                    async with self._lock:
                        if self._session is None:
                            self._session = self._sessionmaker()
                        try:
                            return await batch(self._session, keys)
                        except BaseException:
                            session, self._session = self._session, None
                            await session.close()  # a failed statement spoils the transaction
                            raise
                        finally:
                            if self._session is not None:
                                self._session.expunge_all()
                async with self._sessionmaker() as session:
                    return await batch(session, keys)

            loader = self._loaders[name] = SharedDataLoader(load_fn=load)
        return loader

    async def close(self) -> None:
        """End the shared session (returns its connection to the pool); later batches open a new one.
        Waits for a batch still running on it: one connection runs one statement at a time."""
        if self._lock is None:
            return
        async with self._lock:
            session, self._session = self._session, None
            if session is not None:
                await session.close()

    def by_id(self, model: type) -> DataLoader[uuid.UUID, Any]:
        async def batch(session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[Any]:
            rows = (await session.scalars(select(model).where(model.id.in_(keys)))).all()
            found = {row.id: row for row in rows}
            return [found.get(key) for key in keys]

        return self.custom(("by_id", model), batch)

    def children(
        self, column: InstrumentedAttribute, *order_by: Any, where: Any = None
    ) -> DataLoader[uuid.UUID, list[Any]]:
        """Rows whose `column` equals the key, as one list per key."""
        model = column.class_

        async def batch(session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
            query = select(model).where(column.in_(keys)).order_by(*order_by)
            if where is not None:
                query = query.where(where)
            grouped: dict[Any, list[Any]] = defaultdict(list)
            for row in (await session.scalars(query)).all():
                grouped[getattr(row, column.key)].append(row)
            return [grouped.get(key, []) for key in keys]

        return self.custom(("children", column, order_by, str(where)), batch)
