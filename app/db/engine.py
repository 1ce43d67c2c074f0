"""Engine and session factory."""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db.embedded import asyncpg_url


class _NoRowValues(logging.Filter):
    """SQLAlchemy's engine logs every fetched row at DEBUG; rows hold patient names and dates of birth."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRowValues())


def pgbouncer_from_env() -> bool:
    """GS_DB_PGBOUNCER=1: DATABASE_URL is a PgBouncer in transaction pooling mode."""
    return os.environ.get("GS_DB_PGBOUNCER", "").strip().lower() in {"1", "true", "yes", "on"}


def statement_options(pgbouncer: bool) -> dict[str, Any]:
    """create_async_engine options for the database behind DATABASE_URL. Behind PgBouncer in
    transaction mode consecutive transactions of one client connection run on different server
    connections, so no prepared statement may outlive its transaction: asyncpg's statement cache
    and SQLAlchemy's prepared-statement cache are off, and every statement gets a name of its own
    (two clients' "__asyncpg_stmt_1__" would otherwise meet on one server connection)."""
    if not pgbouncer:
        return {}
    return {
        "connect_args": {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4().hex}__",
        }
    }


def make_engine(url: str, pool_size: int = 10, pool_timeout: float = 30.0, *, pgbouncer: bool = False) -> AsyncEngine:
    # hide_parameters: statement logs (sqlalchemy.engine at INFO) and error messages carry no bound values.
    return create_async_engine(
        asyncpg_url(url),
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        pool_recycle=1800,
        **statement_options(pgbouncer),
    )


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
