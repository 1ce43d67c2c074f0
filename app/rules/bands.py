"""Group-size band tables: shape checks when a table is set."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

BandSpec = tuple[int, int, str, list[str], Decimal]
MAX_RATE = Decimal("100000000")  # rates and charge amounts are NUMERIC(10, 2)


def band_table_problems(bands: Sequence[BandSpec]) -> list[str]:
    """Why a payer+state band table cannot be stored: inverted, overlapping or malformed bands."""
    problems: list[str] = []
    for lo, hi, code, modifiers, rate in bands:
        if lo < 1:
            problems.append(f"band {lo}-{hi}: minSize must be at least 1")
        if hi < lo:
            problems.append(f"band {lo}-{hi}: maxSize is below minSize")
        if not code or len(code) > 10 or not code.isalnum():
            problems.append(f"band {lo}-{hi}: procedureCode must be 1-10 letters or digits")
        if any(len(m) != 2 or not m.isalnum() for m in modifiers) or len(modifiers) > 4:
            problems.append(f"band {lo}-{hi}: modifiers are up to four 2-character codes")
        if not rate.is_finite() or rate < 0:
            problems.append(f"band {lo}-{hi}: rate must be a non-negative amount")
        elif rate >= MAX_RATE:
            problems.append(f"band {lo}-{hi}: rate must be less than {MAX_RATE:,}")
        elif rate != rate.quantize(Decimal("0.01")):
            problems.append(f"band {lo}-{hi}: rate has more than two decimal places")
    ordered = sorted((lo, hi) for lo, hi, *_ in bands)
    for (lo1, hi1), (lo2, hi2) in zip(ordered, ordered[1:], strict=False):
        if lo2 <= hi1:
            problems.append(f"bands {lo1}-{hi1} and {lo2}-{hi2} overlap")
    return problems
