"""pyx12's maps parsed once per process instead of at every file it reads.

pyx12 (pinned 4.0.0) builds each map it needs from its XML, with the code lists, every time it reads a
file: about 0.12 s for the 837P map, most of a claim's check. A built map is not changed by a reading
(the counts a reading keeps live in its walker's own counter since pyx12 4), so one built map serves
every file; a lock keeps two threads from building the same one twice. `tests/test_pyx12_maps.py`
holds the library to what this relies on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pyx12.map_if

_built: dict[tuple[str, str | None], Any] = {}
_lock = threading.Lock()
_load: Callable[..., Any] = pyx12.map_if.load_map_file


def load_map_once(map_file: str, param: Any, map_path: str | None = None) -> Any:
    """pyx12.map_if.load_map_file, built once per map file and folder (our readings use pyx12's default
    parameters, so the parameters do not change what is built)."""
    key = (map_file, map_path)
    with _lock:
        if key not in _built:
            _built[key] = _load(map_file, param, map_path)
        return _built[key]


pyx12.map_if.load_map_file = load_map_once
