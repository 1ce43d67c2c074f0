"""A webhook receiver as an integrator would write one: a small Starlette app, run by uvicorn on a
loopback port, that verifies every message with the `standardwebhooks` package and answers as the
test tells it (succeed, fail, hang, redirect); and the GraphQL calls that manage endpoints."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.support.server import free_port

CREATE = """
mutation($input: WebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes facilityIds scopes disabledAt } }
}"""
UPDATE = """
mutation($id: ID!, $change: WebhookEndpointChange!) {
  updateWebhookEndpoint(id: $id, change: $change) { id disabledAt disabledReason consecutiveFailures eventTypes }
}"""
ROTATE = """
mutation($id: ID!, $overlap: Float!) {
  rotateWebhookSecret(id: $id, overlapHours: $overlap) { secret endpoint { id previousSecretUntil } }
}"""
REPLAY = """
mutation($id: ID!, $eventId: ID, $from: DateTime, $to: DateTime) {
  replayWebhookEvents(endpointId: $id, eventId: $eventId, from: $from, to: $to)
}"""
DELIVERIES = """
{ webhookEndpoints(first: 10) { edges { node { id disabledAt disabledReason consecutiveFailures
  deliveries(first: 20) { totalCount edges { node { webhookId eventId eventType status lastStatusCode deliveredAt
    attempts { attempt statusCode latencyMs error } } } } } } } }"""


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified_with: list[int]  # which of the receiver's secrets verified it (indexes)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def message(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """`answers`: the status codes to give, in order, then `then` for every later message;
    `delay`: seconds to wait before answering."""

    url: str = ""
    secrets: list[str] = field(default_factory=list)
    messages: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    then: int = 204
    delay: float = 0.0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    redirected_hits: int = 0
    in_flight: int = 0
    most_in_flight: int = 0  # the most messages it was answering at once

    def verified(self) -> list[Received]:
        return [m for m in self.messages if m.verified_with]

    def ids(self) -> list[str]:
        return [m.webhook_id for m in self.messages]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(index)
            except WebhookVerificationError:
                pass
        self.messages.append(Received(headers, body, verified))
        self.arrived.set()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)  # a moment even at 0: another call would overlap it here
        finally:
            self.in_flight -= 1
        if not verified:
            return Response(status_code=401)
        status = self.answers.pop(0) if self.answers else self.then
        if status in (301, 302, 307, 308):
            return RedirectResponse("/elsewhere", status_code=status)
        return Response(status_code=status)

    async def elsewhere(self, request: Request) -> Response:
        self.redirected_hits += 1
        return Response(status_code=204)

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.messages


@asynccontextmanager
async def receiving(port: int | None = None) -> AsyncIterator[Receiver]:
    """A receiver listening on 127.0.0.1 until the block ends (then the port refuses connections)."""
    receiver = Receiver()
    port = port or free_port()
    app = Starlette(
        routes=[
            Route("/hooks", receiver.handle, methods=["POST"]),
            Route("/elsewhere", receiver.elsewhere, methods=["POST"]),
        ]
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    receiver.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield receiver
    finally:
        server.should_exit = True
        server.force_exit = True
        await task


async def register(gql, url: str, event_types: list[str], **extra) -> tuple[str, str]:
    """(endpoint id, secret) of a new endpoint."""
    data = await gql.execute(CREATE, {"input": {"url": url, "eventTypes": event_types, **extra}})
    created = data["createWebhookEndpoint"]
    return created["endpoint"]["id"], created["secret"]


async def endpoint_log(gql, endpoint_id: str) -> dict:
    data = await gql.execute(DELIVERIES)
    return next(e["node"] for e in data["webhookEndpoints"]["edges"] if e["node"]["id"] == endpoint_id)
