"""The framework's ceiling: a bare Strawberry mutation doing one trivial UPDATE on the same stack
(starlette, Strawberry's ASGI view, SQLAlchemy async engine from app.db.engine, asyncpg), with
no auth, rules, audit, outbox or live updates. The write benchmark runs it side by side with
setAttendance; nothing here is part of the product schema.
"""

from __future__ import annotations

import contextlib
import os

import strawberry
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

from app.db.engine import make_engine, make_sessionmaker

ROWS = 256


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def touch(self, info: Info, id: int) -> int:
        sessionmaker = info.context["sessionmaker"]
        async with sessionmaker() as session, session.begin():
            return await session.scalar(
                text("UPDATE bench_ceiling SET n = n + 1 WHERE id = :id RETURNING n"), {"id": id}
            )


class CeilingView(GraphQL):
    def __init__(self, schema, holder: dict) -> None:
        super().__init__(schema, graphql_ide=None)
        self.holder = holder

    async def get_context(self, request, response):
        return {"request": request, "response": response, "sessionmaker": self.holder["sessionmaker"]}


def ceiling_app() -> Starlette:
    schema = strawberry.Schema(
        query=Query, mutation=Mutation, extensions=[ParserCache(maxsize=64), ValidationCache(maxsize=64)]
    )
    holder: dict = {}
    pool_size = int(os.environ.get("GS_DB_POOL_SIZE", "10"))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        engine = make_engine(os.environ["DATABASE_URL"], pool_size=pool_size)
        async with engine.begin() as conn:
            await conn.execute(
                text("CREATE TABLE IF NOT EXISTS bench_ceiling (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)")
            )
            await conn.execute(
                text("INSERT INTO bench_ceiling (id) SELECT g FROM generate_series(1, :rows) g ON CONFLICT DO NOTHING"),
                {"rows": ROWS},
            )
        holder["engine"], holder["sessionmaker"] = engine, make_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    view = CeilingView(schema, holder)
    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
