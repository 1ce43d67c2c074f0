"""The harness's own promise: each test starts from empty tables, the reference thresholds kept."""

from __future__ import annotations

import asyncpg

from tests.conftest import KEEP_TABLES, _emptying, asyncpg_dsn


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {t["tablename"]: await conn.fetchval(f'SELECT count(*) FROM "{t["tablename"]}"') for t in tables}


async def test_the_clean_between_tests_leaves_what_truncate_cascade_leaves(gql, clinic, database_url):
    await clinic.facility()
    await clinic.payer()
    await clinic.add_staff()
    await clinic.add_patient()
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        before = await counts(conn)
        assert before["audit_entries"] > 0 and before["patients"] > 0
        assert all(before[name] > 0 for name in KEEP_TABLES), before

        truncating = conn.transaction()
        await truncating.start()
        others = ", ".join(f'"{name}"' for name in before if name not in KEEP_TABLES)
        await conn.execute(f"TRUNCATE {others} RESTART IDENTITY CASCADE")
        # read_version_marks holds a row only while its writing transaction runs (its commit trigger
        # deletes it): read inside the truncating transaction it shows one, after the clean's commit none.
        truncated = {name: n for name, n in (await counts(conn)).items() if name != "read_version_marks"}
        await truncating.rollback()

        async with conn.transaction():
            await conn.execute(await _emptying(conn))
        emptied = await counts(conn)
        assert emptied.pop("read_version_marks") == 0
        assert emptied == truncated
        assert {name: n for name, n in truncated.items() if n} == {name: before[name] for name in KEEP_TABLES}
        assert await conn.fetchval("SELECT nextval('audit_entries_id_seq')") == 1
    finally:
        await conn.close()
