"""Reference-data checks, pure: NPI check digits, states, time zone names."""

from __future__ import annotations

import pytest

from app.rules.reference import (
    filing_indicator_problem,
    interchange_id_problem,
    npi_is_valid,
    state_problem,
    taxonomy_problem,
    timely_filing_problem,
    timezone_problem,
    zip_plus_four_problem,
)

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


@pytest.mark.parametrize(
    ("value", "ok"),
    [("85016-4312", True), ("850164312", True), ("85016", False), ("85016-43", False), ("8501A-4312", False)],
)
def test_2010aa_n403_the_billing_provider_zip_needs_nine_digits(value, ok):
    assert (zip_plus_four_problem("postalCode", value) is None) == ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("85016", True),
        ("85016-4312", True),
        ("850164312", True),
        (" 85016 ", True),
        ("8501", False),
        ("85016-43", False),
        ("ABCDE", False),
        ("85016 4312", False),
    ],
)
def test_2010ba_n403_a_subscriber_zip_has_five_or_nine_digits(value, ok):
    from app.rules.reference import zip_code_problem

    assert (zip_code_problem("postalCode", value) is None) == ok


@pytest.mark.parametrize(("value", "ok"), [("1 Main St", True), (None, True), ("", False), ("   ", False)])
def test_an_address_line_given_is_not_blank(value, ok):
    from app.rules.reference import blank_problem

    assert (blank_problem("addressLine1", value) is None) == ok


@pytest.mark.parametrize(
    ("value", "ok"), [("101YM0800X", True), ("261QM0801X", True), ("LCSW", False), ("101YM0800", False)]
)
def test_prv03_a_taxonomy_code_is_ten_characters_ending_in_x(value, ok):
    assert (taxonomy_problem("taxonomy", value) is None) == ok


@pytest.mark.parametrize(
    ("value", "ok"), [(None, True), (1, True), (90, True), (3650, True), (0, False), (-5, False), (3651, False)]
)
def test_a_timely_filing_limit_is_1_to_3650_days(value, ok):
    assert (timely_filing_problem(value) is None) == ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("MC", True), ("MB", True), ("CI", True), ("BL", True), ("HM", True), ("XX", False), ("mc", False)],
)
def test_sbr09_claim_filing_indicators_of_the_guide(value, ok):
    assert (filing_indicator_problem(value) is None) == ok


@pytest.mark.parametrize(
    ("value", "ok"), [("SUB00417", True), ("AZAHCCCS", True), ("A*B", False), ("X", False), ("A" * 16, False)]
)
def test_isa06_isa08_clearinghouse_ids(value, ok):
    assert (interchange_id_problem("submitterId", value) is None) == ok
