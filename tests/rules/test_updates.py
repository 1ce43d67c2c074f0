"""The rows a live update names: (type name, key as text), the same after a trip through JSON."""

from __future__ import annotations

import json
import uuid

import pytest

from app.rules.updates import touched

ENTRY = uuid.UUID("6f1c1a52-0c1e-4a8e-9d1e-2b0c6c1f0a11")
STAFF = uuid.UUID("0b7e2f4d-91a3-4c55-8f0e-7d2a9c3b4e21")


@pytest.mark.parametrize(
    ("type_name", "key", "expected"),
    [
        ("RosterEntry", ENTRY, ("RosterEntry", str(ENTRY))),
        ("RosterEntry", str(ENTRY), ("RosterEntry", str(ENTRY))),
        ("SupervisorAttendance", f"{ENTRY}.{STAFF}", ("SupervisorAttendance", f"{ENTRY}.{STAFF}")),
    ],
)
def test_a_touched_row_is_its_type_and_key_as_text(type_name, key, expected):
    row = touched(type_name, key)
    assert row == expected
    assert tuple(json.loads(json.dumps([row]))[0]) == row
