"""A test database's rows copied aside and put back: what a module builds through the API for every
test (tests/support/builders_hardening.py's world: about forty calls) is built once in a while and
put back in milliseconds, exactly as it was."""

from __future__ import annotations

import asyncpg

from tests.conftest import _emptying, asyncpg_dsn, emptied_tables, owned_sequences


class Snapshot:
    def __init__(self, database_url: str, restoring: str) -> None:
        self.database_url = database_url
        self._restoring = restoring

    @classmethod
    async def take(cls, database_url: str, name: str) -> Snapshot | None:
        """The rows of every table the clean between tests empties, and their sequences' positions, in a
        schema of their own (`snapshot_<name>`); None where the clean is a TRUNCATE (a role that may
        not turn the foreign keys' triggers off could not put the rows back in any order)."""
        schema = f"snapshot_{name}"
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            emptying = await _emptying(conn)
            if emptying.startswith("TRUNCATE"):
                return None
            tables = await emptied_tables(conn)
            statements = [emptying]
            async with conn.transaction():
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
                for table in tables:
                    columns = ", ".join(f'"{c}"' for c in await _writable_columns(conn, table))
                    await conn.execute(f'CREATE TABLE "{schema}"."{table}" AS SELECT {columns} FROM public."{table}"')
                    statements.append(
                        f'INSERT INTO public."{table}" ({columns}) OVERRIDING SYSTEM VALUE '
                        f'SELECT {columns} FROM "{schema}"."{table}"'
                    )
                for sequence in await owned_sequences(conn, tables):
                    row = await conn.fetchrow(f'SELECT last_value, is_called FROM public."{sequence}"')
                    statements.append(
                        f"SELECT setval('public.\"{sequence}\"', {row['last_value']}, {row['is_called']})"
                    )
        finally:
            await conn.close()
        return cls(database_url, ";\n".join(statements))

    async def restore(self) -> None:
        """Every emptied table as it was when the snapshot was taken (whatever it holds now)."""
        conn = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            async with conn.transaction():
                await conn.execute(self._restoring)
        finally:
            await conn.close()


async def _writable_columns(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        """SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0
        AND NOT attisdropped AND attgenerated = '' ORDER BY attnum""",
        f'public."{table}"',
    )
    return [r["attname"] for r in rows]
