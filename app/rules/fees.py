"""The facility's fee schedule: one price per procedure code and modifiers, what every charge is
billed at whoever pays; the payer's contracted rate (its band's rate) is what the facility expects
to be paid. Billing one price to every payer is how a clinic keeps a single chargemaster (and a
price below what a payer would allow leaves money on the table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from app.rules.bands import MAX_RATE

# Modifiers that say how the service was delivered, not what it was: they do not change its price.
DELIVERY_MODIFIERS = frozenset({"95", "93", "GT", "FQ", "FR"})
MAX_FEES = 500

FeeKey = tuple[str, tuple[str, ...]]
FeeSchedule = Mapping[FeeKey, Decimal]


def fee_key(procedure_code: str, modifiers: Sequence[str]) -> FeeKey:
    """Modifiers in a fixed order: HQ+U1 and U1+HQ are one price."""
    return procedure_code.upper(), tuple(sorted(m.upper() for m in modifiers))


def facility_fee(schedule: FeeSchedule, procedure_code: str, modifiers: Sequence[str]) -> Decimal | None:
    """The price of the code as billed: with its modifiers; else without the delivery modifiers
    (95, 93, ...); else the code's own price (no modifiers); None when the schedule has none."""
    service = [m for m in modifiers if m.upper() not in DELIVERY_MODIFIERS]
    for key in (fee_key(procedure_code, modifiers), fee_key(procedure_code, service), fee_key(procedure_code, ())):
        if key in schedule:
            return schedule[key]
    return None


def fee_schedule_problems(fees: Sequence[tuple[str, Sequence[str], Decimal]]) -> list[str]:
    """Why a schedule cannot be stored: a malformed code, modifiers or amount, or a price twice."""
    problems: list[str] = []
    if len(fees) > MAX_FEES:
        problems.append(f"a fee schedule lists at most {MAX_FEES} prices")
    seen: set[FeeKey] = set()
    for code, modifiers, amount in fees:
        label = ":".join([code, *modifiers])
        if not code or len(code) > 10 or not code.isalnum():
            problems.append(f"fee {label}: procedureCode must be 1-10 letters or digits")
        if any(len(m) != 2 or not m.isalnum() for m in modifiers) or len(modifiers) > 4:
            problems.append(f"fee {label}: modifiers are up to four 2-character codes")
        if not amount.is_finite() or amount < 0:
            problems.append(f"fee {label}: amount must be a non-negative amount")
        elif amount >= MAX_RATE:
            problems.append(f"fee {label}: amount must be less than {MAX_RATE:,}")
        elif amount != amount.quantize(Decimal("0.01")):
            problems.append(f"fee {label}: amount has more than two decimal places")
        key = fee_key(code, modifiers)
        if key in seen:
            problems.append(f"fee {label}: listed twice")
        seen.add(key)
    return problems
