"""Shared pieces of the EDI rule tests: the fixtures folder, a fixed envelope, a file with one line changed, and
our own 837P as the service renders it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from app.rules.edi.x12 import Envelope
from app.rules.edi837 import (
    Address,
    BillingProvider,
    Claim837,
    PayerParty,
    Receiver,
    RenderingProvider,
    ServiceLine,
    Submitter,
    Subscriber,
    render_837p,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"
AT = datetime(2025, 3, 13, 8, 0)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def envelope(control_number: int = 5001, production: bool = True) -> Envelope:
    """The payer's answer to the clinic: the writers set the functional id and guide themselves."""
    return Envelope("AHCCCS", "SUNRISEBH", control_number, AT, "", "", production=production)


def with_line(text: str, number: int, new: str | None) -> str:
    """The file with its line `number` (1-based) replaced, or removed when `new` is None."""
    lines = text.splitlines()
    if new is None:
        del lines[number - 1]
    else:
        lines[number - 1] = new
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- our 837P, as the service renders it

VALID_NPI, OTHER_VALID_NPI = "1234567893", "1245319599"
SESSION_DAY = date(2025, 3, 12)


def service_line(amount: str = "35.00", code: str = "90853", modifiers: tuple[str, ...] = ("HQ",)) -> ServiceLine:
    return ServiceLine(code, modifiers, Decimal(amount), 1, SESSION_DAY)


def our_claim(number: str = "GS000123", control: int = 1042, **changes: object) -> Claim837:
    """A group-therapy claim as app/rules/edi837.py renders it, with `changes` made."""
    claim = Claim837(
        interchange_control_number=control,
        created_at=datetime(2025, 3, 12, 17, 5, 30),
        submitter=Submitter("SUNRISEBH", "Sunrise Behavioral Health", "Billing Office", "(602) 555-0100"),
        receiver=Receiver("AHCCCS", "Arizona Health Care Cost Containment System"),
        billing_provider=BillingProvider(
            "Sunrise Behavioral Health",
            VALID_NPI,
            "86-1234567",
            Address("100 N Central Ave", "Phoenix", "AZ", "85004-1234"),
        ),
        # 2010BA N3/N4: the subscriber is the patient, so the address is required.
        subscriber=Subscriber(
            "Doe", "Jane", "A12345678", date(1980, 5, 1), "F", Address("1 Elm St", "Phoenix", "AZ", "85004")
        ),
        payer=PayerParty("AHCCCS", "866004791"),
        claim_number=number,
        service_lines=(service_line(),),
        rendering_provider=RenderingProvider("Smith", "Ann", OTHER_VALID_NPI),
        diagnosis_codes=("F33.1",),
    )
    return replace(claim, **changes)


def our_837p(number: str = "GS000123", control: int = 1042, **changes: object) -> str:
    return render_837p(our_claim(number, control, **changes))
