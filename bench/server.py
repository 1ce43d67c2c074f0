"""A benchmark server process: uvicorn serving the real app (as `group-sessions serve` does) or
the bare "ceiling" app, plus a bench-only /_bench/metrics route.

    python -m bench.server --mode app|ceiling --port 8123

Settings come from the environment as for `serve`. GS_BENCH_CACHES=0 builds the schema without
Strawberry's ParserCache and ValidationCache (for the side-by-side read run). The metrics route
and the SQL statement counter exist only in this process, never in the product app.
"""

from __future__ import annotations

import argparse
import os
from functools import partial

from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

STATEMENTS = 0


def _count_statement(*_args) -> None:
    global STATEMENTS
    STATEMENTS += 1


def _metrics_route(extra) -> Route:
    async def metrics(request: Request) -> JSONResponse:
        return JSONResponse({"statements": STATEMENTS, "pid": os.getpid(), **extra(request)})

    return Route("/_bench/metrics", metrics)


def real_app():
    import app.main as main
    from app.config import Settings
    from app.http import socket_writes
    from app.schema.root import build_schema

    options = {}
    if os.environ.get("GS_BENCH_CACHES", "1") == "0":
        options["caches"] = False
    if os.environ.get("GS_BENCH_PLAIN_LEAVES", "1") == "0":  # every field the usual way, to compare
        options["plain_leaves"] = False
    if options:
        main.build_schema = partial(build_schema, **options)
    application = main.create_app(Settings.from_env())

    def extra(request: Request) -> dict:
        live = request.app.state.services.live
        cluster = live.publisher.cluster
        return {
            "previews": live.session_states.previews,
            # Changes read and executed here: by the hub for its watchers, and for the cluster
            # after a commit (GS_LIVE_BUILD_ONCE=1).
            "builds": live.hub.builds + (cluster.builds if cluster else 0),
            "forwarded": live.hub.forwarded,
            "shapes": live.shapes.count if live.shapes else 0,
            "watchers": live.hub.watcher_count,
            "encoded_payloads": request.app.state.graphql.payloads.encoded,
            "read_cache_hits": cache.hits if (cache := request.app.state.graphql.read_cache) else 0,
            "read_cache_misses": cache.misses if cache else 0,
            "coalesced_sockets": socket_writes.INSTALLED,
        }

    application.router.routes.append(_metrics_route(extra))
    return application


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("app", "ceiling"), default="app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    event.listen(Engine, "before_cursor_execute", _count_statement)
    if args.mode == "ceiling":
        from bench.ceiling import ceiling_app

        application = ceiling_app()
        application.router.routes.append(_metrics_route(lambda request: {}))
    else:
        application = real_app()
    # As `group-sessions serve` runs it (same websocket implementation), minus the access log.
    # GS_BENCH_WS_DEFLATE=0 turns off permessage-deflate (an experiment; `serve` keeps uvicorn's default, on).
    deflate = os.environ.get("GS_BENCH_WS_DEFLATE", "1") != "0"
    uvicorn.run(
        application,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
        ws_per_message_deflate=deflate,
    )


if __name__ == "__main__":
    main()
