"""The front end's checks (app/rules/edi837_frontend.py): each names its source (a 005010X222A1 loop and
segment, or a companion-guide edit) and finds what it is about, and nothing in a claim we would send."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

import pytest

from app.rules.edi837 import (
    REPLACEMENT,
    VOID,
    Address,
    BillingProvider,
    RenderingProvider,
    Submitter,
    SupervisingProvider,
    front_end_findings,
    parse_segments,
    rejections,
    render_837p,
    render_837p_batch,
)
from app.rules.edi837_frontend import CHECKS, GUIDE, Level
from tests.rules.edi_support import OTHER_VALID_NPI, VALID_NPI, our_claim, service_line
from tests.support.x12 import pyx12_errors

PAYER_ICN = "25071000123001"


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


def names(text: str) -> list[str]:
    return [f.check for f in front_end_findings(text)]


def test_every_check_names_its_source_the_guide_loop_and_segment_or_a_companion_guide_edit():
    assert len({c.name for c in CHECKS}) == len(CHECKS)
    for each in CHECKS:
        assert each.source.startswith((f"{GUIDE} 2", "Companion-guide edit: ")), each.name


def test_a_claim_we_send_has_no_finding_at_all():
    text = render_837p(our_claim())
    assert front_end_findings(text) == [] and pyx12_errors(text) == []


def tampered(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


ORIGINAL = render_837p(our_claim())
# (check, the file, level): each check finds its case, and pyx12 alone lets most of them through.
CASES = [
    (
        "BILLING_PROVIDER_ZIP_PLUS_FOUR",
        render_837p(
            our_claim(
                billing_provider=BillingProvider(
                    "Sunrise", VALID_NPI, "861234567", Address("1 Main", "Mesa", "AZ", "85201")
                )
            )
        ),
        Level.REJECT,
    ),
    ("BILLING_PROVIDER_STREET_ADDRESS", tampered(ORIGINAL, "N3*100 N CENTRAL AVE~", "N3*PO BOX 1200~"), Level.REJECT),
    ("BILLING_PROVIDER_EIN", tampered(ORIGINAL, "REF*EI*861234567~", "REF*EI*86123~"), Level.REJECT),
    (
        "PROVIDER_TAXONOMY_FORM",
        render_837p(our_claim(rendering_provider=RenderingProvider("Smith", "Ann", OTHER_VALID_NPI, "LCSW"))),
        Level.REJECT,
    ),
    ("RENDERING_PROVIDER_REQUIRED", render_837p(our_claim(rendering_provider=None)), Level.REJECT),
    ("RENDERING_PROVIDER_PERSON", tampered(ORIGINAL, "NM1*82*1*SMITH*ANN", "NM1*82*2*SMITH*ANN"), Level.REJECT),
    (
        "SUPERVISING_PROVIDER_PERSON",
        render_837p(our_claim(supervising_provider=SupervisingProvider("Smith", "Ann", OTHER_VALID_NPI))),
        Level.REJECT,
    ),
    (
        "SUBSCRIBER_ADDRESS_REQUIRED",
        render_837p(our_claim(subscriber=replace(our_claim().subscriber, address=None))),
        Level.REJECT,
    ),
    ("SUBSCRIBER_DEMOGRAPHICS_REQUIRED", tampered(ORIGINAL, "DMG*D8*19800501*F~\n", ""), Level.REJECT),
    (
        "SUBSCRIBER_FIRST_NAME",
        render_837p(our_claim(subscriber=replace(our_claim().subscriber, first_name=""))),
        Level.WARN,
    ),
    ("CLAIM_FILING_INDICATOR", render_837p(our_claim(claim_filing_indicator="XX")), Level.REJECT),
    (
        "PAYER_CLAIM_CONTROL_NUMBER",
        render_837p(our_claim("GS000124", frequency_code=VOID, original_claim_number="GS000123")),
        Level.REJECT,
    ),
    (
        "DUPLICATE_PATIENT_CONTROL_NUMBER",
        render_837p_batch([our_claim("GS000501"), our_claim("GS000501")]),
        Level.REJECT,
    ),
    ("ICD10CM_BILLABLE", render_837p(our_claim(diagnosis_codes=("F32",))), Level.REJECT),
    ("DUPLICATE_DIAGNOSIS", render_837p(our_claim(diagnosis_codes=("F33.1", "F33.1"))), Level.WARN),
    (
        "SERVICE_DATE_NOT_FUTURE",
        render_837p(our_claim(service_lines=(replace(service_line(), service_date=date(2025, 3, 20)),))),
        Level.REJECT,
    ),
    (
        "BIRTH_BEFORE_SERVICE",
        render_837p(our_claim(subscriber=replace(our_claim().subscriber, date_of_birth=date(2025, 3, 13)))),
        Level.REJECT,
    ),
    ("SERVICE_UNITS", tampered(ORIGINAL, "SV1*HC:90853:HQ*35*UN*1", "SV1*HC:90853:HQ*35*UN*0"), Level.REJECT),
    (
        "SUBMITTER_ID_NOT_TAX_ID",
        render_837p(our_claim(submitter=Submitter("861234567", "Sunrise", "Billing", "6025550100"))),
        Level.WARN,
    ),
]


def test_every_check_has_a_case():
    assert {name for name, *_ in CASES} == {c.name for c in CHECKS}


@pytest.mark.parametrize(("check", "text", "level"), CASES, ids=[c[0] for c in CASES])
def test_each_check_finds_its_case(check, text, level):
    found = [f for f in front_end_findings(text) if f.check == check]
    assert found and all(f.level == level for f in found), front_end_findings(text)
    assert (check in {f.check for f in rejections(text)}) == (level == Level.REJECT)


@pytest.mark.parametrize(
    "code", ["F32", "F10.2", "F99.999", "F331X"], ids=["category", "subcategory", "no-such-code", "bad-extension"]
)
def test_2300_hi_only_billable_icd10cm_codes(code):
    """005010X222A1 2300 HI01-2: ICD-10-CM (code source 897); a category (F32) or subcategory (F10.2) with
    codes below it is not billable, nor is a code of no release (F99.999)."""
    text = render_837p(our_claim(diagnosis_codes=(code,)))
    assert "ICD10CM_BILLABLE" in [f.check for f in rejections(text)]


# ---------------------------------------------------------------- corrections, the batch


def test_2300_ref_f8_on_a_replacement_carries_the_payers_claim_number():
    text = render_837p(our_claim("GS000124", frequency_code=REPLACEMENT, original_claim_number=PAYER_ICN))
    assert [s for s in parse_segments(text) if s[0] == "REF" and s[1] == "F8"] == [["REF", "F8", PAYER_ICN]]
    assert front_end_findings(text) == [] and pyx12_errors(text) == []


def test_a_daily_batch_is_one_interchange_with_a_2000b_per_claim_under_each_billing_providers_2000a():
    other_site = BillingProvider(
        "Sunrise West", OTHER_VALID_NPI, "861234567", Address("9 W Grand Ave", "Phoenix", "AZ", "85007-2211")
    )
    claims = [our_claim("GS000601"), our_claim("GS000602"), our_claim("GS000603", billing_provider=other_site)]
    text = render_837p_batch(claims, reference="B20250312")
    segments = parse_segments(text)
    tags = [s[0] for s in segments]
    assert (tags.count("ISA"), tags.count("GS"), tags.count("ST"), tags.count("CLM")) == (1, 1, 1, 3)
    hls = [s[1:5] for s in segments if s[0] == "HL"]
    assert hls == [
        ["1", "", "20", "1"],
        ["2", "1", "22", "0"],
        ["3", "1", "22", "0"],
        ["4", "", "20", "1"],
        ["5", "4", "22", "0"],
    ]
    assert next(s for s in segments if s[0] == "BHT")[3] == "B20250312"
    assert front_end_findings(text) == [] and pyx12_errors(text) == []


def test_a_batch_goes_to_one_receiver():
    with pytest.raises(ValueError, match="one receiver"):
        render_837p_batch([our_claim(), our_claim("GS2", receiver=replace(our_claim().receiver, id="OTHER"))])
