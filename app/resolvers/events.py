"""Events operations (built by issue #3)."""
from __future__ import annotations

from typing import Any

from app.errors import NotImplementedYet


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #3")


list_events = _not_yet


async def session_updates(*_: Any, **__: Any):
    _not_yet()
    yield


async def group_updates(*_: Any, **__: Any):
    _not_yet()
    yield
