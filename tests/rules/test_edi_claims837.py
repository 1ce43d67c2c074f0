"""Our 837P batches read back into claims, as a payer (or the payer simulator) receives them: independent of
the renderer, so a change to it that a payer could not read fails here."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest

from app.rules.edi.claims837 import read_837p
from app.rules.edi.x12 import Person, X12Error
from app.rules.edi837 import REPLACEMENT, VOID
from tests.rules.edi_support import SESSION_DAY, our_837p, service_line, with_line
from tests.support.x12 import pyx12_errors


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


def test_a_claim_reads_back_with_its_member_payer_provider_and_lines():
    batch = read_837p(our_837p())
    assert (batch.submitter.id, batch.receiver.id, batch.reference) == ("SUNRISEBH", "AHCCCS", "GS000123")
    (claim,) = batch.claims
    assert (claim.claim_number, claim.charge, claim.place_of_service, claim.frequency) == ("GS000123", 35, "11", "1")
    assert claim.subscriber == Person("DOE", "JANE", "A12345678") and claim.date_of_birth == date(1980, 5, 1)
    assert (claim.payer.id, claim.billing_provider.id, claim.filing_indicator) == ("866004791", "1234567893", "CI")
    assert claim.diagnoses == ("F331",) and claim.service_dates == (SESSION_DAY, SESSION_DAY)
    (line,) = claim.lines
    assert (line.number, line.procedure_code, line.modifiers, line.charge, line.units) == (1, "90853", ("HQ",), 35, 1)
    assert claim.position == 18 and claim.transaction_control_number == "0001"


# (case, the claim's changes, frequency, REF*F8, charge)
CLAIMS = [
    ("an original", {}, "1", None, "35"),
    (
        "a replacement",
        {"frequency_code": REPLACEMENT, "original_claim_number": "25072000301001"},
        "7",
        "25072000301001",
        "35",
    ),
    ("a void", {"frequency_code": VOID, "original_claim_number": "25072000301001"}, "8", "25072000301001", "35"),
    ("two lines", {"service_lines": (service_line(), service_line("12.50", "H0005", ()))}, "1", None, "47.5"),
]


@pytest.mark.parametrize(("case", "changes", "frequency", "original", "charge"), CLAIMS, ids=[c[0] for c in CLAIMS])
def test_frequency_original_and_charge_read_back(case, changes, frequency, original, charge):
    (claim,) = read_837p(our_837p(**changes)).claims
    assert (claim.frequency, claim.original_claim_number, claim.charge) == (frequency, original, Decimal(charge))
    assert sum(line.charge for line in claim.lines) == claim.charge


def two_sets_in_one_group() -> str:
    """Two of our claims as two transaction sets of one group: a daily batch's shape."""
    first, second = our_837p("GS000501").splitlines(), our_837p("GS000502").splitlines()
    renumbered = [line.replace("*0001~", "*0002~") if line.startswith("SE*") else line for line in second]
    renumbered = [line.replace("ST*837*0001", "ST*837*0002") for line in renumbered]
    body = first[2:-2] + renumbered[2:-2]
    return "\n".join([*first[:2], *body, "GE*2*1042~", first[-1]]) + "\n"


def test_a_batch_of_several_transaction_sets_reads_every_claim():
    text = two_sets_in_one_group()
    assert pyx12_errors(text) == []
    batch = read_837p(text)
    assert [(c.claim_number, c.transaction_control_number) for c in batch.claims] == [
        ("GS000501", "0001"),
        ("GS000502", "0002"),
    ]


# (case, line replaced, new text or None, segment named, line named)
MALFORMED = [
    ("a claim before its subscriber", 14, "CLM*GS1*35***11:B:1*Y*A*Y*Y~", "CLM", 14),
    ("a service line without SV1", 24, "NTE*ADD*NOTE~", "LX", 23),
    ("a service line without its date", 25, "NTE*ADD*NOTE~", "SV1", 24),
    ("a claim without its frequency", 20, "CLM*GS000123*35***11*Y*A*Y*Y~", "CLM", 20),
    ("an unknown segment in the claim", 21, "ZZZ*1~", "ZZZ", 21),
]


@pytest.mark.parametrize(("case", "number", "new", "segment", "line"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_a_malformed_batch_is_refused_naming_segment_and_line(case, number, new, segment, line):
    with pytest.raises(X12Error) as refused:
        read_837p(with_line(our_837p(), number, new))
    assert (refused.value.details["segment"], refused.value.details["line"]) == (segment, line)
