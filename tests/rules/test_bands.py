"""Band tables as a payer's administrator sets them (rules.md §8): shape checks, case by case."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.rules.bands import band_table_problems

OK = (1, 4, "90853", ["HQ"], Decimal("38.50"))


@pytest.mark.parametrize(
    ("bands", "problem"),
    [
        ([OK, (5, 8, "90853", ["HQ"], Decimal("31.25"))], None),
        ([OK, (10, 12, "90853", [], Decimal("26.00"))], None),  # a gap is allowed: the preview warns
        ([(0, 4, "90853", [], Decimal("1"))], "minSize must be at least 1"),
        ([(5, 4, "90853", [], Decimal("1"))], "maxSize is below minSize"),
        ([(1, 4, "", [], Decimal("1"))], "procedureCode must be 1-10 letters or digits"),
        ([(1, 4, "90853-1", [], Decimal("1"))], "procedureCode must be 1-10 letters or digits"),
        ([(1, 4, "90853", ["H"], Decimal("1"))], "modifiers are up to four 2-character codes"),
        ([(1, 4, "90853", ["HQ", "U1", "U2", "U3", "U4"], Decimal("1"))], "modifiers are up to four 2-character codes"),
        ([(1, 4, "90853", [], Decimal("-1"))], "rate must be a non-negative amount"),
        ([(1, 4, "90853", [], Decimal("NaN"))], "rate must be a non-negative amount"),
        ([(1, 4, "90853", [], Decimal("100000000"))], "rate must be less than 100,000,000"),
        ([(1, 4, "90853", [], Decimal("1.005"))], "rate has more than two decimal places"),
        ([OK, (4, 8, "90853", [], Decimal("1"))], "bands 1-4 and 4-8 overlap"),
    ],
)
def test_band_table_problems(bands, problem):
    problems = band_table_problems(bands)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
