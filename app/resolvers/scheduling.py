"""Scheduling operations (built by issue #3)."""
from __future__ import annotations

from typing import Any

from app.errors import NotImplementedYet


def _not_yet(*_: Any, **__: Any) -> Any:
    raise NotImplementedYet("Not implemented yet: built by issue #3")


list_groups = get_group = get_occurrence = create_group = update_group = delete_group = _not_yet
add_occurrence = generate_occurrences = update_occurrence = cancel_occurrence = group_occurrences = _not_yet
