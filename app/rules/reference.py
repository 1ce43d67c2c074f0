"""Checks on reference data: NPI check digit, state codes, time zones, text fields."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class StaffAssignmentRole(StrEnum):
    SUPERVISING = "SUPERVISING"
    RENDERING = "RENDERING"


# X12's delimiters as the 837P renderer uses them (segment, element, component, repetition).
X12_DELIMITERS = "~*:^"

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split()
)


def npi_is_valid(npi: str) -> bool:
    """Luhn check over the NPI with the 80840 prefix (CMS NPI check-digit rule)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def state_problem(state: str) -> str | None:
    if state not in US_STATES:
        return f"state must be a two-letter US state code, got {state[:10]!r}"
    return None


# IANA names that are a place ("America/Phoenix"); the others are fixed offsets or legacy rules
# ("Etc/GMT+7", "EST5EDT", "MST") or no zone at all ("Factory"), which a clinic's clock never follows.
GEOGRAPHIC_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


def timezone_problem(name: str, known_zones: frozenset[str]) -> str | None:
    """`known_zones` is the IANA names the caller loaded (tzdata); "localtime" is never one of them:
    it is the host's own zone file, whose meaning moves with the server. UTC is allowed as itself."""
    area = name.partition("/")[0]
    if name not in known_zones or (name != "UTC" and area not in GEOGRAPHIC_AREAS):
        return f"timezone must be an IANA time zone name of a place (such as America/Phoenix), got {name[:64]!r}"
    return None


def text_problem(field: str, value: str, max_length: int = 200) -> str | None:
    if not value.strip():
        return f"{field} must not be empty"
    if len(value) > max_length:
        return f"{field} must be at most {max_length} characters"
    return None


def control_problem(field: str, value: str | None) -> str | None:
    """Control characters (BEL, ESC, DEL, C1 codes, line breaks) have no place in text a claim carries."""
    if value and any(unicodedata.category(c) == "Cc" for c in value):
        return f"{field} must not contain a control character"
    return None


# Format characters that join letters in Arabic, Persian and Indic names (ZWNJ, ZWJ): kept.
JOINERS = frozenset({"\u200c", "\u200d"})


def invisible_problem(field: str, value: str | None) -> str | None:
    """Invisible characters that change how a name reads or lines up: direction overrides and
    isolates (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C), zero-width spaces and byte order marks
    (U+200B, U+FEFF), line and paragraph separators (U+2028, U+2029). A name with U+202E shows its
    letters backwards on a roster, a wall display or a claim."""
    for c in value or "":
        category = unicodedata.category(c)
        if (category == "Cf" and c not in JOINERS) or category in ("Zl", "Zp"):
            return f"{field} must not contain invisible formatting characters (such as U+{ord(c):04X})"
    return None


def name_problem(field: str, value: str, max_length: int = 200) -> str | None:
    """A person's or organisation's name: text with at least one letter (zero-width characters,
    emoji, digits or punctuation alone render an empty name on a claim), no control character and
    no invisible formatting character."""
    problem = text_problem(field, value, max_length) or control_problem(field, value)
    if problem:
        return problem
    if not any(unicodedata.category(c).startswith("L") for c in value):
        return f"{field} must contain at least one letter"
    return invisible_problem(field, value)


def identifier_problem(field: str, value: str | None, max_length: int = 80) -> str | None:
    """An identifier sent to payers (member id, MRN, payer code, tax id, postal code): X12 delimiters
    in it would be rewritten in the 837P into another identifier, so they are refused here."""
    if value is None:
        return None
    problem = text_problem(field, value, max_length) or control_problem(field, value)
    if problem:
        return problem
    if any(c in X12_DELIMITERS for c in value):
        return f"{field} must not contain the claim file's delimiters ~ * : ^"
    return None


# SBR09, the claim filing indicator: 005010X222A1 2000B SBR09's code list.
CLAIM_FILING_INDICATORS = {
    "11": "Other non-federal programs",
    "12": "Preferred provider organization (PPO)",
    "13": "Point of service (POS)",
    "14": "Exclusive provider organization (EPO)",
    "15": "Indemnity insurance",
    "16": "Health maintenance organization (HMO) Medicare risk",
    "17": "Dental maintenance organization",
    "AM": "Automobile medical",
    "BL": "Blue Cross/Blue Shield",
    "CH": "Champus",
    "CI": "Commercial insurance",
    "DS": "Disability",
    "FI": "Federal employees program",
    "HM": "Health maintenance organization",
    "LM": "Liability medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other federal program",
    "TV": "Title V",
    "VA": "Veterans Affairs plan",
    "WC": "Workers' compensation health claim",
    "ZZ": "Mutually defined",
}
# A provider taxonomy code (NUCC, the guide's code source 682): ten characters, the last an X (101YM0800X).
TAXONOMY = re.compile(r"^\d{3}[0-9A-Z]{6}X$")
ZIP_PLUS_FOUR = re.compile(r"^\d{5}-?\d{4}$")
ZIP_CODE = re.compile(r"^\d{5}(-?\d{4})?$")
# ISA06/ISA08 are 15 characters of the basic character set; a clearinghouse's ids are letters and digits.
INTERCHANGE_ID = re.compile(r"^[A-Z0-9]{2,15}$")


def zip_plus_four_problem(field: str, value: str | None) -> str | None:
    """The billing provider's ZIP code (2010AA N403) must have all nine digits."""
    if value is not None and not ZIP_PLUS_FOUR.match(value.strip()):
        return f"{field} must be a nine-digit ZIP code (ZIP+4, like 85016-4312): the 837P's billing provider needs it"
    return None


def zip_code_problem(field: str, value: str | None) -> str | None:
    """A US ZIP code: five digits, or nine (ZIP+4); the subscriber's N403 (2010BA) takes either."""
    if value is not None and not ZIP_CODE.match(value.strip()):
        return f"{field} must be a ZIP code of five or nine digits (like 85016 or 85016-4312)"
    return None


def blank_problem(field: str, value: str | None) -> str | None:
    """A text given but empty: a blank street or city would read as an address to billing."""
    if value is not None and not value.strip():
        return f"{field} cannot be blank; give null to clear it"
    return None


def taxonomy_problem(field: str, value: str | None) -> str | None:
    if value is not None and not TAXONOMY.match(value.strip().upper()):
        return f"{field} must be a provider taxonomy code: ten characters ending in X (like 101YM0800X)"
    return None


def filing_indicator_problem(value: str | None) -> str | None:
    if value is not None and value not in CLAIM_FILING_INDICATORS:
        return "claimFilingIndicator must be one of " + ", ".join(sorted(CLAIM_FILING_INDICATORS))
    return None


TIMELY_FILING_DAYS = (1, 3650)


def timely_filing_problem(value: int | None) -> str | None:
    """A payer's timely-filing limit: days from the date of service (a payer's contract sets it: 90 days to a few
    years; 365 when nobody said)."""
    low, high = TIMELY_FILING_DAYS
    if value is not None and not low <= value <= high:
        return f"timelyFilingDays must be {low} to {high} days"
    return None


def interchange_id_problem(field: str, value: str | None) -> str | None:
    if value is not None and not INTERCHANGE_ID.match(value.strip().upper()):
        return f"{field} must be 2 to 15 letters or digits (the id the clearinghouse assigned)"
    return None
