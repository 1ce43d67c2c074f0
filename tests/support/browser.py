"""Debian's Chromium for browser tests, installed on first use (never a browser download of its own),
and driven by Playwright for Python."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

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


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for a module's tests; each test opens a context of its own (its own storage)."""
    executable = ensure_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
