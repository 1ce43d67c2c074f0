"""Compliance operations (built by issue #3)."""
from __future__ import annotations

from typing import Any

from app.errors import NotImplementedYet


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #3")


group_compliance = _not_yet
