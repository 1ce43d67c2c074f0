"""The room display page and its pairing over HTTP: GET /display serves the page (HTML, CSS and a small
JavaScript module with a vendored graphql-ws client, every file from this app); a screen that is not
paired yet asks POST /display/pairings for a code to show, and polls POST /display/pairings/claim with
the secret it got until staff pair it (pairDisplay), when it receives its device credential once.
These two carry no bearer token: the screen has none yet."""

from __future__ import annotations

import json
from functools import cache

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.errors import Conflict
from app.http.assets import ASSETS
from app.operations import displays as ops
from app.operations.work import Services, unit_of_work
from app.rules.displays import PAIRING_CODE_TTL, format_code

POLL_SECONDS = 2
MAX_CLAIM_BODY = 1024
NO_STORE = {"Cache-Control": "no-store"}


@cache
def display_page() -> str:
    return (ASSETS / "display.html").read_text(encoding="utf-8")


# The page holds a device credential: it runs only its own files and talks only to this server.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
}


async def page(request: Request) -> Response:
    return HTMLResponse(display_page(), headers=PAGE_HEADERS)


async def start_pairing(request: Request) -> Response:
    services: Services = request.app.state.services
    client = request.client.host if request.client else "unknown"
    try:
        async with unit_of_work(services, "display-pairing") as uow:
            started = await ops.start_pairing(
                uow, services.code_requests, client, services.settings.display_codes_per_client
            )
    except Conflict as error:
        return JSONResponse({"error": error.message}, status_code=429, headers={**NO_STORE, "Retry-After": "60"})
    return JSONResponse(
        {
            "code": format_code(started.code),
            "claim": started.claim,
            "expiresAt": started.display.pairing_expires_at.isoformat(),
            "expiresInSeconds": int(PAIRING_CODE_TTL.total_seconds()),
            "pollSeconds": POLL_SECONDS,
        },
        status_code=201,
        headers=NO_STORE,
    )


async def claim(request: Request) -> Response:
    body = await request.body()
    try:
        secret = json.loads(body)["claim"] if len(body) <= MAX_CLAIM_BODY else None
    except (ValueError, KeyError, TypeError):
        secret = None
    if not isinstance(secret, str):
        return JSONResponse(
            {"error": 'Send {"claim": "<the secret /display/pairings gave>"}'}, status_code=400, headers=NO_STORE
        )
    services: Services = request.app.state.services
    async with unit_of_work(services, "display-pairing") as uow:
        claimed = await ops.claim_credential(uow, secret, services.settings.jwt_secret)
    answer: dict = {"state": claimed.state.value}
    if claimed.credential is not None:
        display = claimed.display
        answer.update(credential=claimed.credential, label=display.label, location=display.location)
    elif claimed.display is not None:
        answer["expiresAt"] = claimed.display.pairing_expires_at.isoformat()
    return JSONResponse(answer, headers=NO_STORE)


DISPLAY_ROUTES = [
    Route("/display", page, methods=["GET"]),
    Route("/display/pairings", start_pairing, methods=["POST"]),
    Route("/display/pairings/claim", claim, methods=["POST"]),
    Mount("/display/assets", StaticFiles(directory=ASSETS / "display")),
]
