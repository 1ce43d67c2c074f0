"""The README is a front door: short, its first query runs in GraphiQL as a reader pastes it, its map
reaches every page of docs/, every link of it and of docs/ leads somewhere, and security is told
once, in docs/security-and-reliability.md."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote, urlsplit

from playwright.async_api import async_playwright

from app.demo import load_demo
from tests.conftest import ROOT, make_token
from tests.support.browser import CHROMIUM_ARGS, ensure_chromium
from tests.support.server import start_server
from tests.test_walkthroughs import mismatches

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (?P<title>.+)$", re.M)
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"


def section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def first_query() -> tuple[str, str]:
    """The README's first query and the answer it shows."""
    part = section(README.read_text(), "A first query")
    query = part.split("```graphql\n", 1)[1].split("```", 1)[0]
    answer = part.split("<!-- output: first-query -->\n```json\n", 1)[1].split("```", 1)[0]
    return query, answer


def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 170
    assert [m["title"] for m in re.finditer(r"^## (?P<title>.+)$", text, re.M)] == [
        "The two commands",
        "A first query",
        "The demo clinic",
        "Where to read next",
        "How it is built",
        "Tests",
    ]
    linked = {(README.parent / unquote(urlsplit(m["target"]).path)).resolve() for m in LINK.finditer(text)}
    pages = {p.resolve() for p in DOCS.rglob("*.md")}
    assert sorted(str(p.relative_to(ROOT)) for p in pages - linked) == []


def slug(title: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def test_every_link_of_the_readme_and_docs_leads_somewhere():
    broken = []
    for page in PAGES:
        for match in LINK.finditer(page.read_text()):
            parts = urlsplit(match["target"])
            if parts.scheme:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(ROOT)}: {match['target']}")
            elif parts.fragment and target.suffix == ".md":
                anchors = {slug(m["title"]) for m in HEADING.finditer(target.read_text())}
                if parts.fragment not in anchors:
                    broken.append(f"{page.relative_to(ROOT)}: {match['target']} (no such heading)")
    assert broken == []


def sentences(text: str) -> set[str]:
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    flat = re.sub(r"\s+", " ", prose)
    return {s.strip() for s in re.split(r"(?<=[.!?])\s", flat) if len(s.strip()) >= 60}


def test_security_is_told_once_in_its_own_page():
    security = sentences((DOCS / "security-and-reliability.md").read_text())
    repeated = {
        str(page.relative_to(ROOT)): sorted(security & sentences(page.read_text()))
        for page in PAGES
        if page.name != "security-and-reliability.md"
    }
    assert {page: found for page, found in repeated.items() if found} == {}


async def test_the_readmes_first_query_runs_as_pasted_over_graphiqls_own(database_url, services):
    """Pasted over GraphiQL's default query and run at once (Ctrl+Enter), before GraphiQL has read the
    new document: it still sends the default's operation name, so the first query must carry it."""
    assert "Loaded" in await load_demo(services)
    query, answer = first_query()
    chromium = ensure_chromium()
    async with start_server(database_url) as base_url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
            await page.goto(f"{base_url}/graphql")
            await page.wait_for_selector(QUERY_EDITOR, timeout=30_000)
            default = await page.evaluate("(s) => document.querySelector(s).CodeMirror.getValue()", QUERY_EDITOR)
            assert "query Viewer {" in default  # what the reader pastes over
            await page.click(HEADERS_EDITOR)
            await page.keyboard.press("Control+A")
            await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {make_token(subject='dev-admin')}"}))
            await page.click("button.graphiql-execute-button")  # the default query, as a reader may run it first
            await page.wait_for_function(
                "(s) => document.querySelector(s).CodeMirror.getValue().includes('dev-admin')", arg=RESULT
            )
            await page.evaluate("(s) => document.querySelector(s).CodeMirror.setValue('')", RESULT)
            await page.click(QUERY_EDITOR)
            await page.keyboard.press("Control+A")
            await page.keyboard.insert_text(query)
            await page.keyboard.press("Control+Enter")
            await page.wait_for_function(
                "(s) => document.querySelector(s).CodeMirror.getValue().trim() !== ''", arg=RESULT, timeout=30_000
            )
            result = json.loads(await page.evaluate("(s) => document.querySelector(s).CodeMirror.getValue()", RESULT))
        finally:
            await browser.close()
    assert mismatches(json.loads(answer), result) == []


def test_every_setting_the_service_reads_is_in_the_deployment_settings_table():
    """docs/deployment.md lists every environment variable app/config.py reads."""
    names = set(re.findall(r'"((?:GS|DATABASE|BROADCAST|REDIS)_[A-Z_]*)"', (ROOT / "app" / "config.py").read_text()))
    table = (ROOT / "docs" / "deployment.md").read_text()
    assert names, "no settings found in app/config.py"
    assert sorted(name for name in names if f"`{name}`" not in table) == []
