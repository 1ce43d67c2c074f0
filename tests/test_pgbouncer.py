"""The service behind PgBouncer in transaction pooling mode (GS_DB_PGBOUNCER=1): a real server
process whose DATABASE_URL is Debian's pgbouncer in front of the test database, LISTEN directly on
PostgreSQL (BROADCAST_URL). Writes at once from many clients, live updates and a billing run all go
through it. Session-level advisory locks would not survive there: only transaction-scoped ones."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.conftest import ROOT, GraphQLClient, make_token
from tests.support.builders import Clinic
from tests.support.builders_sessions import SET_ATTENDANCE, create_session
from tests.support.pgbouncer import pgbouncer
from tests.support.server import start_server
from tests.test_live_multiprocess import next_update, open_watcher

RUN = "mutation($id: ID!) { runBilling(sessionId: $id) { status locked } }"
CHARGES = "query($id: ID!) { groupSession(id: $id) { locked charges { amount status } claims { status } } }"


@pytest.fixture
async def bounced_server(database_url):
    """A server whose every database connection but the LISTEN one goes through PgBouncer."""
    async with pgbouncer(database_url) as bouncer_url:
        env = {"GS_DB_PGBOUNCER": "1", "BROADCAST_URL": database_url.replace("postgresql://", "postgres://", 1)}
        async with start_server(bouncer_url, env) as base_url:
            yield base_url


async def test_writes_live_updates_and_billing_through_pgbouncer(bounced_server):
    async with httpx.AsyncClient(base_url=bounced_server, timeout=60) as http:
        gql = GraphQLClient(http, make_token())
        clinic = Clinic(gql)
        await clinic.facility()
        await clinic.add_staff()
        await clinic.add_staff()
        await clinic.payer()
        await clinic.bands([(1, 4, "90853", "40.00"), (5, 16, "90853", "30.00")])
        await clinic.supervision_rule(8)
        for i in range(12):
            patient = await clinic.add_patient(f"Member {i}")
            await clinic.cover(patient)
            await clinic.supervise(clinic.staff[1], patient)

        # Live: a room display watches while twelve clients mark the roster at once, three rounds.
        now = datetime.now(timezone.utc)
        live = await create_session(gql, clinic, starts_at=now - timedelta(minutes=10), minutes=120)
        watcher = await open_watcher(bounced_server, live["id"])
        try:
            # Generous waits: a correctness test, run beside the rest of the suite on a loaded machine.
            assert (await next_update(watcher, timeout=60))["kind"] == "SNAPSHOT"
            entries = [entry["id"] for entry in live["roster"]]
            clients = [GraphQLClient(http, make_token()) for _ in entries]
            for status in ("ATTENDED", "LATE", "ATTENDED"):
                await asyncio.gather(
                    *(
                        client.execute(SET_ATTENDANCE, {"participantId": entry, "status": status})
                        for client, entry in zip(clients, entries, strict=False)
                    )
                )
            # Every change has its number; the watcher gets them in order, up to the last one, each at most
            # once (docs/integrators.md: a number may be skipped when a change is superseded before it is
            # read, never repeated), and the last carries the final state: all twelve present.
            last = 3 * len(entries)
            updates = [await next_update(watcher, timeout=60)]
            while updates[-1]["sequence"] < last:
                updates.append(await next_update(watcher, timeout=60))
            sequences = [u["sequence"] for u in updates]
            assert sequences == sorted(set(sequences)) and sequences[-1] == last, sequences
            assert updates[-1]["billingPreview"]["billableCount"] == len(entries)
        finally:
            await watcher.close()

        # Billing: an ended session, marked, billed (locks it, writes charges and claims).
        ended = await create_session(gql, clinic, starts_at=now - timedelta(hours=3), minutes=90)
        await asyncio.gather(
            *(
                GraphQLClient(http, make_token()).execute(
                    SET_ATTENDANCE, {"participantId": e["id"], "status": "ATTENDED"}
                )
                for e in ended["roster"]
            )
        )
        assert (await gql.execute(RUN, {"id": ended["id"]}))["runBilling"] == {"status": "LOCKED", "locked": True}
        billed = (await gql.execute(CHARGES, {"id": ended["id"]}))["groupSession"]
        assert billed["locked"] is True
        assert len(billed["charges"]) == 12 and {c["amount"] for c in billed["charges"]} == {"30.00"}
        assert len(billed["claims"]) == 12


def test_only_transaction_scoped_advisory_locks():
    """A session-level advisory lock taken through PgBouncer stays on a server connection that the
    next transaction may not get: the code takes only pg_advisory_xact_lock / pg_try_advisory_xact_lock."""
    pattern = re.compile(r"pg_(try_)?advisory_(lock|lock_shared|unlock)\b")
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "app").rglob("*.py") if pattern.search(path.read_text())
    ]
    assert offenders == []
