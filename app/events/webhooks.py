"""Webhook delivery: the outbox feed consumer that fans events out to endpoints, and the loop that
calls them (Standard Webhooks: signed, at least once, retried on a schedule of about three days).

Durable in PostgreSQL: a delivery row is made in the transaction that advances the feed's offset,
and stays PENDING until an attempt's answer is recorded. A process that dies mid-attempt leaves the
row due and its endpoint held only until the hold expires; the next pass, in any process, sends it
again with the same webhook-id. Each endpoint has one attempt in flight at a time (across processes),
and every attempt runs in its own task, so a slow or dead endpoint delays no other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.config import Settings
from app.events.feed import Consumer
from app.operations import webhooks as ops
from app.operations.work import UnitsOfWork
from app.rules import webhooks as rules

log = logging.getLogger(__name__)

CONSUMER = Consumer(name="webhooks", handlers={}, every_event=ops.fan_out)
POLL_SECONDS = 0.5
MAX_IN_FLIGHT = 50  # endpoints called at once by one process


def hold_for(settings: Settings) -> timedelta:
    """How long an endpoint is held for one attempt: past its time-out, so a live attempt keeps it."""
    return timedelta(seconds=2 * settings.webhook_timeout_seconds + 5)


async def call(
    client: httpx.AsyncClient, message: ops.Message, timestamp: int, settings
) -> tuple[int | None, str | None]:
    """POST the message to the address its host resolves to now, checked again (the name may point
    elsewhere since it was registered), with the host's name in Host and TLS SNI; no redirect is
    followed. Returns (status code, None) or (None, why it failed)."""
    parts = urlsplit(message.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await ops.resolve(host, port)
    if not addresses:
        return None, f"{host} does not resolve"
    allowed = rules.networks(settings.webhook_allowed_networks)
    for address in addresses:
        problem = rules.address_problem(address, allowed)
        if problem:
            return None, f"refused: {problem}"
    problem = rules.scheme_problem(message.url, addresses, allowed)
    if problem:
        return None, f"refused: {problem}"
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    headers = rules.headers(message.secrets, message.msg_id, timestamp, message.body)
    headers["host"] = parts.netloc.rsplit("@", 1)[-1]
    headers["user-agent"] = "group-sessions-webhooks/1"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        async with client.stream(
            "POST", target, content=message.body, headers=headers, extensions=extensions
        ) as answer:
            return answer.status_code, None  # the body is never read: only the status counts
    except httpx.TimeoutException:
        return None, "timed out"
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}"


class Dispatcher:
    """Claims due deliveries and calls their endpoints, each in a task of its own."""

    def __init__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, units: UnitsOfWork
    ) -> None:
        self.settings, self.sessionmaker, self.clock, self.units = settings, sessionmaker, clock, units
        self.seal = ops.SecretSeal(settings.jwt_secret)
        timeout = settings.webhook_timeout_seconds
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would be an address nobody registered
            # No connection is kept: calls go to an address, and two hosts on one address must not
            # share a TLS connection made for one of them.
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=0),
        )
        self.in_flight: dict[uuid.UUID, asyncio.Task] = {}
        self._wake = asyncio.Event()

    def kick(self) -> None:
        self._wake.set()

    async def run_pass(self) -> int:
        """Start an attempt for every due message whose endpoint is free; returns how many started."""
        room = MAX_IN_FLIGHT - len(self.in_flight)
        if room <= 0:
            return 0
        async with self.sessionmaker() as db, db.begin():
            messages = await ops.claim_due(
                db,
                now=self.clock.now(),
                lease=hold_for(self.settings),
                skip=list(self.in_flight),
                limit=room,
                seal=self.seal,
            )
        for message in messages:
            task = asyncio.create_task(self._attempt(message))
            self.in_flight[message.endpoint_id] = task
            task.add_done_callback(lambda _, endpoint=message.endpoint_id: self._done(endpoint))
        return len(messages)

    def _done(self, endpoint_id: uuid.UUID) -> None:
        self.in_flight.pop(endpoint_id, None)
        self.kick()  # its next message may be due already

    async def _attempt(self, message: ops.Message) -> None:
        settings = self.settings
        at = self.clock.now()
        started = time.monotonic()
        try:
            async with asyncio.timeout(settings.webhook_timeout_seconds + ops.RESOLVE_SECONDS):
                status, error = await call(self.client, message, int(at.timestamp()), settings)
        except TimeoutError:
            status, error = None, "timed out"
        except Exception as failure:  # noqa: BLE001 - any failure is a failed attempt, retried on the schedule
            status, error = None, type(failure).__name__
        result = ops.AttemptResult(
            at=at, status_code=status, latency_ms=int((time.monotonic() - started) * 1000), error=error
        )
        if error:
            log.info("webhook %s to endpoint %s failed: %s", message.msg_id, message.endpoint_id, error)
        try:
            async with self.units("webhooks") as uow:
                await ops.record_attempt(uow, message, result, settings)
        except Exception:
            # The endpoint stays held until its hold expires; the message is due again then.
            log.exception("recording webhook attempt %s failed", message.msg_id)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_pass()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    async def close(self) -> None:
        tasks = list(self.in_flight.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.client.aclose()


async def deliver_forever(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, units: UnitsOfWork
) -> None:
    """The background loop app.main runs while serving (unless GS_WEBHOOK_DELIVERY=0)."""
    if not settings.webhook_delivery:
        log.warning("webhook delivery is off (GS_WEBHOOK_DELIVERY=0): messages wait")
        return
    dispatcher = Dispatcher(settings, sessionmaker, clock, units)
    try:
        await dispatcher.run_forever()
    finally:
        await dispatcher.close()
