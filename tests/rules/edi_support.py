"""Shared pieces of the EDI rule tests: the fixtures folder, a fixed envelope, and a file with one line changed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.rules.edi.x12 import Envelope

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"
AT = datetime(2025, 3, 13, 8, 0)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def envelope(control_number: int = 5001, production: bool = True) -> Envelope:
    """The payer's answer to the clinic: the writers set the functional id and guide themselves."""
    return Envelope("AHCCCS", "SUNRISEBH", control_number, AT, "", "", production=production)


def with_line(text: str, number: int, new: str | None) -> str:
    """The file with its line `number` (1-based) replaced, or removed when `new` is None."""
    lines = text.splitlines()
    if new is None:
        del lines[number - 1]
    else:
        lines[number - 1] = new
    return "\n".join(lines) + "\n"
