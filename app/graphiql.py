"""The GraphiQL page and the files it loads, shipped inside the package and served by the app."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.staticfiles import StaticFiles

WEB_ASSETS = Path(__file__).resolve().parent / "web_assets"
ASSETS_PATH = "/graphiql"  # the page at /graphql loads "graphiql/<file>"


@cache
def graphiql_page() -> str:
    return (WEB_ASSETS / "graphiql.html").read_text(encoding="utf-8")


def graphiql_assets() -> StaticFiles:
    return StaticFiles(directory=WEB_ASSETS / "graphiql")
