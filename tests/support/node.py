"""The Node.js clients integrators run (tests/clients/), installed on demand and run against a live server.

`npm ci` installs tests/clients/package-lock.json into .cache/clients/ (gitignored) whenever the
lockfile changes; tests/clients/node_modules points there, so the test scripts import the packages
as any project would. `run_node_test` runs one script with node's test runner and fails the pytest
test with everything the client printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.support.locks import exclusive

CLIENTS = ROOT / "tests" / "clients"
CACHE = ROOT / ".cache" / "clients"
MANIFESTS = ("package.json", "package-lock.json")


def ensure_node_packages() -> Path:
    """The installed node_modules, after `npm ci` if the lockfile changed since the last install."""
    with exclusive(CACHE.parent / "clients.lock"):  # pytest-xdist workers: one `npm ci` at a time
        return _install_node_packages()


def _install_node_packages() -> Path:
    digest = hashlib.sha256(b"".join((CLIENTS / name).read_bytes() for name in MANIFESTS)).hexdigest()
    stamp = CACHE / ".installed-sha256"
    modules = CACHE / "node_modules"
    if not (modules.is_dir() and stamp.is_file() and stamp.read_text() == digest):
        if shutil.which("npm") is None:
            raise RuntimeError("npm is not installed: the client tests need Node.js 20 and npm")
        CACHE.mkdir(parents=True, exist_ok=True)
        for name in MANIFESTS:
            shutil.copyfile(CLIENTS / name, CACHE / name)
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CACHE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm ci failed in {CACHE}:\n{result.stdout}\n{result.stderr}")
        stamp.write_text(digest)
    link = CLIENTS / "node_modules"
    if not link.exists():
        if link.is_symlink():
            link.unlink()  # a link left dangling by a removed cache
        link.symlink_to(os.path.relpath(modules, CLIENTS))
    return modules


def place_snippet(name: str, code: str) -> Path:
    """A module written next to the installed packages (a snippet from the docs), so its imports resolve."""
    ensure_node_packages()
    path = CACHE / "snippets" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(code)
    return path


def node_bin(name: str) -> Path:
    return CACHE / "node_modules" / ".bin" / name


async def run_node_test(script: str | Path, scenario: dict, timeout: float = 180) -> str:
    """Run a node:test script with the scenario in GS_SCENARIO (JSON); its output when it passes."""
    ensure_node_packages()
    env = {**os.environ, "GS_SCENARIO": json.dumps(scenario), "NODE_NO_WARNINGS": "1"}
    process = await asyncio.create_subprocess_exec(
        "node",
        "--test",
        "--test-reporter=spec",
        str(CLIENTS / script),
        cwd=CLIENTS,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        raise AssertionError(f"{script} did not finish in {timeout:.0f}s:\n{output.decode(errors='replace')}") from None
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{script} failed (exit {process.returncode}):\n{text}"
    print(text)
    return text
