"""The ASGI application: lifespan (database, migrations, background work) and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute

from app.clock import Clock
from app.clock import clock as default_clock
from app.config import Settings
from app.db.embedded import EmbeddedPostgres
from app.db.engine import make_engine, make_sessionmaker, ping
from app.db.migrate import upgrade
from app.events import relay
from app.events.consumers import clinical_sessions
from app.events.feed import FeedRunner
from app.http.calendar import CALENDAR_ROUTES, redact_feed_secrets
from app.http.display import DISPLAY_ROUTES
from app.http.graphiql import ASSETS_PATH, graphiql_assets
from app.http.view import GraphQLView
from app.live.runtime import start_live, stop_live
from app.operations.billing_pipeline import sweep_forever
from app.operations.displays import PairingAttempts, RecentAttempts
from app.schema.live.cluster import cluster_renderer
from app.schema.root import build_schema
from app.services import Services

log = logging.getLogger("app")

# The outbox feed's consumers this process runs, in order.
CONSUMERS = (clinical_sessions.CONSUMER,)

Hook = Callable[[Services], Awaitable[None]]
# Run once the services exist, before serving. The outbox relay uses the broadcaster that
# start_live connects, so it starts after it and stops before it.
STARTUP_HOOKS: tuple[Hook, ...] = (start_live, relay.start)
SHUTDOWN_HOOKS: tuple[Hook, ...] = (relay.stop, stop_live)
# Background loops while serving: the billing sweep and the relay's safety-net timer (the feed
# runner's timer is started beside them).
BACKGROUND_TASKS: tuple[Hook, ...] = (sweep_forever, relay.run)

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
    settings: Settings, *, migrate: bool = True, clock: Clock = default_clock
) -> AsyncIterator[Services]:
    """Database (embedded when no DATABASE_URL), migrations, engine; stopped cleanly on exit."""
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
        services = Services(
            settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine), clock=clock, database_url=url
        )
        # Consumers of the event feed run after each commit in every entry point (server and CLI).
        services.feed = FeedRunner(services, CONSUMERS)
        services.pairing_attempts = PairingAttempts()
        services.code_requests = RecentAttempts()
        try:
            yield services
        finally:
            await engine.dispose()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = default_clock,
    background: bool = True,
) -> Starlette:
    settings = settings or Settings.from_env()
    schema = build_schema(introspection=settings.introspection)
    redact_feed_secrets()  # calendar feed URLs carry their secret in the query string

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, clock=clock) as services:
            app.state.services = services
            app.state.graphql.services = services
            services.live_render = cluster_renderer(schema, services)
            feed = services.feed
            for hook in STARTUP_HOOKS:
                await hook(services)
            tasks = []
            if background:
                tasks.append(asyncio.create_task(feed.run_forever()))
                tasks.extend(asyncio.create_task(run(services)) for run in BACKGROUND_TASKS)
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                for hook in SHUTDOWN_HOOKS:
                    await hook(services)

    graphql = GraphQLView(schema, services=None, settings=settings)  # services arrive with the lifespan

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
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        *CALENDAR_ROUTES,
        *DISPLAY_ROUTES,
    ]
    if graphql.graphql_ide:
        routes.append(Mount(ASSETS_PATH, graphiql_assets()))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.graphql = graphql
    return app


def app_from_env() -> Starlette:
    """The app of the environment's settings: the factory `group-sessions serve --workers N` names."""
    return create_app(Settings.from_env())
