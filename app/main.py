"""The process, composed here: every dependency built once (`open_services`), and the ASGI application
with its lifespan (live updates and background loops) and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from app.clock import Clock
from app.clock import clock as default_clock
from app.config import Settings
from app.db.embedded import EmbeddedPostgres
from app.db.engine import make_engine, make_sessionmaker, ping
from app.db.migrate import upgrade
from app.events import webhooks
from app.events.consumers import clinical_sessions
from app.events.feed import FeedRunner
from app.events.relay import Relay
from app.http.access_log import keep_queries_out_of_the_access_log
from app.http.calendar import CALENDAR_ROUTES, redact_feed_secrets
from app.http.display import DISPLAY_ROUTES
from app.http.fhir.routes import PREFIX as FHIR_PREFIX
from app.http.fhir.routes import fhir_router
from app.http.graphiql import ASSETS_PATH, graphiql_assets
from app.http.view import GraphQLView
from app.live.backends import broadcast_url, make_broadcast
from app.live.runtime import Live
from app.operations.billing_pipeline import sweep_forever
from app.operations.callers import CallerLimits
from app.operations.displays import PairingAttempts, RecentAttempts
from app.operations.eligibility import check_nightly_forever
from app.operations.remittance import watch_inbox_forever
from app.operations.work import Services, UnitsOfWork
from app.payer_sim.exchange import simulated_exchange
from app.schema.live.cluster import SchemaRenderer
from app.schema.parsing import share_the_interpreter
from app.schema.root import build_schema

log = logging.getLogger("app")

# The outbox feed's consumers this process runs, in order.
CONSUMERS = (clinical_sessions.CONSUMER, webhooks.CONSUMER)


# What a browser client may send across origins: ours, and the tracing headers browsers' telemetry adds.
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Request-Id",
    "traceparent",
    "tracestate",
    "sentry-trace",
    "baggage",
)
# What a browser client may read: whether an answer is a replay, and the id the logs know it by.
CORS_EXPOSED_HEADERS = ("Idempotent-Replayed", "X-Request-Id")


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, *, migrate: bool = True, clock: Clock = default_clock, serving: bool = False
) -> AsyncIterator[Services]:
    """Every dependency of a process, built once and in order: the database (embedded when no
    DATABASE_URL; migrated), live updates on the broadcaster, the relay, the feed runner, the units
    of work. `serving`: the server's, whose units of work stage live updates and hand committed events
    to the relay; the command line's do neither (the server's relay publishes their events).
    The database is stopped cleanly on exit."""
    embedded = None
    url = settings.database_url
    if url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        url = await asyncio.to_thread(embedded.start)
    try:
        if migrate:
            await asyncio.to_thread(upgrade, url)
        engine = make_engine(
            url, pool_size=settings.db_pool_size, pool_timeout=settings.db_pool_timeout, pgbouncer=settings.db_pgbouncer
        )
        sessionmaker = make_sessionmaker(engine)
        broadcast = broadcast_url(settings.broadcast_url, url)
        live = Live(make_broadcast(broadcast), sessionmaker, clock, broadcast_url=broadcast, database_url=url)
        relay = Relay(sessionmaker, clock, live.broadcast, notify_in_transaction=live.publisher.notify_in_transaction)
        units = UnitsOfWork(
            sessionmaker,
            clock,
            settings.finalize_hours,
            live=live.publisher if serving else None,
            # Sessions follow their occurrences in the scheduling change's own transaction too.
            in_transaction=clinical_sessions.IN_TRANSACTION,
            in_transaction_runs=clinical_sessions.IN_TRANSACTION_RUNS,
            first_start_years=settings.recurrence_first_start_years,
        )
        # The consumers' own units of work hand their events to the relay only (a drain that recorded
        # events goes round again by itself); every other unit of work to the consumers, then the relay.
        feed = FeedRunner(replace(units, runners=(relay,) if serving else ()), CONSUMERS)
        units = replace(units, runners=(feed, relay) if serving else (feed,))
        try:
            yield Services(
                settings=settings,
                clock=clock,
                engine=engine,
                sessionmaker=sessionmaker,
                database_url=url,
                live=live,
                feed=feed,
                relay=relay,
                units=units,
                pairing_attempts=PairingAttempts(
                    sessionmaker, settings.pairing_guesses_per_caller, settings.pairing_guesses_per_facility
                ),
                code_requests=RecentAttempts(),
                caller_limits=CallerLimits(
                    settings.db_connections_per_caller,
                    settings.websockets_per_caller,
                    settings.subscriptions_per_caller,
                    settings.subscription_documents_per_caller,
                ),
                eligibility=simulated_exchange(settings.simulated_inactive_members)
                if settings.eligibility_exchange == "simulated"
                else None,
            )
        finally:
            await engine.dispose()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def background_loops(services: Services) -> list[Coroutine[Any, Any, None]]:
    """While serving: the feed runner's and the relay's timers (the safety net behind their kicks
    after each commit), the billing sweep, the webhook deliveries, the nightly eligibility check and the
    EDI inbox (GS_EDI_INBOX)."""
    return [
        services.feed.run_forever(),
        services.relay.run_forever(),
        sweep_forever(services),
        webhooks.deliver_forever(services.settings, services.sessionmaker, services.clock, services.units),
        check_nightly_forever(services),
        watch_inbox_forever(services),
    ]


class GraphQLEndpoint:
    """/graphql over HTTP and websocket: the view the lifespan made with the process's services."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["app"].state.graphql(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = default_clock,
    background: bool = True,
) -> Starlette:
    settings = settings or Settings.from_env()
    share_the_interpreter()  # long documents parse in a thread (app.schema.parsing)
    schema = build_schema(
        introspection=settings.introspection,
        parser_cache_bytes=settings.parser_cache_bytes,
        max_tokens=settings.document_tokens,
        off_loop_characters=settings.parse_off_loop_characters,
    )
    redact_feed_secrets()  # calendar feed URLs carry their secret in the query string
    keep_queries_out_of_the_access_log()  # a GET's document and variables can name a patient

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, clock=clock, serving=True) as services:
            app.state.services = services
            app.state.graphql = GraphQLView(schema, services)
            await services.live.start(SchemaRenderer(schema, services) if settings.live_build_once else None)
            tasks = [asyncio.create_task(loop) for loop in background_loops(services)] if background else []
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                await services.live.stop()

    async def healthz(request: Request) -> JSONResponse:
        try:
            await ping(request.app.state.services.engine)
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    middleware = []
    if settings.allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.allowed_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=list(CORS_REQUEST_HEADERS),
                expose_headers=list(CORS_EXPOSED_HEADERS),
                max_age=600,
            )
        )
    graphql = GraphQLEndpoint()
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        *CALENDAR_ROUTES,
        *DISPLAY_ROUTES,
        Mount(FHIR_PREFIX, fhir_router()),
    ]
    if settings.dev:  # the GraphiQL page (GraphQLView) and the files it loads
        routes.append(Mount(ASSETS_PATH, graphiql_assets()))
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def app_from_env() -> Starlette:
    """The app of the environment's settings: the factory `group-sessions serve --workers N` names."""
    return create_app(Settings.from_env())
