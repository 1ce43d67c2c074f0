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


@pytest.mark.parametrize(
    "value, refused",
    [
        ("Ana Mendez", False),
        ("Ana\u202eztneM", True),  # RIGHT-TO-LEFT OVERRIDE
        ("Ana\u202aMendez", True),  # LEFT-TO-RIGHT EMBEDDING
        ("Ana \u2066Mendez\u2069", True),  # isolates
        ("Ana\u061c Mendez", True),  # ARABIC LETTER MARK
        ("Ana\u2028Mendez", True),  # LINE SEPARATOR
        ("Ana\u2029Mendez", True),  # PARAGRAPH SEPARATOR
        ("\ufeffAna", True),  # BYTE ORDER MARK
        ("Ana\u200bMendez", True),  # ZERO WIDTH SPACE
        ("Ana\u00adMendez", True),  # SOFT HYPHEN
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", False),  # ZWNJ in Persian
        ("\u0915\u094d\u200d\u0937", False),  # ZWJ in Devanagari
        ("Zoë O'Brien-Nuñez", False),
    ],
)
def test_names_refuse_invisible_formatting_characters(value, refused):
    from app.rules.reference import invisible_problem, name_problem

    assert (invisible_problem("name", value) is not None) is refused
    assert (name_problem("name", value) is not None) is refused
