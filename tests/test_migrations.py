"""Migrations reach the models: autogenerate against a migrated database finds nothing to do."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.embedded import asyncpg_url
from app.db.models import Base


def _diff(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_migrations_match_the_models(database_url):
    engine = create_async_engine(asyncpg_url(database_url))
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_compliance_thresholds_are_seeded(database_url):
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT program, min_hours_per_week, min_days_per_week, min_hours_per_day FROM compliance_thresholds ORDER BY program"
        )
    finally:
        await conn.close()
    assert [(r[0], float(r[1]), r[2], r[3] and float(r[3])) for r in rows] == [
        ("IOP", 9.0, 3, 3.0),
        ("PHP", 20.0, 5, None),
    ]


async def test_absence_thresholds_are_seeded_two_for_iop_and_php_three_otherwise(database_url):
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        rows = dict(await conn.fetch("SELECT group_type, consecutive_absences FROM absence_thresholds"))
    finally:
        await conn.close()
    assert rows == {
        "IOP": 2,
        "PHP": 2,
        "THERAPY": 3,
        "PSYCHOEDUCATION": 3,
        "SKILLS_TRAINING": 3,
        "SUPPORT": 3,
        "OTHER": 3,
    }


def test_the_file_names_give_the_order_the_migrations_run_in():
    """Each file's down_revision is the revision of the file before it, by name."""
    import ast
    from pathlib import Path

    versions = Path(__file__).resolve().parent.parent / "app" / "db" / "migrations" / "versions"
    chain = []
    for path in sorted(versions.glob("[0-9]*.py")):
        values = {
            node.targets[0].id: node.value.value
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
        }
        chain.append((path.name, values["revision"], values["down_revision"]))
    assert chain[0][2] is None
    for (_, previous, _), (name, _, down) in zip(chain, chain[1:], strict=False):
        assert down == previous, f"{name} follows revision {down}, not the file before it ({previous})"
