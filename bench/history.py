"""Benchmark 7 (issue 20): one patient's year in five groups of a busy program.

Seeded through the API of a real server: a clinic, five groups (IOP Mon/Wed/Fri, therapy Tue/Thu,
skills Mon/Wed, psychoeducation Tue/Thu, support Sat: ten sessions a week), fifteen patients
enrolled in each, a year of occurrences generated (the feed builds the sessions and their
rosters), and the patient's attendance marked at every session. Then: `patientAttendance` over the
year (first 50, tallies, facility and group of each row) at 1 and 4 clients; SQL statements per
request over a month and a year, first 5 and 50; EXPLAIN ANALYZE of its two statements; and the
IOP group's calendar feed (a year of events) fetched, then polled with If-None-Match.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta, timezone

import asyncpg
from sqlalchemy.dialects import postgresql

from app.db.queries import history as history_queries
from app.db.queries.common import Page
from app.ids import decode_id
from app.rules.history import local_day_bounds
from bench.harness import GraphQL, HttpConn, LoadResult, closed_loop, cpu_text, log, percentile, start_server, token
from bench.scenarios import Options, Report, close_all, ms, open_clients, statements_per_request
from bench.seed import CREATE_GROUP, make_clinic

PROGRAM = [
    # name, type, rule, minutes, start (Phoenix)
    ("IOP Mornings", "IOP", "FREQ=WEEKLY;BYDAY=MO,WE,FR", 180, "09:00"),
    ("Relapse Prevention", "THERAPY", "FREQ=WEEKLY;BYDAY=TU,TH", 90, "09:00"),
    ("DBT Skills", "SKILLS_TRAINING", "FREQ=WEEKLY;BYDAY=MO,WE", 60, "13:00"),
    ("Psychoeducation", "PSYCHOEDUCATION", "FREQ=WEEKLY;BYDAY=TU,TH", 60, "13:00"),
    ("Family Support", "SUPPORT", "FREQ=WEEKLY;BYDAY=SA", 90, "10:00"),
]
HISTORY = """
query($patient: ID!, $from: Date, $to: Date, $first: Int, $after: String) {
  patientAttendance(patientId: $patient, from: $from, to: $to, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id status minutesAttended sessionDate startTime title groupId facility { name } group { name } } }
    tallies { title attended late absent unmarked cancelled sessions minutesAttended attendanceRate }
  }
}"""
MARK = "mutation($id: ID!, $status: AttendanceStatus!) { setAttendance(participantId: $id, status: $status) { id } }"
FEED = "mutation($g: ID!) { createCalendarFeed(groupId: $g) { url } }"
GOAL_P50_MS = 100  # a page of the chart opens without a wait


async def attendance_history(opts: Options) -> Report:
    report = Report("7 history")
    bearer = token()
    async with start_server(opts.database_url, pool_size=opts.pool_size) as app:
        setup = await GraphQL.open(app, bearer)
        clinic = await make_clinic(setup, sessions=0)
        patient = clinic.patients[0]
        last_day = datetime.now(timezone.utc).date() - timedelta(days=1)
        first_day = last_day - timedelta(days=364)
        groups = await _program(setup, clinic, first_day, last_day)
        log(f"history: {len(groups)} groups generated")
        marked = await _mark_every_session(app, bearer, setup, patient, first_day, last_day)
        log(f"history: {marked} sessions marked")
        await setup.execute(  # the IOP group's coming year too, for its calendar feed
            "mutation($g: ID!, $f: Date!, $t: Date!) { generateOccurrences(groupId: $g, from: $f, to: $t) { skipped } }",
            {
                "g": groups[0],
                "f": (last_day + timedelta(days=1)).isoformat(),
                "t": (last_day + timedelta(days=365)).isoformat(),
            },
        )
        others = await _other_clinics(opts.database_url)
        year = {"patient": patient, "from": first_day.isoformat(), "to": last_day.isoformat()}
        month = {"patient": patient, "from": (last_day - timedelta(days=30)).isoformat(), "to": last_day.isoformat()}
        sample = (await setup.execute(HISTORY, {**year, "first": 50}))["patientAttendance"]
        statements = {
            "year first=5": await statements_per_request(app, setup, HISTORY, {**year, "first": 5}),
            "year first=50": await statements_per_request(app, setup, HISTORY, {**year, "first": 50}),
            "month first=50": await statements_per_request(app, setup, HISTORY, {**month, "first": 50}),
        }
        loads: dict[int, LoadResult] = {}
        for c in (1, 4):
            clients = await open_clients(app, c, bearer)
            for _ in range(opts.rounds):
                result = await closed_loop(
                    f"history c={c}",
                    clients,
                    opts.seconds,
                    lambda w, i: (HISTORY, {**year, "first": 50}),
                    server=app,
                )
                loads.setdefault(c, LoadResult("history", c)).merge(result)
            close_all(clients)
        feed = await _feed_timings(app, setup, groups[0], 20 if opts.quick else 50)
        setup.close()
        plans = await _explain(
            opts.database_url,
            decode_id(patient, "Patient"),
            decode_id(clinic.facility, "Facility"),
            first_day,
            last_day,
        )

    tallies = {t["title"]: t for t in sample["tallies"]}
    rates = ", ".join(f"{title} {tally['attendanceRate']:.2f}" for title, tally in sorted(tallies.items()))
    report.row(
        "seed",
        f"1 patient, {sample['totalCount']} sessions in a year, {len(tallies)} groups, 15 on each roster, "
        f"beside {others} sessions of other clinics; attendance rates {rates}",
    )
    for c, load in loads.items():
        met = load.p(50) < GOAL_P50_MS if c == 1 else None
        report.row(
            f"patientAttendance a year, first 50, c={c}",
            f"{load.throughput:.0f} req/s, p50 {ms(load.p(50))}, p99 {ms(load.p(99))}, {load.errors} errors; "
            + cpu_text(load),
            f"p50 < {GOAL_P50_MS} ms" if c == 1 else "",
            met,
        )
        report.details[f"history_c{c}"] = load.summary()
    fixed = len({round(v) for v in statements.values()}) == 1
    report.row(
        "SQL statements / request",
        ", ".join(f"{k} {v:.0f}" for k, v in statements.items()),
        "fixed whatever the range or page",
        fixed,
    )
    report.details["statements"] = statements
    for name, plan in plans.items():
        report.row(f"EXPLAIN {name}", plan["summary"], "index scans only", "Seq Scan" not in "\n".join(plan["plan"]))
    report.details["explain"] = plans
    report.row("calendar feed, IOP group", feed["summary"])
    report.details["feed"] = feed
    return report


async def _program(client: GraphQL, clinic, first_day: date, last_day: date) -> list[str]:
    groups = []
    for name, kind, rule, minutes, start in PROGRAM:
        data = {
            "name": name,
            "groupType": kind,
            "facilityId": clinic.facility,
            "facilitatorId": clinic.staff[0],
            "maxCapacity": 20,
            "durationMinutes": minutes,
            "location": "Suite 200",
            "recurrenceRule": rule,
            "recurrenceStart": f"{first_day.isoformat()}T{start}:00-07:00",
        }
        group = (await client.execute(CREATE_GROUP, {"input": data}))["createGroup"]["id"]
        for member in clinic.patients:
            await client.execute(
                "mutation($g: ID!, $p: ID!) { enrollPatient(groupId: $g, patientId: $p) { outcome } }",
                {"g": group, "p": member},
            )
        await client.execute(
            "mutation($g: ID!, $f: Date!, $t: Date!) { generateOccurrences(groupId: $g, from: $f, to: $t) { skipped } }",
            {"g": group, "f": first_day.isoformat(), "t": last_day.isoformat()},
        )
        groups.append(group)
    return groups


async def _other_clinics(database_url: str, wanted: int = 60_000) -> int:
    """Five years of another clinic's sessions, so group_sessions is the size of a real one (a run
    of this benchmark alone would otherwise have nothing but the patient's program in it)."""
    conn = await asyncpg.connect(database_url)
    try:
        facility = await conn.fetchval(
            "INSERT INTO facilities (id, name, state, timezone) VALUES (gen_random_uuid(), 'Other clinic', 'AZ', 'America/Phoenix') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO group_sessions (id, facility_id, group_type, title, starts_at, ends_at) "
            "SELECT gen_random_uuid(), $1, 'THERAPY', 'Other group', t, t + interval '1 hour' "
            "FROM generate_series(now() - interval '5 years', now(), interval '43 minutes') AS t LIMIT $2",
            facility,
            wanted,
        )
        return await conn.fetchval("SELECT count(*) FROM group_sessions WHERE facility_id = $1", facility)
    finally:
        await conn.close()


async def _mark_every_session(app, bearer: str, client: GraphQL, patient: str, first_day: date, last_day: date) -> int:
    """ATTENDED mostly, LATE every 9th session, ABSENT every 11th (and twice in a row once a quarter)."""
    entries, after = [], None
    while True:
        page = (
            await client.execute(
                HISTORY,
                {
                    "patient": patient,
                    "from": first_day.isoformat(),
                    "to": last_day.isoformat(),
                    "first": 100,
                    "after": after,
                },
            )
        )["patientAttendance"]
        entries += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    def status(index: int) -> str:
        if index % 11 == 0 or index % 97 in (1, 2):
            return "ABSENT"
        return "LATE" if index % 9 == 0 else "ATTENDED"

    workers = await open_clients(app, 4, bearer)

    async def run(worker: GraphQL, share: list[tuple[int, str]]) -> None:
        for index, entry in share:
            await worker.execute(MARK, {"id": entry, "status": status(index)})

    numbered = list(enumerate(entries))
    await asyncio.gather(*(run(w, numbered[k :: len(workers)]) for k, w in enumerate(workers)))
    close_all(workers)
    return len(entries)


async def _feed_timings(app, client: GraphQL, group: str, n: int) -> dict:
    url = (await client.execute(FEED, {"g": group}))["createCalendarFeed"]["url"]
    path = url[url.index("/calendar/") :]
    conn = await HttpConn.open(app.host, app.port)
    try:
        full, revalidated = [], []
        status, body = await conn.request("GET", path)
        assert status == 200, status
        for _ in range(n):
            started = time.perf_counter()
            status, body = await conn.request("GET", path)
            full.append(time.perf_counter() - started)
        etag = await _etag(app, path)
        for _ in range(n):
            started = time.perf_counter()
            status, _ = await conn.request("GET", path, headers={"If-None-Match": etag})
            assert status == 304, status
            revalidated.append(time.perf_counter() - started)
    finally:
        conn.close()
    events = body.count(b"BEGIN:VEVENT")
    summary = (
        f"{events} events, {len(body) / 1024:.0f} KiB: 200 p50 {ms(percentile(full, 50) * 1000)}, "
        f"304 (If-None-Match) p50 {ms(percentile(revalidated, 50) * 1000)}"
    )
    return {
        "summary": summary,
        "events": events,
        "bytes": len(body),
        "p50_200_ms": percentile(full, 50) * 1000,
        "p50_304_ms": percentile(revalidated, 50) * 1000,
    }


async def _etag(app, path: str) -> str:
    """The ETag header (HttpConn returns only status and body)."""
    reader, writer = await asyncio.open_connection(app.host, app.port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {app.host}\r\nConnection: close\r\n\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    finally:
        writer.close()
    return next(line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("etag:"))


async def _explain(database_url: str, patient_pk, facility_pk, first_day: date, last_day: date) -> dict[str, dict]:
    """EXPLAIN ANALYZE of the statements app.db.queries.history sends for the year (facility zone Phoenix)."""
    starts_from, starts_before = local_day_bounds(first_day, last_day, "America/Phoenix")
    span = {"facility_id": facility_pk, "starts_from": starts_from, "starts_before": starts_before, "group_id": None}
    statements = {
        "history page (first 50)": history_queries.attendance_page_query(patient_pk, **span, window=Page(0, 50)),
        "history tallies": history_queries.attendance_buckets_query(patient_pk, **span),
    }
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ANALYZE group_sessions")
        await conn.execute("ANALYZE roster_entries")
        sessions = await conn.fetchval("SELECT count(*) FROM group_sessions")
        rows = await conn.fetchval("SELECT count(*) FROM roster_entries")
        plans = {}
        for name, statement in statements.items():
            compiled = statement.compile(dialect=postgresql.asyncpg.dialect())
            params = [compiled.params[key] for key in compiled.positiontup]
            lines = [r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), *params)]
            scans = [line.strip() for line in lines if "Scan" in line][:3]
            timing = next((line.strip() for line in lines if line.startswith("Execution Time")), "")
            plans[name] = {
                "summary": f"{timing}; {'; '.join(scans)} ({sessions} sessions, {rows} roster rows)",
                "plan": lines,
            }
        return plans
    finally:
        await conn.close()
