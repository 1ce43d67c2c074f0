"""Profile a server process under one benchmark's load with py-spy (the `bench` extra:
`.venv/bin/pip install -c constraints.txt -e '.[bench]'`).

    python -m bench.profile write   [--seconds 15] [--out .data/bench/write.txt]
    python -m bench.profile detail | list | fanout | generate
    python -m bench.profile list --svg bench/img/list-flame-after.svg    # py-spy's flame graph

Starts the real server, seeds it, applies the load (write: setAttendance at 8 clients with one
watcher per session; detail/list: the read benchmark's queries at 8 clients; fanout: 1,000
watchers of one session and a change every 0.5 s) while `py-spy record --format raw` samples the
server, then prints the functions with the most inclusive and self samples.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.harness import ROOT, GraphQL, bench_database, closed_loop, log, raise_fd_limit, start_server, token
from bench.scenarios import DETAIL, GENERATE, LIST, AttendanceLoad
from bench.seed import CREATE_GROUP, make_clinic, program_group_input
from bench.watchers import Watchers


def summarize(raw: Path, top: int = 40) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"{n / total * 100:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    out += ["", "self:"]
    out += [f"{n / total * 100:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("load", choices=("write", "detail", "list", "fanout", "generate"))
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--out", default=None)
    parser.add_argument("--svg", default=None, help="write py-spy's flame graph (SVG) here instead of the raw stacks")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raise_fd_limit()
    out = Path(args.out or ROOT / ".data" / "bench" / f"profile-{args.load}.txt")
    out.parent.mkdir(parents=True, exist_ok=True)
    bearer = token()
    async with bench_database(None) as (url, _), start_server(url) as app:
        setup = await GraphQL.open(app, bearer)
        clinic = await make_clinic(setup, sessions=60 if args.load in ("detail", "list") else 8)
        groups = []
        if args.load == "generate":
            for i in range(60):
                groups.append(
                    (await setup.execute(CREATE_GROUP, {"input": program_group_input(clinic, i)}))["createGroup"]["id"]
                )
        watchers = Watchers(2 if args.load == "fanout" else 1)
        if args.load == "write":
            await watchers.subscribe(app.ws_url, bearer, clinic.sessions, per_socket=32)
        elif args.load == "fanout":
            await watchers.subscribe(app.ws_url, bearer, [clinic.sessions[0]] * 1000)
        clients = [await GraphQL.open(app, bearer) for _ in range(8)]
        spy_proc = subprocess.Popen(
            [
                spy,
                "record",
                "--format",
                "flamegraph" if args.svg else "raw",
                "--rate",
                "200",
                "-o",
                str(args.svg or out),
                "--pid",
                str(app.pid),
                "--duration",
                str(int(args.seconds)),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        await asyncio.sleep(1)
        dates = {"from": clinic.first_day.isoformat(), "to": clinic.last_day.isoformat()}
        load = AttendanceLoad(clinic)
        if args.load == "write":
            result = await closed_loop("write", clients, args.seconds, load.request)
        elif args.load == "detail":
            result = await closed_loop(
                "detail", clients, args.seconds, lambda w, i: (DETAIL, {"id": clinic.sessions[i % 60]})
            )
        elif args.load == "generate":
            result = await closed_loop(
                "generate",
                clients[:2],
                args.seconds,
                lambda w, i: (
                    GENERATE,
                    {"groupId": groups[(i * 2 + w) % len(groups)], "from": "2026-01-01", "to": "2026-12-31"},
                ),
            )
        elif args.load == "list":
            result = await closed_loop("list", clients, args.seconds, lambda w, i: (LIST, {"first": 50, **dates}))
        else:
            for k in range(int(args.seconds * 2)):
                await setup.execute(*load.request(0, k))
                await asyncio.sleep(0.5)
            result = None
        if result is not None:
            log(
                f"{args.load}: {result.throughput:.0f} req/s, p50 {result.p(50):.1f} ms, p99 {result.p(99):.1f} ms, {result.errors} errors"
            )
        await asyncio.to_thread(spy_proc.wait, args.seconds + 30)
        if spy_proc.returncode:
            print(spy_proc.stderr.read().decode(), file=sys.stderr)
        for client in clients:
            client.close()
        setup.close()
        await watchers.close()
    if args.svg:
        print(f"flame graph: {args.svg}")
        return
    print(summarize(out))
    print(f"\nraw stacks: {out}")


if __name__ == "__main__":
    asyncio.run(main())
