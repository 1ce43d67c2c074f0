"""Schemathesis against the live GraphQL endpoint, as an admin, over the demo clinic.

    python -m tests.fuzz.run --max-time 600        # what `make fuzz` runs
    python -m tests.fuzz.run --max-time 40 --seed 1

Starts a real server process on a database of its own (a scratch database on TEST_DATABASE_URL's or
DATABASE_URL's server, else the embedded PostgreSQL), loads the demo clinic, then runs

    st --config-file <generated> run http://127.0.0.1:PORT/graphql -H "Authorization: Bearer …"
       -c response_schema_conformance,no_internal_error --phases fuzzing,stateful

The generated config points schemathesis at tests/fuzz/hooks.py (our check and scalar strategies)
and gives it dictionaries of the demo's ids per argument, so generated queries reach real records
and the stateful phase chains the ids that mutations create into later operations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import select

from app.clock import Clock
from app.db import models
from app.ids import encode_id

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHECKS = "response_schema_conformance,no_internal_error"

# Which records each id argument (or input field) names; schemathesis still draws other values too.
ID_ARGUMENTS = {
    "facilities": ["facilityId", "filter.facilityId", "input.facilityId"],
    "staff": ["staffId", "input.staffId", "input.facilitatorId", "input.coFacilitatorId"],
    "patients": ["patientId", "input.patientId", "input.patientIds[*]"],
    "payers": ["input.payerId"],
    "groups": ["groupId", "input.groupId"],
    "sessions": ["sessionId"],
    "enrollments": ["enrollmentId"],
    "roster": ["participantId", "entries[*].participantId"],
    "claims": ["claimId"],
    "any": ["id"],
    # Values that must come from a short list for a create to succeed.
    "states": ["input.state"],
    "timezones": ["input.timezone"],
    "npis": ["input.npi"],
    "sexes": ["input.sex"],
    "rules": ["input.recurrenceRule"],
    # Names and labels, often with control and invisible formatting characters (issue 25).
    "names": ["input.name", "input.label", "input.location", "label", "location", "name"],
    "procedure_codes": ["input.bands[*].procedureCode"],
    "modifiers": ["input.bands[*].modifiers[*]"],
}
# `id` arguments of one type each (more specific than "*.*.id").
TYPED_IDS = {
    "groups": ["Query.group.id", "Mutation.updateGroup.id", "Mutation.deleteGroup.id"],
    "occurrences": ["Query.occurrence.id", "Mutation.updateOccurrence.id", "Mutation.cancelOccurrence.id"],
    "sessions": ["Query.groupSession.id"],
    "claims": ["Query.claim.id"],
}
VALUES = {
    "states": ["AZ", "NM", "CA"],
    "timezones": ["America/Phoenix", "America/Denver", "UTC"],
    "npis": ["1234567893", "1245319599", "1679576722"],
    "sexes": ["F", "M", "U"],
    "rules": [
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "FREQ=DAILY;COUNT=10",
        "FREQ=MONTHLY;BYDAY=1TU",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        # Rules built to be empty (their parts each match, the INTERVAL keeps them apart), rare or huge.
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=999999",
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=2",
        "FREQ=YEARLY;INTERVAL=40;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
        "FREQ=DAILY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
        "FREQ=DAILY;COUNT=999999",
        "FREQ=DAILY;UNTIL=99991231T235959Z",
        "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO;INTERVAL=7",
        "FREQ=WEEKLY;" + "BYDAY=MO;" * 60,
        "",
        " ",
        "RRULE:",
    ],
    "names": [
        "Ana Mendez",
        "Ana\u202eztneM",
        "Ana\u2028Mendez",
        "\ufeffAna",
        "Ana\u200bMendez",
        "Ana \u2066Mendez\u2069",
        "\u200b\u200b",
        "Ana\u0000Mendez",
        "Ana\u001bMendez",
        "Ana\u0085Mendez",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "Montgomery-Whitaker, Jo",
        "x" * 201,
    ],
    "procedure_codes": ["90853", "H0005"],
    "modifiers": ["HQ", "U1"],
}


def pinned_clock(hour: int = 10) -> Clock:
    """The demo builds today's sessions around "now"; a mid-morning clinic clock keeps them inside today."""
    clock = Clock()
    phoenix = ZoneInfo("America/Phoenix")
    today = clock.now().astimezone(phoenix).date()
    clock.advance(datetime.combine(today, time(hour), phoenix) - clock.now())
    return clock


async def demo_ids(services) -> dict[str, list[str]]:
    """Global ids of the demo's records by kind, and the short lists of VALUES."""
    kinds = {
        "facilities": (models.Facility, "Facility"),
        "staff": (models.Staff, "Staff"),
        "patients": (models.Patient, "Patient"),
        "payers": (models.Payer, "Payer"),
        "groups": (models.GroupDefinition, "GroupDefinition"),
        "occurrences": (models.GroupOccurrence, "GroupOccurrence"),
        "sessions": (models.GroupSession, "GroupSession"),
        "enrollments": (models.Enrollment, "Enrollment"),
        "roster": (models.RosterEntry, "RosterEntry"),
        "claims": (models.Claim, "Claim"),
        "charges": (models.Charge, "Charge"),
    }
    found: dict[str, list[str]] = {}
    async with services.sessionmaker() as session:
        for kind, (model, type_name) in kinds.items():
            pks = (await session.scalars(select(model.id).limit(40))).all()
            found[kind] = [encode_id(type_name, pk) for pk in pks]
    found["any"] = [
        i for kind in ("groups", "occurrences", "sessions", "claims", "patients", "charges") for i in found[kind][:8]
    ]
    return {kind: ids for kind, ids in {**found, **VALUES}.items() if ids}


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def write_config(path: Path, ids: dict[str, list[str]]) -> None:
    lines = [f"hooks = {json.dumps(str(HERE / 'hooks.py'))}", ""]
    for kind, values in ids.items():
        lines += [f"[dictionaries.{kind}]", f"values = {_toml_list(values)}", ""]
    lines.append("[parameters]")
    for kind, arguments in ID_ARGUMENTS.items():
        if kind not in ids:
            continue
        for argument in arguments:
            lines.append(f'"*.*.{argument}" = {{ dictionary = "{kind}", probability = 0.8 }}')
    for kind, bindings in TYPED_IDS.items():
        if kind in ids:
            lines += [f'"{binding}" = {{ dictionary = "{kind}", probability = 0.8 }}' for binding in bindings]
    path.write_text("\n".join(lines) + "\n")


def schemathesis_command(
    config: Path, url: str, token: str, max_time: int, seed: int | None, workers: int
) -> list[str]:
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        url,
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "fuzzing,stateful",
        "--max-time",
        str(max_time),
        "--workers",
        str(workers),
        "--request-timeout",
        "30",
        "--no-shrink",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    return command


async def fuzz_server(
    database_url: str, services, *, max_time: int, seed: int | None = None, workers: int = 2, workdir: Path
) -> tuple[int, str]:
    """Load the demo through `services` (on `database_url`), serve it from a real process, fuzz it.
    Returns schemathesis' exit code and output."""
    from app.demo import load_demo
    from tests.conftest import make_token
    from tests.support.builders_hardening import ServerProcess

    await load_demo(services)
    config = workdir / "schemathesis.toml"
    write_config(config, await demo_ids(services))
    server = ServerProcess(database_url, workdir)
    await server.start()
    try:
        command = schemathesis_command(
            config, f"{server.base_url}/graphql", make_token(subject="fuzzer"), max_time, seed, workers
        )
        result = await asyncio.to_thread(
            subprocess.run,
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        )
    finally:
        await server.stop()
    output = result.stdout + result.stderr
    if result.returncode != 0:
        log = server.log()
        # every internal error's lines first (the access log after them would push them out), then the tail
        faults = log.split("\ninternal error ")[1:]
        output += "\n--- server output ---\n" + "".join(f"internal error {b[:3000]}\n" for b in faults[:5])
        output += log[-20000:]
    return result.returncode, output


async def _main(args: argparse.Namespace) -> int:
    from app.config import Settings
    from app.main import open_services
    from tests.conftest import SECRET, _server_url, _with_database

    server_url, embedded = _server_url()
    name = f"gs_fuzz_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    database_url = _with_database(server_url, name)
    try:
        with tempfile.TemporaryDirectory(prefix="gs-fuzz-") as tmp:
            settings = Settings(
                database_url=database_url,
                data_dir=Path(tmp),
                broadcast_url="memory://",
                jwt_secret=SECRET,
                billing_sweep_seconds=0,
                allowed_origins=(),
                dev=False,
            )
            async with open_services(settings, clock=pinned_clock()) as services:
                code, output = await fuzz_server(
                    database_url,
                    services,
                    max_time=args.max_time,
                    seed=args.seed,
                    workers=args.workers,
                    workdir=Path(tmp),
                )
        print(output)
        return code
    finally:
        admin = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if embedded is not None:
            embedded.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=600, help="seconds for schemathesis (fuzzing and stateful)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    sys.exit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
