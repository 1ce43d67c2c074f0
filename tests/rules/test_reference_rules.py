"""Reference-data checks, pure: NPI check digits, states, time zone names."""

from __future__ import annotations

import pytest

from app.rules.reference import npi_is_valid, state_problem, timezone_problem

ZONES = frozenset({"America/Phoenix", "America/New_York", "localtime"})


@pytest.mark.parametrize(
    "npi, valid", [("1234567893", True), ("1234567890", False), ("123456789", False), ("12345678a3", False)]
)
def test_npi_check_digit(npi, valid):
    assert npi_is_valid(npi) is valid


@pytest.mark.parametrize("state, ok", [("AZ", True), ("az", False), ("ZZ", False), ("", False)])
def test_state_codes(state, ok):
    assert (state_problem(state) is None) is ok


@pytest.mark.parametrize("name, ok", [("America/Phoenix", True), ("Mars/Olympus", False), ("localtime", False)])
def test_time_zone_names(name, ok):
    assert (timezone_problem(name, ZONES) is None) is ok
