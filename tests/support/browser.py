"""Debian's Chromium for browser tests, installed on first use (never a browser download of its own),
and driven by Playwright for Python."""

from __future__ import annotations

from pathlib import Path

from tests.support.debian import ensure_package

CHROMIUM = Path("/usr/bin/chromium")
# Headless, no sandbox (root in a container), and none of the browser's own calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> Path:
    """/usr/bin/chromium, after `apt-get install chromium` when it is missing."""
    return ensure_package(CHROMIUM, "chromium", "the browser tests")
