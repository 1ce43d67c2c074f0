"""Debian packages the tests need (chromium, pgbouncer), installed with apt-get on first use."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.locks import exclusive

# apt-get refuses to run beside another apt-get: installs from several test processes take turns.
APT_LOCK = Path(tempfile.gettempdir()) / "group-sessions-tests-apt-get.lock"


def ensure_package(binary: Path, package: str, needed_by: str) -> Path:
    """`binary`, after `apt-get install <package>` when it is missing (as root, where apt-get is)."""
    if binary.exists():
        return binary
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise RuntimeError(f"{needed_by} need Debian's {package}: apt-get install -y {package} (as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with exclusive(APT_LOCK):
        if binary.exists():  # installed by another test process while this one waited
            return binary
        for command in (
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
        ):
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return binary
