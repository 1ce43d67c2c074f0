"""docs/integrators.md is true: every snippet is read out of the page and run against a live server
(shell lines with bash, the Apollo and urql modules with Node, codegen with its config, gql and gql-cli, the
webhook receiver with uvicorn, the FHIR searches with curl and httpx)."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import shutil
import sys
from datetime import timedelta

import pytest

from app.auth import ALL_SCOPES
from app.ids import split_id
from tests.conftest import ROOT, SECRET
from tests.support.builders_scheduling import add_occurrence, create_group
from tests.support.builders_sessions import SET_ATTENDANCE, create_session, lock_session
from tests.support.node import CACHE, node_bin, place_snippet, run_node_test
from tests.support.server import free_port, start_server

# The module's tests share one server process: they run in one worker (pytest-xdist).
pytestmark = pytest.mark.xdist_group("integrator_docs")

PAGE = ROOT / "docs" / "integrators.md"
SNIPPET = re.compile(r"<!-- snippet: (?P<name>[\w.-]+) -->\n```\w*\n(?P<code>.*?)\n```", re.S)
VENV_BIN = ROOT / ".venv" / "bin"


def snippets() -> dict[str, str]:
    return {match["name"]: match["code"] + "\n" for match in SNIPPET.finditer(PAGE.read_text())}


def test_the_page_has_exactly_the_snippets_these_tests_run():
    assert sorted(snippets()) == sorted(
        [
            "setup.sh",
            "locked-409.sh",
            "apollo-client.mjs",
            "urql-client.mjs",
            "display.mjs",
            "codegen.yml",
            "gql-cli.sh",
            "mark_attendance.py",
            "webhook-register.sh",
            "webhook_receiver.py",
            "fhir-encounters.sh",
            "fhir_encounters.py",
        ]
    )


def test_the_room_display_snippet_is_the_example_file():
    assert snippets()["display.mjs"] == (ROOT / "examples" / "room-display" / "display.mjs").read_text()


def test_the_webhook_receiver_snippet_is_the_example_file():
    assert snippets()["webhook_receiver.py"] == (ROOT / "examples" / "integrator" / "webhook_receiver.py").read_text()


def test_the_readme_links_the_page():
    assert "docs/integrators.md" in (ROOT / "README.md").read_text()


# The page's webhook receiver listens on loopback: the server may call it there.
SERVER_ENV = {"GS_WEBHOOK_DELIVERY": "1", "GS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}
DOCS_BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
async def live_url(database_url):
    async with start_server(database_url, env=SERVER_ENV) as base_url:
        yield f"{base_url}/graphql"


@pytest.fixture
async def shell_env(live_url, tmp_path) -> dict[str, str]:
    """The environment after the page's set-up block, run as written (tokens signed with the server's key)."""
    env = {**os.environ, "GS_JWT_SECRET": SECRET, "GS_DATA_DIR": str(tmp_path)}
    script = snippets()["setup.sh"].replace(DOCS_BASE, live_url.removesuffix("/graphql"))
    output = await bash(script + "env\n", env, cwd=ROOT)
    exported = dict(line.split("=", 1) for line in output.splitlines() if line.startswith("GS_"))
    assert exported["GS_GRAPHQL_URL"] == live_url and exported["GS_TOKEN"].count(".") == 2
    assert exported["GS_FHIR_URL"] == live_url.replace("/graphql", "/fhir/R4")
    return {**env, **exported, "PATH": f"{VENV_BIN}:{env['PATH']}"}


@pytest.fixture
async def participants(gql, clinic, services) -> dict[str, str]:
    session = await create_session(gql, clinic, patients=[await clinic.add_patient()])
    locked = await create_session(gql, clinic, patients=[await clinic.add_patient()], title="Billed group")
    await lock_session(services, locked["id"])
    return {"open": session["roster"][0]["id"], "locked": locked["roster"][0]["id"]}


async def bash(script: str, env: dict[str, str], cwd) -> str:
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        script,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, f"{script}\nexit {process.returncode}\n{stdout.decode()}\n{stderr.decode()}"
    return stdout.decode()


async def test_the_curl_line_gets_the_409_locked(shell_env, participants):
    output = await bash(snippets()["locked-409.sh"], {**shell_env, "PARTICIPANT_ID": participants["locked"]}, cwd=ROOT)
    assert output.startswith("HTTP/1.1 409 Conflict"), output
    assert "content-type: application/graphql-response+json; charset=utf-8" in output.lower()
    assert '"code":"LOCKED"' in output

    without_accept = snippets()["locked-409.sh"].replace("  -H 'Accept: application/graphql-response+json' \\\n", "")
    output = await bash(without_accept, {**shell_env, "PARTICIPANT_ID": participants["locked"]}, cwd=ROOT)
    assert output.startswith("HTTP/1.1 200 OK") and '"code":"LOCKED"' in output, output


async def test_the_apollo_snippet_describes_each_code_and_sends_hashes(live_url, participants):
    scenario = {
        "url": live_url,
        "secret": SECRET,
        "scopes": list(ALL_SCOPES),
        "participantId": participants["open"],
        "lockedParticipantId": participants["locked"],
        "snippetModule": str(place_snippet("apollo-client.mjs", snippets()["apollo-client.mjs"])),
    }
    await run_node_test("docs_apollo.test.mjs", scenario)


async def test_the_urql_snippet_answers_once_with_codes_and_subscribes_both_ways(live_url, participants, gql, clinic):
    session = await create_session(gql, clinic, patients=[await clinic.add_patient()])
    scenario = {
        "url": live_url,
        "secret": SECRET,
        "scopes": list(ALL_SCOPES),
        "participantId": participants["open"],
        "lockedParticipantId": participants["locked"],
        "sessionId": session["id"],
        "watchedParticipantId": session["roster"][0]["id"],
        "snippetModule": str(place_snippet("urql-client.mjs", snippets()["urql-client.mjs"])),
    }
    await run_node_test("docs_urql.test.mjs", scenario)


async def test_the_codegen_config_generates_types_that_compile_under_strict_tsc(shell_env):
    """The page's config over every example operation, then `tsc --noEmit --strict` on the generated file and
    on tests/clients/codegen_usage.ts (an integrator's code: the enum as strings, the scalars as mapped)."""
    project = CACHE / "codegen-project"  # under .cache/clients, so the plugins resolve
    shutil.rmtree(project, ignore_errors=True)
    (project / "src").mkdir(parents=True)
    (project / "codegen.yml").write_text(snippets()["codegen.yml"])
    for document in sorted((ROOT / "examples").rglob("*.graphql")):
        shutil.copy(document, project / "src")
    shutil.copy(ROOT / "tests" / "clients" / "codegen_usage.ts", project / "src")
    await bash(f"{node_bin('graphql-codegen')} --config codegen.yml", shell_env, cwd=project)
    generated = (project / "src" / "graphql.ts").read_text()
    assert "export type MarkAttendanceMutation = " in generated
    assert "export type AttendanceStatus =\n  | 'ABSENT'" in generated
    assert "export type SetAttendanceInput" not in generated  # what the schema has, nothing invented
    await bash(f"{node_bin('tsc')} --noEmit --strict src/graphql.ts src/codegen_usage.ts", shell_env, cwd=project)


async def test_the_gql_cli_lines_print_the_schema_and_a_query(shell_env, tmp_path):
    output = await bash(snippets()["gql-cli.sh"], shell_env, cwd=tmp_path)
    assert '"subject": "my-integration"' in output, output
    schema = (tmp_path / "schema.graphql").read_text()
    assert "type Subscription" in schema and "sessionUpdates(sessionId: ID!)" in schema


async def test_the_gql_script_reports_the_code_of_a_refused_mutation(shell_env, participants, tmp_path):
    script = tmp_path / "mark_attendance.py"
    script.write_text(snippets()["mark_attendance.py"])
    python = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
    marked = await bash(f"{python} {script} {participants['open']} ATTENDED", shell_env, cwd=tmp_path)
    assert marked.strip() == "ATTENDED"
    refused = await bash(f"{python} {script} {participants['locked']} ABSENT", shell_env, cwd=tmp_path)
    assert refused.strip() == "LOCKED"


async def test_the_facilitator_walkthroughs_curl_line_gets_the_409_locked(shell_env, participants):
    page = (ROOT / "docs" / "walkthroughs" / "facilitator.md").read_text()
    block = re.split(r"the attendance guide's 409,\s+from curl:\n\n```sh\n", page, maxsplit=1)[1].split("```", 1)[0]
    script = block.replace("http://127.0.0.1:8000/graphql", shell_env["GS_GRAPHQL_URL"]).replace(
        "<id>", participants["locked"]
    )
    output = await bash(script, {**shell_env, "TOKEN": shell_env["GS_ADMIN_TOKEN"]}, cwd=ROOT)
    assert output.startswith("HTTP/1.1 409 Conflict") and '"code":"LOCKED"' in output, output


# ------------------------------------------------------------------ webhooks and FHIR


async def test_the_webhook_snippets_register_an_endpoint_and_the_receiver_verifies_its_message(
    shell_env, gql, clinic, tmp_path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    output = await bash(
        snippets()["webhook-register.sh"].replace("https://ehr.example.org/hooks", url), shell_env, cwd=ROOT
    )
    assert page_pattern(example_after("webhook-register.sh")).fullmatch(output.strip()), output
    created = json.loads(output)["data"]["createWebhookEndpoint"]
    assert created["secret"].startswith("whsec_") and created["endpoint"]["id"]

    (tmp_path / "webhook_receiver.py").write_text(snippets()["webhook_receiver.py"])
    receiver = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "python"),
        "-m",
        "uvicorn",
        "webhook_receiver:app",
        "--port",
        str(port),
        cwd=tmp_path,
        env={**shell_env, "GS_WEBHOOK_SECRET": created["secret"]},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _listening(port)
        group = await create_group(gql, clinic)
        occurrence = await add_occurrence(gql, group, "2026-01-07")
        line = (await asyncio.wait_for(receiver.stdout.readline(), 30)).decode()
    finally:
        receiver.terminate()
        await receiver.wait()
    kind, _, ids = line.partition(" ")
    assert kind == "pm_group_session_scheduled"
    assert ast.literal_eval(ids.strip())["occurrenceId"] == occurrence["id"]


async def _listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("the receiver did not start")


@pytest.fixture
async def member(gql, clinic, services) -> str:
    """A patient who attended three one-hour sessions, in person: the FHIR id (the row's UUID)."""
    patient = await clinic.add_patient()
    start = services.clock.now().replace(microsecond=0) - timedelta(days=3)
    for day in range(3):
        session = await create_session(
            gql, clinic, patients=[patient], starts_at=start + timedelta(days=day), minutes=60
        )
        await gql.execute(SET_ATTENDANCE, {"participantId": session["roster"][0]["id"], "status": "ATTENDED"})
    return split_id(patient)[1]


def example_after(snippet: str) -> str:
    """The output block the page shows right after a snippet."""
    rest = PAGE.read_text().split(f"<!-- snippet: {snippet} -->", 1)[1]
    return rest.split("```\n\n```\n", 1)[1].split("\n```", 1)[0]


def page_pattern(example: str) -> re.Pattern:
    """The page's example output as a pattern: each … stands for anything."""
    return re.compile(".*?".join(re.escape(part) for part in example.split("…")), re.S)


async def test_the_fhir_curl_line_answers_the_page_bundle(shell_env, member):
    output = await bash(snippets()["fhir-encounters.sh"], {**shell_env, "PATIENT_ID": member}, cwd=ROOT)
    assert page_pattern(example_after("fhir-encounters.sh")).fullmatch(output.strip()), output
    bundle = json.loads(output)
    assert bundle["total"] == 3 and len(bundle["entry"]) == 2


async def test_the_fhir_script_follows_every_page(shell_env, member, tmp_path):
    script = tmp_path / "fhir_encounters.py"
    script.write_text(snippets()["fhir_encounters.py"])
    output = await bash(f"{VENV_BIN / 'python'} {script} {member}", shell_env, cwd=tmp_path)
    lines = output.strip().splitlines()
    assert len(lines) == 3 and all(line.endswith(" finished AMB 60") for line in lines), output
