"""The GraphiQL page and the files it loads, shipped inside the package and served by the app."""

from __future__ import annotations

from functools import cache

from starlette.staticfiles import StaticFiles

from app.http.assets import ASSETS

ASSETS_PATH = "/graphiql"  # the page at /graphql loads "graphiql/<file>"


@cache
def graphiql_page() -> str:
    return (ASSETS / "graphiql.html").read_text(encoding="utf-8")


def graphiql_assets() -> StaticFiles:
    return StaticFiles(directory=ASSETS / "graphiql")
