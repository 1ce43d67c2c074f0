"""The 835 Health Care Claim Payment/Advice (005010X221A1): payment and trace, per claim (CLP) status, charge,
payment, patient responsibility and the payer's claim number, CAS adjustments at claim and line level with
their CARC, LQ*HE remarks, PLB provider adjustments, reversals (CLP02 22), and the guide's balancing."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.rules.edi.edi835 import Adjustment, ProviderAdjustment, balance_problems, read_835, render_835
from app.rules.edi.x12 import X12Error
from tests.rules.edi_support import envelope, fixture, with_line
from tests.support.x12 import pyx12_errors

PAID_AND_DENIED = fixture("835_paid_denied_interest.x12")
REVERSAL = fixture("835_reversal_and_correction.x12")


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


def claims(text: str = PAID_AND_DENIED):
    (remittance,) = read_835(text)
    return remittance.claims


@pytest.mark.parametrize("text", [PAID_AND_DENIED, REVERSAL], ids=["paid and denied", "reversal"])
def test_the_fixtures_are_pyx12_clean_and_balance(text):
    assert pyx12_errors(text) == []
    (remittance,) = read_835(text)
    assert balance_problems(remittance) == []


def test_the_payment_x221a1_section_3_example_eft():
    (remittance,) = read_835(PAID_AND_DENIED)
    assert (remittance.handling, remittance.total_paid, remittance.method) == ("C", Decimal("57.5"), "ACH")
    assert (remittance.trace_number, remittance.payer_trace_id) == ("12345", "1866004791")
    assert remittance.paid_on == date(2025, 4, 1) and remittance.production_date == date(2025, 3, 28)
    assert (remittance.payer.name, remittance.payer.id) == ("AHCCCS", "866004791")
    assert (remittance.payee.id, remittance.payee_tax_id, remittance.payer_phone) == (
        "1234567893",
        "861234567",
        "6024174000",
    )
    assert remittance.handling_text == "Payment Accompanies Remittance Advice"


# (claim, CLP02, charge, paid, patient's share, every adjustment as the office says it, remarks)
CLAIMS = [
    ("GS000401", "1", "70", "48", "8", ["CO-45", "PR-3", "CO-45", "PR-3"], ["N381"]),
    ("GS000402", "4", "35", "0", "0", ["CO-197"], []),
    ("GS000403", "4", "35", "0", "0", ["CO-16"], ["N290", "MA130"]),
    ("GS000404", "4", "35", "0", "0", ["CO-50"], []),
    ("GS000405", "1", "35", "8", "20", ["CO-45", "PR-1"], []),
]


@pytest.mark.parametrize(("number", "status", "charge", "paid", "share", "adjustments", "remarks"), CLAIMS)
def test_each_claim_payment(number, status, charge, paid, share, adjustments, remarks):
    claim = next(c for c in claims() if c.claim_number == number)
    assert claim.status == status and claim.charge == Decimal(charge) and claim.paid == Decimal(paid)
    assert claim.patient_responsibility == Decimal(share)
    assert [a.code for a in claim.all_adjustments] == adjustments
    assert [r for s in claim.services for r in s.remarks] == remarks
    assert claim.payer_claim_number.startswith("250720004010") and claim.filing_indicator == "MC"


def test_service_lines_carry_dates_allowed_amounts_and_adjustments():
    first = claims()[0]
    assert [s.service_dates for s in first.services] == [(date(2025, 3, 10),) * 2, (date(2025, 3, 12),) * 2]
    line = first.services[0]
    assert (line.procedure_code, line.modifiers, line.charge, line.paid, line.allowed) == (
        "90853", ("HQ",), 35, 24, 28
    )  # fmt: skip
    assert line.adjustments == (Adjustment("CO", "45", Decimal(7)), Adjustment("PR", "3", Decimal(4)))
    assert first.received_on == date(2025, 3, 12)


def test_a_claim_level_denial_without_lines():
    denied = claims()[3]
    assert denied.denied and denied.services == () and denied.statement_period == (date(2025, 3, 11),) * 2
    assert denied.adjustments == (Adjustment("CO", "50", Decimal(35)),)


ADJUSTMENT_TEXTS = [
    ("CO", "45", "Contractual Obligations", "Charge exceeds fee schedule/maximum allowable or contracted/legislated"),
    ("PR", "3", "Patient Responsibility", "Co-payment Amount."),
    ("PR", "1", "Patient Responsibility", "Deductible Amount."),
    ("CO", "197", "Contractual Obligations", "Precertification/authorization/notification/pre-treatment absent."),
    ("CO", "16", "Contractual Obligations", "Claim/service lacks information or has submission/billing error(s)."),
    ("CO", "50", "Contractual Obligations", "These are non-covered services because this is not deemed a 'medical"),
    ("OA", "23", "Other Adjustments", "The impact of prior payer(s) adjudication"),
    ("PI", "999", "Payor Initiated Reductions", "CARC 999 (not in this service's list"),
]


@pytest.mark.parametrize(("group", "reason", "group_text", "reason_text"), ADJUSTMENT_TEXTS)
def test_adjustments_read_as_text(group, reason, group_text, reason_text):
    adjustment = Adjustment(group, reason, Decimal(1))
    assert adjustment.group_text == group_text and adjustment.reason_text.startswith(reason_text)


def test_remarks_read_as_text():
    line = claims()[2].services[0]
    assert line.remark_texts == (
        "Missing/incomplete/invalid rendering provider primary identifier.",
        "Your claim contains incomplete and/or invalid information, and no appeal rights are afforded because the"
        " claim is unprocessable. Please submit a new claim with the complete/correct information.",
    )


def test_provider_level_interest_is_a_negative_plb():
    (remittance,) = read_835(PAID_AND_DENIED)
    assert remittance.provider_adjustments == (
        ProviderAdjustment("1234567893", date(2025, 12, 31), "L6", "GS000399", Decimal("-1.5")),
    )
    assert remittance.provider_adjustments[0].reason_text == "Interest Owed"


def test_a_reversal_and_its_correction_x221a1_section_1_10_2_8():
    reversal, correction = claims(REVERSAL)
    assert reversal.reversal and reversal.status_text == "Reversal of Previous Payment"
    assert (reversal.charge, reversal.paid, reversal.patient_responsibility) == (-35, -8, -20)
    assert [a.amount for a in reversal.all_adjustments] == [-7, -20]
    assert reversal.payer_claim_number == "25072000401005" and correction.payer_claim_number == "25121000401005"
    assert correction.claim_number == reversal.claim_number == "GS000405" and correction.paid == 18
    (recovery,) = read_835(REVERSAL)[0].provider_adjustments
    assert (recovery.reason, recovery.amount, recovery.reason_text) == ("WO", 5, "Overpayment Recovery")


def first_claim_with(**changes):
    (remittance,) = read_835(PAID_AND_DENIED)
    return replace(remittance, claims=(replace(remittance.claims[0], **changes), *remittance.claims[1:]))


# (case, the remittance changed, what the balance check says)
UNBALANCED = [
    ("a line paid more than its charge less adjustments", "services", "line 90853: charge 35 less adjustments"),
    ("a claim paid more than it adds up to", "paid", "claim GS000401: charge 70 less adjustments is 48, paid 49"),
    ("lines that do not add up to the claim", "charge", "the lines' charges do not add up"),
    ("a BPR that is not the sum of the claims", "total", "BPR02 57.5 is not"),
]


@pytest.mark.parametrize(("case", "change", "says"), UNBALANCED, ids=[c[0] for c in UNBALANCED])
def test_the_guides_balancing_catches_what_does_not_add_up(case, change, says):
    (remittance,) = read_835(PAID_AND_DENIED)
    first = remittance.claims[0]
    if change == "services":
        changed = first_claim_with(services=(replace(first.services[0], paid=Decimal(25)), first.services[1]))
    elif change == "paid":
        changed = first_claim_with(paid=Decimal(49))
    elif change == "charge":
        changed = first_claim_with(charge=Decimal(71))
    else:
        changed = replace(remittance, claims=remittance.claims[1:])
    assert any(says in problem for problem in balance_problems(changed))


@pytest.mark.parametrize("text", [PAID_AND_DENIED, REVERSAL], ids=["paid and denied", "reversal"])
def test_written_it_reads_back_the_same_and_pyx12_accepts_it(text):
    remittances = read_835(text)
    written = render_835(envelope(), remittances)
    assert pyx12_errors(written) == []
    assert read_835(written) == remittances


# (case, line replaced, new text, segment named, line named)
MALFORMED = [
    ("a CLP before the payee", 12, "CLP*GS000401*1*70*48*8*MC*1*11*1~", "CLP", 12),
    ("a CAS without its reason", 21, "CAS*CO**7~", "CAS", 21),
    ("an amount that is no number", 19, "SVC*HC:90853:HQ*35*2X4~", "SVC", 19),
    ("a claim without the patient", 16, "DTM*050*20250312~", "CLP", 15),
    ("a service line without its procedure", 19, "SVC*HC*35*24~", "SVC", 19),
    ("a BPR without its payment date", 4, "BPR*C*57.5*C*ACH*CCP*01*999999992*DA*123456*1866004791**01~", "BPR", 4),
]


@pytest.mark.parametrize(("case", "number", "new", "segment", "line"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_a_malformed_remittance_is_refused_naming_segment_and_line(case, number, new, segment, line):
    with pytest.raises(X12Error) as refused:
        read_835(with_line(PAID_AND_DENIED, number, new))
    assert (refused.value.details["segment"], refused.value.details["line"]) == (segment, line)
