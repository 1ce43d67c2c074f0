"""The 837P renderer: every file passes pyx12 and our own checks; the checks catch what pyx12 misses."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from app.rules.edi837 import (
    COMMUNITY_MENTAL_HEALTH_CENTER,
    REPLACEMENT,
    TELEHEALTH_ELSEWHERE,
    TELEHEALTH_HOME,
    VOID,
    Address,
    BillingProvider,
    Claim837,
    PayerParty,
    Receiver,
    RenderingProvider,
    ServiceLine,
    Submitter,
    Subscriber,
    SupervisingProvider,
    edi_problems,
    parse_segments,
    render_837p,
    split_person_name,
    x12_amount,
)
from tests.support.x12 import node_x12_problems, pyx12_errors

VALID_NPI, OTHER_VALID_NPI, BAD_NPI = "1234567893", "1245319599", "1234567890"
PAYER_ICN = "25071000123001"  # the payer's claim control number (277CA REF*1K, 835 CLP07)
SESSION_DAY = date(2025, 3, 12)


def line(amount: str = "35.00", code: str = "90853", modifiers: tuple[str, ...] = ("HQ",)) -> ServiceLine:
    return ServiceLine(code, modifiers, Decimal(amount), 1, SESSION_DAY)


ORIGINAL_CLAIM = Claim837(
    interchange_control_number=1042,
    created_at=datetime(2025, 3, 12, 17, 5, 30),
    submitter=Submitter("SUNRISEBH", "Sunrise Behavioral Health", "Billing Office", "(602) 555-0100"),
    receiver=Receiver("AHCCCS", "Arizona Health Care Cost Containment System"),
    billing_provider=BillingProvider(
        "Sunrise Behavioral Health",
        VALID_NPI,
        "86-1234567",
        Address("100 N Central Ave", "Phoenix", "AZ", "85004-1234"),
        taxonomy="261QM0801X",
    ),
    subscriber=Subscriber(
        "Doe", "Jane", "A12345678", date(1980, 5, 1), "F", Address("1 Elm St", "Phoenix", "AZ", "85004")
    ),
    payer=PayerParty("AHCCCS", "866004791"),
    claim_number="GS000123",
    service_lines=(line(),),
    rendering_provider=RenderingProvider("Smith", "Ann", OTHER_VALID_NPI),
    diagnosis_codes=("F33.1",),
)
REPLACEMENT_CLAIM = replace(
    ORIGINAL_CLAIM,
    claim_number="GS000124",
    frequency_code=REPLACEMENT,
    original_claim_number=PAYER_ICN,
    service_lines=(line("30.00"),),
)
VOID_CLAIM = replace(ORIGINAL_CLAIM, claim_number="GS000125", frequency_code=VOID, original_claim_number=PAYER_ICN)


def segments_named(text: str, tag: str) -> list[list[str]]:
    return [s for s in parse_segments(text) if s[0] == tag]


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


# ---------------------------------------------------------------- rendered files are valid

VARIANTS = {
    "original": ORIGINAL_CLAIM,
    "replacement": REPLACEMENT_CLAIM,
    "void": VOID_CLAIM,
    "several-lines-four-modifiers": replace(
        ORIGINAL_CLAIM, service_lines=(line("35.00"), line("12.50", "H0005", ("HQ", "U1", "GT", "95")))
    ),
    "community-mental-health-center": replace(ORIGINAL_CLAIM, place_of_service=COMMUNITY_MENTAL_HEALTH_CENTER),
    # What a clearinghouse needs at the least: 2310B for an organization's claim, 2010BA N3/N4 for a
    # subscriber who is the patient; no taxonomy, no sex.
    "bare-minimum": replace(
        ORIGINAL_CLAIM,
        billing_provider=replace(ORIGINAL_CLAIM.billing_provider, taxonomy=None),
        subscriber=replace(ORIGINAL_CLAIM.subscriber, sex=None),
    ),
    "2310B-taxonomy-and-2310D-supervisor": replace(
        ORIGINAL_CLAIM,
        rendering_provider=RenderingProvider("Smith", "Ann", OTHER_VALID_NPI, taxonomy="101YM0800X"),
        supervising_provider=SupervisingProvider("Reyes", "Marta", VALID_NPI),
        claim_filing_indicator="MC",
    ),
    "delimiters-and-accents-in-names": replace(
        ORIGINAL_CLAIM,
        subscriber=replace(ORIGINAL_CLAIM.subscriber, last_name="Nuñez*O'Brien~", first_name="Zoë:Ann^"),
        payer=PayerParty("Mercy Care", "86052"),
        claim_filing_indicator="MC",
        diagnosis_codes=("F41.1",),
    ),
    "several-diagnoses-four-pointed-at": replace(
        ORIGINAL_CLAIM,
        diagnosis_codes=("F10.20", "F33.1", "F41.1", "Z63.0", "T74.11XA", "F43.10"),
        service_lines=(replace(line(), diagnosis_pointers=(1, 2, 3, 4)),),
    ),
    "two-lines-pointing-at-different-diagnoses": replace(
        ORIGINAL_CLAIM,
        diagnosis_codes=("F10.20", "F33.1"),
        service_lines=(
            replace(line(), diagnosis_pointers=(1,)),
            replace(line("12.50", "H0005"), diagnosis_pointers=(2, 1)),
        ),
    ),
    "test-interchange": replace(ORIGINAL_CLAIM, production=False, interchange_control_number=999999999),
    "telehealth-video-at-home": replace(
        ORIGINAL_CLAIM, place_of_service=TELEHEALTH_HOME, service_lines=(line(modifiers=("HQ", "95")),)
    ),
    "telehealth-video-elsewhere": replace(
        ORIGINAL_CLAIM, place_of_service=TELEHEALTH_ELSEWHERE, service_lines=(line(modifiers=("HQ", "95")),)
    ),
    "telehealth-audio-only": replace(
        ORIGINAL_CLAIM, place_of_service=TELEHEALTH_HOME, service_lines=(line(modifiers=("HQ", "93")),)
    ),
    "line-place-differs-from-claim": replace(
        ORIGINAL_CLAIM,
        service_lines=(line(), replace(line("12.50", modifiers=("95",)), place_of_service=TELEHEALTH_HOME)),
    ),
}


def test_a_second_independent_reader_node_x12_reads_every_variant():
    assert node_x12_problems([render_837p(claim) for claim in VARIANTS.values()]) == [[] for _ in VARIANTS]


@pytest.mark.parametrize("claim", VARIANTS.values(), ids=VARIANTS.keys())
def test_every_rendered_837p_passes_pyx12_and_our_checks(claim: Claim837) -> None:
    text = render_837p(claim)
    assert pyx12_errors(text) == []
    assert edi_problems(text) == []


@pytest.mark.parametrize(
    ("claim", "frequency", "f8"),
    [(ORIGINAL_CLAIM, "1", None), (REPLACEMENT_CLAIM, "7", PAYER_ICN), (VOID_CLAIM, "8", PAYER_ICN)],
    ids=["original", "replacement", "void"],
)
def test_frequency_and_original_reference_follow_the_claim(claim: Claim837, frequency: str, f8: str | None) -> None:
    text = render_837p(claim)
    (clm,) = segments_named(text, "CLM")
    assert clm[5] == f"11:B:{frequency}"
    assert [s[2] for s in segments_named(text, "REF") if s[1] == "F8"] == ([f8] if f8 else [])


def test_original_claim_number_is_ignored_on_an_original() -> None:
    text = render_837p(replace(ORIGINAL_CLAIM, original_claim_number="GS000001"))
    assert not [s for s in segments_named(text, "REF") if s[1] == "F8"]


def test_claim_total_is_the_sum_of_its_lines_in_x12_decimals() -> None:
    claim = replace(ORIGINAL_CLAIM, service_lines=(line("35.00"), line("12.50"), line("0.25")))
    text = render_837p(claim)
    assert segments_named(text, "CLM")[0][2] == "47.75"
    assert [s[2] for s in segments_named(text, "SV1")] == ["35", "12.5", "0.25"]
    assert [s[1] for s in segments_named(text, "LX")] == ["1", "2", "3"]


def test_service_line_carries_code_modifiers_units_and_date() -> None:
    text = render_837p(ORIGINAL_CLAIM)
    assert segments_named(text, "SV1") == [["SV1", "HC:90853:HQ", "35", "UN", "1", "", "", "1"]]
    assert segments_named(text, "DTP") == [["DTP", "472", "D8", "20250312"]]
    assert segments_named(text, "HI") == [["HI", "ABK:F331"]]


def test_isa_fields_are_fixed_width() -> None:
    isa = render_837p(ORIGINAL_CLAIM).split("~")[0]
    widths = [len(field) for field in isa.split("*")[1:]]
    assert widths == [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
    assert len(isa) + 1 == 106
    assert isa.split("*")[9:11] == ["250312", "1705"]
    assert isa.split("*")[13] == "000001042"


def test_envelope_counts_match_the_file() -> None:
    text = render_837p(replace(ORIGINAL_CLAIM, service_lines=(line(), line(), line())))
    segments = parse_segments(text)
    tags = [s[0] for s in segments]
    st, se = tags.index("ST"), tags.index("SE")
    assert segments[se][1:] == [str(se - st + 1), "0001"]
    assert segments_named(text, "GE") == [["GE", "1", "1042"]]
    assert segments_named(text, "IEA") == [["IEA", "1", "000001042"]]


def test_rendering_is_deterministic_and_uses_the_given_timestamp() -> None:
    assert render_837p(ORIGINAL_CLAIM) == render_837p(ORIGINAL_CLAIM)
    later = render_837p(replace(ORIGINAL_CLAIM, created_at=datetime(2026, 1, 2, 3, 4)))
    assert segments_named(later, "GS")[0][4:6] == ["20260102", "0304"]


def test_names_lose_delimiters_and_accents() -> None:
    text = render_837p(VARIANTS["delimiters-and-accents-in-names"])
    (member,) = [s for s in segments_named(text, "NM1") if s[1] == "IL"]
    assert member[3:5] == ["NUNEZ O'BRIEN", "ZOE ANN"]


@pytest.mark.parametrize(
    ("amount", "text"),
    [("35.00", "35"), ("62.50", "62.5"), ("0.25", "0.25"), ("100", "100"), ("1E+2", "100"), ("0", "0")],
)
def test_x12_amount_has_no_trailing_zeros_or_exponent(amount: str, text: str) -> None:
    assert x12_amount(Decimal(amount)) == text


@pytest.mark.parametrize(
    ("full", "parts"),
    [
        ("Jane Doe", ("Doe", "Jane")),
        ("Doe, Jane", ("Doe", "Jane")),
        ("Mary Ann Lee", ("Lee", "Mary Ann")),
        ("Cher", ("Cher", "")),
    ],
)
def test_split_person_name(full: str, parts: tuple[str, str]) -> None:
    assert split_person_name(full) == parts


# ---------------------------------------------------------------- what edi_problems catches


def tampered(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


ORIGINAL_TEXT = render_837p(ORIGINAL_CLAIM)
VOID_TEXT = render_837p(VOID_CLAIM)

BROKEN = {
    "wrong-total": (
        tampered(ORIGINAL_TEXT, "CLM*GS000123*35*", "CLM*GS000123*40*"),
        "CLM02 total 40 differs from the service lines' sum 35",
    ),
    "void-without-ref-f8": (render_837p(replace(VOID_CLAIM, original_claim_number=None)), "frequency 8 needs REF*F8"),
    "replacement-without-ref-f8": (
        tampered(render_837p(REPLACEMENT_CLAIM), f"REF*F8*{PAYER_ICN}~\n", ""),
        "frequency 7 needs REF*F8",
    ),
    "ref-f8-on-original": (
        tampered(ORIGINAL_TEXT, "HI*", "REF*F8*GS000001~\nHI*"),
        "REF*F8 belongs only on a replacement (7) or void (8)",
    ),
    "unknown-frequency": (
        render_837p(replace(ORIGINAL_CLAIM, frequency_code="9")),
        "CLM05-3 frequency must be 1, 7 or 8, got '9'",
    ),
    "bad-billing-npi": (
        render_837p(replace(ORIGINAL_CLAIM, billing_provider=replace(ORIGINAL_CLAIM.billing_provider, npi=BAD_NPI))),
        f"NM1*85: NPI '{BAD_NPI}' fails the check digit",
    ),
    "bad-rendering-npi": (
        render_837p(replace(ORIGINAL_CLAIM, rendering_provider=RenderingProvider("Smith", "Ann", "123456789"))),
        "NM1*82: NPI '123456789' fails the check digit",
    ),
    "wrong-se-count": (tampered(ORIGINAL_TEXT, "SE*25*", "SE*24*"), "SE01 says 24 segments; the transaction has 25"),
    "wrong-se-control": (tampered(ORIGINAL_TEXT, "SE*25*0001", "SE*25*0002"), "SE02 '0002' does not match ST02 '0001'"),
    "wrong-ge-count": (tampered(ORIGINAL_TEXT, "GE*1*", "GE*2*"), "GE01 says 2 transactions; the group has 1"),
    "wrong-iea-count": (tampered(ORIGINAL_TEXT, "IEA*1*", "IEA*3*"), "IEA01 says 3 groups; the interchange has 1"),
    "wrong-iea-control": (
        tampered(ORIGINAL_TEXT, "IEA*1*000001042", "IEA*1*000001043"),
        "IEA02 '000001043' does not match ISA13 '000001042'",
    ),
    "not-x12": ("hello", "not an X12 interchange"),
    "no-diagnosis": (render_837p(replace(ORIGINAL_CLAIM, diagnosis_codes=())), "no HI segment"),
    "pointer-past-the-diagnoses": (
        render_837p(replace(ORIGINAL_CLAIM, service_lines=(replace(line(), diagnosis_pointers=(1, 2)),))),
        "SV107 pointer '2' names no diagnosis",
    ),
    "audio-only-in-the-office": (
        render_837p(replace(ORIGINAL_CLAIM, service_lines=(replace(line(), modifiers=("HQ", "93")),))),
        "audio-only (93) needs a telehealth place of service (02 or 10), not 11",
    ),
    "unknown-place-of-service": (
        render_837p(replace(ORIGINAL_CLAIM, place_of_service="99")),
        "CLM05-1 place of service '99' is not one we bill",
    ),
}


def test_telehealth_place_of_service_in_clm05_and_sv105_only_where_the_line_differs() -> None:
    video = render_837p(
        replace(ORIGINAL_CLAIM, place_of_service=TELEHEALTH_HOME, service_lines=(line(modifiers=("HQ", "95")),))
    )
    assert segments_named(video, "CLM")[0][5] == "10:B:1"
    assert segments_named(video, "SV1")[0][1] == "HC:90853:HQ:95"
    assert segments_named(video, "SV1")[0][5] == ""
    mixed = render_837p(VARIANTS["line-place-differs-from-claim"])
    assert [s[5] for s in segments_named(mixed, "SV1")] == ["", "10"]


@pytest.mark.parametrize(("text", "problem"), BROKEN.values(), ids=BROKEN.keys())
def test_edi_problems_catches(text: str, problem: str) -> None:
    problems = edi_problems(text)
    assert any(problem in p for p in problems), problems


def test_the_rendered_original_has_25_segments_in_its_transaction() -> None:
    # Pins the fixture the SE tampering above relies on.
    assert segments_named(ORIGINAL_TEXT, "SE")[0][1] == "25"


def test_pyx12_lets_an_unknown_frequency_through_so_edi_problems_must_catch_it() -> None:
    text = BROKEN["unknown-frequency"][0]
    assert pyx12_errors(text) == []
    assert edi_problems(text)


def test_hi_lists_the_principal_then_other_diagnoses_and_sv107_points_at_them() -> None:
    claim = VARIANTS["several-diagnoses-four-pointed-at"]
    text = render_837p(claim)
    assert segments_named(text, "HI") == [
        ["HI", "ABK:F1020", "ABF:F331", "ABF:F411", "ABF:Z630", "ABF:T7411XA", "ABF:F4310"]
    ]
    assert segments_named(text, "SV1")[0][7] == "1:2:3:4"


def test_pyx12_helper_reports_errors() -> None:
    # Guards the helper itself: a validator that never fails would make the tests above meaningless.
    assert pyx12_errors(tampered(ORIGINAL_TEXT, "DMG*D8*19800501*F", "DMG*D8*19800501*Q"))
    assert pyx12_errors(tampered(ORIGINAL_TEXT, "HI*ABK:F331~\n", ""))
