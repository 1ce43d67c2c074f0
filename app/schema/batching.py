"""The machinery of per-operation DataLoaders: one SQL statement per kind of lookup, whatever the
page size. The loaders themselves are named accessors in app/schema/loaders/<area>.py
(`reference.facilities(info).load(pk)`): no resolver names a loader by a string or builds one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from app.db.queries.common import rows_by_id

# A query function: the session, the keys, then any parameters the loader was made with; one value per key.
BatchFn = Callable[..., Awaitable[Sequence[Any]]]


def ready(loader: DataLoader, key: Any) -> Any:
    """The loader's value for `key` when it is already loaded (a page prefetched it), else an
    awaitable of it. A resolver returning this skips the awaitable machinery for loaded keys."""
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return loader.load(key)


def selection_names(selections: Sequence[Any], *path: str) -> set[str]:
    """The field names selected at `path` below `selections` (Strawberry's info.selected_fields),
    through fragments. A document the walk does not understand only means less is prefetched."""
    found: set[str] = set()
    for selection in selections:
        name = getattr(selection, "name", None)
        children = getattr(selection, "selections", None) or []
        if not hasattr(selection, "arguments"):  # a fragment: its fields are at this level
            found |= selection_names(children, *path)
        elif not path:
            found.add(name)
        elif name == path[0]:
            found |= selection_names(children, *path[1:])
    return found


class SharedDataLoader(DataLoader):
    """A DataLoader whose futures survive the cancellation of one of their awaiters.

    graphql-core cancels the pending resolvers of an execution that fails (a non-null field
    raising); a resolver awaiting a loader's future directly would cancel that future, and with
    it every other resolver awaiting the same key: a sibling alias in one request, or every
    watcher of a live update. Each caller awaits its own shield instead.
    """

    def load(self, key: Any) -> Awaitable[Any]:
        return asyncio.shield(super().load(key))

    def load_many(self, keys: Iterable[Any]) -> Awaitable[list[Any]]:
        """One shield around the keys' futures gathered: a page prefetches 50 sessions' keys from each
        loader, and a shield per key cost the list of 50 about 5 ms of its 65-70 ms of CPU."""
        return asyncio.shield(asyncio.gather(*map(super().load, keys)))


class Loaders:
    """The DataLoaders of one operation.

    `shared=True` (HTTP requests): every batch of the request runs, one after another, on one
    session and connection, closed by `close()` when the request ends. Each batch on its own
    session costs a pool checkout (pre-ping), BEGIN and ROLLBACK around its one statement; a
    detail page has seven batches (bench/README.md). The identity map is emptied after each
    batch, so a later batch reads fresh rows.

    Once the operation has a transaction (a mutation), `bind` moves every batch into it: the
    mutation's answer is read from the writes it is about to commit.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], shared: bool = False) -> None:
        self._sessionmaker = sessionmaker
        self._loaders: dict[Hashable, DataLoader] = {}
        self._db: AsyncSession | None = None
        self._bound: AsyncSession | None = None
        self._lock = asyncio.Lock() if shared else None
        self._primes: dict[Hashable, dict[Any, Any]] = {}

    def prime(self, batch: BatchFn, key: Any, value: Any, *params: Hashable) -> None:
        """`value` for `key` in the loader of `batch` (and `params`), put there when that loader is
        first asked for: a live update primes every watcher's loaders, and only the watcher that
        executes its audience's result uses them."""
        self._primes.setdefault((batch, *params), {})[key] = value

    def prime_row(self, row: Any) -> None:
        """`row` for its id in the by_id loader of its model."""
        self.prime(_rows_by_id, row.id, row, type(row))

    def bind(self, db: AsyncSession) -> None:
        """Read inside this transaction from now on, forgetting what was loaded before it changed."""
        self._bound = db
        if self._lock is None:
            self._lock = asyncio.Lock()
        self.forget()

    def forget(self) -> None:
        for loader in self._loaders.values():
            loader.clear_all()

    async def run(self, read: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        """`read(db)` on the operation's read session (or its transaction), as the batches run: a
        page's own statement on the connection its batches use saves a pool checkout (pre-ping,
        BEGIN, ROLLBACK) per request."""
        if self._bound is not None:
            async with self._lock:
                await self._bound.flush()
                return await read(self._bound)
        if self._lock is not None:
            async with self._lock:
                if self._db is None:
                    self._db = self._sessionmaker()
                try:
                    return await read(self._db)
                except BaseException:
                    db, self._db = self._db, None
                    await db.close()  # a failed statement spoils the transaction
                    raise
                finally:
                    if self._db is not None:
                        self._db.expunge_all()
        async with self._sessionmaker() as db:
            return await read(db)

    def of(self, batch: BatchFn, *params: Hashable) -> DataLoader:
        """The operation's loader of `batch(db, keys, *params)`: one per query function and parameters
        (a page window, say), made on first use."""
        name = (batch, *params)
        loader = self._loaders.get(name)
        if loader is None:

            async def load(keys: Sequence[Any]) -> Sequence[Any]:
                return await self.run(lambda db: batch(db, keys, *params))

            loader = self._loaders[name] = SharedDataLoader(load_fn=load)
            primed = self._primes.get(name)
            if primed:
                loader.prime_many(primed)
        return loader

    async def close(self) -> None:
        """End the shared read session (returns its connection to the pool); later batches open a new
        one. Waits for a batch still running on it: one connection runs one statement at a time.
        A bound transaction is not the loaders' to close."""
        if self._lock is None:
            return
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                await db.close()

    def by_id(self, model: type) -> DataLoader[uuid.UUID, Any]:
        """Rows of `model` by primary key (None for a key with no row)."""
        return self.of(_rows_by_id, model)


async def _rows_by_id(db: AsyncSession, keys: Sequence[uuid.UUID], model: type) -> list[Any]:
    return await rows_by_id(db, model, keys)
