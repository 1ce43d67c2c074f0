"""GraphiQL in a real browser with no internet: Debian's Chromium loads the page from a live server
with every request off this machine refused, the editor renders, a query with the dev token runs,
a subscription streams its SNAPSHOT, and the token is not kept unless the user opts in.
The screenshot lands in .data/graphiql.png for people to look at."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from tests.conftest import ROOT, make_token
from tests.support.browser import chromium, ensure_chromium
from tests.support.builders_sessions import create_session
from tests.support.server import start_server

# The module's tests share one server process and one browser: they run in one worker (pytest-xdist).
pytestmark = pytest.mark.xdist_group("graphiql_browser")

SCREENSHOT = ROOT / ".data" / "graphiql.png"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".result-window .CodeMirror"


@pytest.fixture(scope="module")
async def base_url(database_url):
    ensure_chromium()
    async with start_server(database_url) as url:
        yield url


@pytest.fixture(scope="module")
async def browser():
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def browser_page(browser, base_url):
    """A page in a fresh browser context (nothing stored) that may reach only 127.0.0.1; yields
    (page, base URL, refused URLs)."""
    refused: list[str] = []
    context = await browser.new_context(viewport={"width": 1400, "height": 900})

    async def only_this_machine(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_this_machine)
    page = await context.new_page()
    try:
        yield page, base_url, refused
    finally:
        await context.close()


async def paste(page: Page, selector: str, text: str) -> None:
    """What a user does: click into the editor, select all, paste."""
    await page.click(selector)
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def run_and_read(page: Page, expected: str) -> str:
    await page.click("button.graphiql-execute-button")
    await page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).CodeMirror.getValue().includes(text)",
        arg=[RESULT, expected],
        timeout=30_000,
    )
    return await page.evaluate("(selector) => document.querySelector(selector).CodeMirror.getValue()", RESULT)


async def test_graphiql_renders_offline_and_runs_a_query_with_the_dev_token(browser_page):
    page, base_url, refused = browser_page
    token = make_token(subject="dev-admin")
    response = await page.goto(f"{base_url}/graphql")
    assert response.status == 200
    await page.wait_for_selector(QUERY_EDITOR, timeout=30_000)
    assert await page.locator("#graphiql").inner_text() != "Loading…"

    await paste(page, HEADERS_EDITOR, f'{{"Authorization": "Bearer {token}"}}')
    result = await run_and_read(page, '"subject": "dev-admin"')
    assert '"UNAUTHENTICATED"' not in result

    SCREENSHOT.parent.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    assert refused == []  # the page asked for nothing off this machine


async def test_the_headers_pane_is_not_kept_unless_the_user_opts_in(browser_page):
    page, base_url, _ = browser_page
    token = make_token(subject="dev-admin")
    await page.goto(f"{base_url}/graphql")
    await page.wait_for_selector(HEADERS_EDITOR, timeout=30_000)
    await paste(page, HEADERS_EDITOR, f'{{"Authorization": "Bearer {token}"}}')
    await run_and_read(page, '"subject": "dev-admin"')
    stored = await page.evaluate("() => JSON.stringify(Object.entries(localStorage))")
    assert token not in stored

    await page.reload()
    await page.wait_for_selector(HEADERS_EDITOR, timeout=30_000)
    headers = await page.evaluate(
        "(selector) => document.querySelector(selector).CodeMirror.getValue()", HEADERS_EDITOR
    )
    assert token not in headers

    await paste(page, HEADERS_EDITOR, f'{{"Authorization": "Bearer {token}"}}')
    await page.click("button[aria-label='Open settings dialog']")
    await page.locator(".graphiql-dialog-section", has_text="Persist headers").get_by_role("button", name="On").click()
    await page.keyboard.press("Escape")
    await page.reload()
    await page.wait_for_selector(HEADERS_EDITOR, timeout=30_000)
    headers = await page.evaluate(
        "(selector) => document.querySelector(selector).CodeMirror.getValue()", HEADERS_EDITOR
    )
    assert token in headers  # kept once the user chose to keep it


async def test_a_subscription_in_graphiql_streams_its_snapshot(browser_page, gql, clinic):
    page, base_url, refused = browser_page
    session = await create_session(gql, clinic)
    await page.goto(f"{base_url}/graphql")
    await page.wait_for_selector(QUERY_EDITOR, timeout=30_000)
    await paste(page, HEADERS_EDITOR, f'{{"Authorization": "Bearer {make_token()}"}}')
    await paste(
        page, QUERY_EDITOR, f'subscription Watch {{ sessionUpdates(sessionId: "{session["id"]}") {{ kind sequence }} }}'
    )
    await page.locator(".graphiql-tab-button", has_text="Watch").wait_for()  # GraphiQL has read the new operation
    result = await run_and_read(page, '"kind": "SNAPSHOT"')
    assert "errors" not in result
    assert refused == []


async def test_the_docs_pane_fetches_the_schema_again_once_a_token_is_in_the_headers(browser_page):
    """Introspection needs a token: the page opens with a placeholder, so the first schema fetch fails.
    Pasting a token into the Headers pane is enough: the Docs pane fills without a Re-fetch."""
    page, base_url, refused = browser_page
    await page.goto(f"{base_url}/graphql")
    await page.wait_for_selector(HEADERS_EDITOR, timeout=30_000)
    await page.click("button[aria-label='Show Documentation Explorer']")
    docs = page.locator(".graphiql-doc-explorer")
    await docs.get_by_text("Error fetching schema").wait_for(timeout=30_000)

    await paste(page, HEADERS_EDITOR, f'{{"Authorization": "Bearer {make_token()}"}}')
    await docs.get_by_text("Root Types").wait_for(timeout=15_000)
    assert "Error fetching schema" not in await docs.inner_text()
    await docs.get_by_text("Query", exact=True).first.wait_for()
    assert refused == []
