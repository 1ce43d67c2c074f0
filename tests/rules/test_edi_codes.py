"""The code lists that turn the payer's codes into text hold real codes: each is in pyx12's copy of the X12
and CMS lists where pyx12 has one, and a code we do not know still reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from importlib.resources import files

import pytest

from app.rules.edi import codes
from app.rules.edi.carc import ADJUSTMENT_REASONS, adjustment_reason_text
from app.rules.edi.rarc import REMARKS, remark_text


@cache
def pyx12_code_lists() -> dict[str, set[str]]:
    root = ET.parse(str(files("pyx12") / "map" / "codes.xml")).getroot()
    return {c.findtext("id") or "": {code.text or "" for code in c.iter("code")} for c in root.iter("codeset")}


# (our list, pyx12's code set)
LISTS = [
    (REMARKS, "remark_code"),
    (codes.CLAIM_STATUS_CATEGORIES, "claim_status_cat"),
    (codes.CLAIM_STATUS_CODES, "claim_status"),
    (codes.SERVICE_TYPES, "service_type"),
    (codes.ENTITIES, "entity_id"),
]


@cache
def entity_codes_of_the_5010_maps() -> set[str]:
    """Entity Identifier Codes (element 98) the 5010 maps list inline, beside the shared entity_id list."""
    found = set(pyx12_code_lists()["entity_id"])
    for name in ("277.5010.X214.xml", "835.5010.X221.A1.xml", "837.5010.X222.A1.xml"):
        root = ET.parse(str(files("pyx12") / "map" / name)).getroot()
        for element in root.iter("element"):
            if element.findtext("data_ele") == "98":
                found |= {code.text or "" for code in element.iter("code")}
    return found


@pytest.mark.parametrize(("ours", "theirs"), LISTS, ids=[t for _, t in LISTS])
def test_every_code_we_describe_is_in_the_published_list(ours, theirs):
    known = entity_codes_of_the_5010_maps() if theirs == "entity_id" else pyx12_code_lists()[theirs]
    assert set(ours) - known == set()


def test_the_behavioral_health_service_types_are_described():
    assert codes.BEHAVIORAL_HEALTH_SERVICE_TYPES <= set(codes.SERVICE_TYPES)


def test_rejecting_and_accepting_categories_are_claim_status_categories():
    assert codes.REJECTING_CATEGORIES | codes.ACCEPTING_CATEGORIES <= set(codes.CLAIM_STATUS_CATEGORIES)


TEXTS = [
    (adjustment_reason_text, "45", "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee"),
    (adjustment_reason_text, "197", "Precertification/authorization/notification/pre-treatment absent."),
    (adjustment_reason_text, "ZZ9", "CARC ZZ9 (not in this service's list"),
    (remark_text, "N290", "Missing/incomplete/invalid rendering provider primary identifier."),
    (remark_text, "N9999", "RARC N9999 (not in this service's list"),
]


@pytest.mark.parametrize(("describe", "code", "text"), TEXTS)
def test_a_code_reads_as_its_text_or_says_it_is_unknown(describe, code, text):
    assert describe(code).startswith(text)


def test_the_carc_list_covers_cost_sharing_contract_and_the_common_denials():
    assert {"1", "2", "3", "45", "16", "18", "27", "29", "50", "96", "97", "197", "204", "B7"} <= set(
        ADJUSTMENT_REASONS
    )


def test_describe_falls_back_to_the_code():
    assert codes.describe(codes.CLAIM_PAYMENT_STATUSES, "22") == "Reversal of Previous Payment"
    assert codes.describe(codes.CLAIM_PAYMENT_STATUSES, "99") == "code 99"
