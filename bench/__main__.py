"""`make bench` (python -m bench): the seven benchmarks of bench/README.md, then one table.

    python -m bench                       # all seven, full length (about 8-11 minutes on 2 cores)
    python -m bench --quick               # all seven, shorter runs and smaller sizes (about 3-4 minutes)
    python -m bench --only write,read     # some of them
    python -m bench --update-pictures     # also redraw the tracked bench/img/*.svg (else .data/bench/img/)
    python -m bench --database-url postgresql://user@host:5432/postgres

The database server is --database-url, else BENCH_DATABASE_URL, else the system PostgreSQL at
127.0.0.1:5432 when it answers, else the embedded one; each run creates and drops its own database.
The table is printed and, with the machine and the date, written to .data/bench/last-run.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone

from bench.harness import ROOT, bench_database, raise_fd_limit
from bench.history import attendance_history
from bench.scenarios import SCENARIOS, Options, Report

SCENARIOS = {**SCENARIOS, "history": attendance_history}


def machine() -> dict:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    lscpu = {}
    for line in run("lscpu").splitlines():
        key, _, value = line.partition(":")
        lscpu[key.strip()] = value.strip()
    return {
        "nproc": run("nproc"),
        "cpu": lscpu.get("Model name", platform.processor()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def table(reports: list[Report]) -> str:
    rows = [r for report in reports for r in report.rows]
    headers = ("scenario", "case", "result", "goal", "met")

    def cell(row: dict, key: str) -> str:
        if key == "met":
            return {True: "yes", False: "NO", None: ""}[row["met"]]
        return str(row[key])

    widths = [max([len(h)] + [len(cell(r, h)) for r in rows]) for h in headers]
    lines = [" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)), "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(cell(r, h).ljust(w) for h, w in zip(headers, widths, strict=False)) for r in rows]
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs, smaller sizes")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to create the bench database on")
    parser.add_argument("--pool-size", type=int, default=5, help="GS_DB_POOL_SIZE of each server process (default 5)")
    parser.add_argument("--json", default=str(ROOT / ".data" / "bench" / "last-run.json"))
    parser.add_argument(
        "--update-pictures",
        action="store_true",
        help="draw the pictures into the tracked bench/img/ (by default they go to .data/bench/img/)",
    )
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    files = raise_fd_limit()
    started = time.perf_counter()
    info = machine()
    info["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    info["command"] = " ".join(["python -m bench", *sys.argv[1:]])
    info["open_files"] = files
    reports: list[Report] = []
    failed: list[str] = []
    async with bench_database(args.database_url) as (url, pg_version):
        info["postgresql"] = pg_version
        print(
            f"# {info['date']}  {info['nproc']} cores, {info['cpu']}, Python {info['python']}, {pg_version}", flush=True
        )
        opts = Options(
            database_url=url, quick=args.quick, pool_size=args.pool_size, update_pictures=args.update_pictures
        )
        for name in names:
            print(f"-- {name} ...", flush=True)
            t0 = time.perf_counter()
            try:
                report = await SCENARIOS[name](opts)
            except Exception as error:  # noqa: BLE001 - one broken scenario must not hide the others
                failed.append(name)
                report = Report(name)
                report.row("FAILED", f"{type(error).__name__}: {error}"[:400], "", False)
            report.details["seconds"] = round(time.perf_counter() - t0, 1)
            reports.append(report)
            print(table([report]), flush=True)
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["load_average_at_end"] = os.getloadavg()
    print()
    print(
        f"# {info['date']}  {info['command']}  ({info['seconds']} s, load average at start "
        f"{'/'.join(f'{x:.1f}' for x in info['load_average'])}, at end {'/'.join(f'{x:.1f}' for x in info['load_average_at_end'])})"
    )
    print(table(reports))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as out:
        json.dump(
            {"machine": info, "reports": [{"name": r.name, "rows": r.rows, "details": r.details} for r in reports]},
            out,
            indent=2,
        )
    print(f"\nDetails: {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(asyncio.run(main()))
