"""The ASGI application: lifespan (database, migrations, background work) and routes."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute

from app.clock import Clock, clock as default_clock
from app.config import Settings
from app.db.embedded import EmbeddedPostgres
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.events import relay
from app.events.feed import FeedRunner
from app.graphiql import ASSETS_PATH, graphiql_assets
import app.events.registry  # noqa: F401 - registers the feed consumers
from app.resolvers.billing_pipeline import sweep_forever
from app.resolvers.live import start_live, stop_live
from app.schema.root import build_schema
from app.services import Services
from app.web import GraphQLView

log = logging.getLogger("app")

# Background loops (event relay, consumers, billing sweep) register here; each gets Services.
BackgroundTask = Callable[[Services], Awaitable[None]]
BACKGROUND_TASKS: list[BackgroundTask] = [sweep_forever]
# Hooks run once the services exist (e.g. wiring the broadcaster), before serving.
STARTUP_HOOKS: list[Callable[[Services], Awaitable[None]]] = [start_live]
SHUTDOWN_HOOKS: list[Callable[[Services], Awaitable[None]]] = [stop_live]
# The outbox relay runs on the broadcaster start_live connected, so it starts after it and stops before.
STARTUP_HOOKS.append(relay.start)
SHUTDOWN_HOOKS.insert(0, relay.stop)
BACKGROUND_TASKS.append(relay.run)

# What a browser client may send across origins: ours, and the tracing headers browsers' telemetry adds.
CORS_REQUEST_HEADERS = (
    "Authorization", "Content-Type", "Idempotency-Key",
    "X-Request-Id", "traceparent", "tracestate", "sentry-trace", "baggage",
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
        engine = make_engine(url, pool_size=settings.db_pool_size)
        services = Services(
            settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine), clock=clock
        )
        services.extras["database_url"] = url
        # Consumers of the event feed run after each commit in every entry point (server and CLI).
        services.extras["feed"] = FeedRunner(services)
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

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, clock=clock) as services:
            app.state.services = services
            app.state.graphql.services = services
            feed = services.extras["feed"]
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
            async with request.app.state.services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means unhealthy
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
