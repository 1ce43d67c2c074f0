"""How the simulated payer decides: per claim (by our claim number) or, failing a rule, by the claim's turn in
a fixed mix; per member for eligibility. Everything is a value, so a test states the payer it wants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from app.rules.edi.x12 import Address, Party


class Outcome(str, Enum):
    PAID = "PAID"  # allowed at the contract rate (CO-45 the rest), the copay or deductible left to the patient
    REJECTED = "REJECTED"  # 277CA A7:164:IL, the member id: never adjudicated, never in an 835
    DENIED_NO_AUTHORIZATION = "DENIED_NO_AUTHORIZATION"  # CO-197
    DENIED_MISSING_INFORMATION = "DENIED_MISSING_INFORMATION"  # CO-16 with RARC N290
    DENIED_NOT_MEDICALLY_NECESSARY = "DENIED_NOT_MEDICALLY_NECESSARY"  # CO-50
    DENIED_COVERAGE_ENDED = "DENIED_COVERAGE_ENDED"  # CO-27: what an inactive member's claim gets
    PAID_THEN_REVERSED = "PAID_THEN_REVERSED"  # paid, then CLP02 22 in a later 835
    # paid below the contract (an old fee schedule applied): allowed `below_contract` of the contracted amount
    PAID_BELOW_CONTRACT = "PAID_BELOW_CONTRACT"


# The k-th claim a run sees, when no rule names it: mostly paid, one rejection, three kinds of denial and a
# reversal in every twelve.
DEFAULT_MIX: tuple[Outcome, ...] = (
    Outcome.PAID,
    Outcome.PAID,
    Outcome.REJECTED,
    Outcome.PAID,
    Outcome.DENIED_NO_AUTHORIZATION,
    Outcome.PAID,
    Outcome.DENIED_MISSING_INFORMATION,
    Outcome.PAID,
    Outcome.PAID_THEN_REVERSED,
    Outcome.PAID,
    Outcome.DENIED_NOT_MEDICALLY_NECESSARY,
    Outcome.PAID,
)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Policy:
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)  # by CLM01
    seed: int = 0  # shifts where in the mix a run starts
    mix: tuple[Outcome, ...] = DEFAULT_MIX
    contract_rate: Decimal = Decimal("0.80")  # the share of the charge allowed on a line the contract has no rate for
    # The contracted allowed amount per unit, by procedure code and modifiers ("90853:HQ") or by code alone ("90853"):
    # a line is allowed that (never more than its charge), CO-45 the rest. What the clinic expects to be paid.
    contract: Mapping[str, Decimal] = field(default_factory=dict)
    below_contract: Decimal = Decimal("0.90")  # the share of it a PAID_BELOW_CONTRACT claim is allowed
    copay: Decimal = Decimal("5.00")  # PR-3 per claim
    deductible: Decimal = Decimal("20.00")  # PR-1 per claim for the members below
    deductible_members: frozenset[str] = frozenset()
    inactive_members: frozenset[str] = frozenset()  # 271 EB*6; their claims are denied CO-27
    unknown_members: frozenset[str] = frozenset()  # 271 AAA 75; their claims are rejected at the front door
    payer: Party = Party("SIMULATED PAYER", "SIMPAYER1")
    payer_tax_id: str = "860000001"
    payer_address: Address = Address("1 PAYER PLAZA", "PHOENIX", "AZ", "85004")
    payer_phone: str = "8005550199"
    plan_name: str = "BEHAVIORAL HEALTH PLAN"
    insurance_type: str = "MC"  # EB04 of the 271: MC Medicaid

    def outcome(self, claim_number: str, member_id: str, turn: int) -> Outcome:
        if claim_number in self.outcomes:
            return self.outcomes[claim_number]
        if member_id in self.unknown_members:
            return Outcome.REJECTED
        if member_id in self.inactive_members:
            return Outcome.DENIED_COVERAGE_ENDED
        return self.mix[(turn + self.seed) % len(self.mix)]

    def allowed(
        self, charge: Decimal, procedure_code: str = "", modifiers: tuple[str, ...] = (), units: Decimal = Decimal(1)
    ) -> Decimal:
        """A line's allowed amount: the contracted rate times its units (at most its charge), or, with no rate for
        its code, `contract_rate` of its charge."""
        rate = self.contract.get(":".join((procedure_code, *modifiers)), self.contract.get(procedure_code))
        if rate is None:
            return (charge * self.contract_rate).quantize(CENT, ROUND_HALF_UP)
        return min(charge, (rate * units).quantize(CENT, ROUND_HALF_UP))
