"""Migrations reach the models: autogenerate against a migrated database finds nothing to do."""
from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.db.models import Base


def _diff(url: str) -> list:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1) if url.startswith("postgresql://") else url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


async def test_migrations_match_the_models(database_url):
    assert await asyncio.to_thread(_diff, database_url) == []


async def test_compliance_thresholds_are_seeded(database_url):
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT program, min_hours_per_week, min_days_per_week, min_hours_per_day FROM compliance_thresholds ORDER BY program")
    finally:
        await conn.close()
    assert [(r[0], float(r[1]), r[2], r[3] and float(r[3])) for r in rows] == [("IOP", 9.0, 3, 3.0), ("PHP", 20.0, 5, None)]
