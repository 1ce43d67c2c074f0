"""The payer simulator: our 837P batches answered with a 999, a 277CA, an 835 and a later reversing 835, and our
270s with 271s, every file pyx12-clean and every 835 balanced; the policy decides, deterministically."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

import pytest

from app.payer_sim import DEFAULT_MIX, Outcome, Policy, answer_claims, answer_folder, answer_inquiries
from app.rules.edi.edi270 import EligibilityInquiry, render_270
from app.rules.edi.edi271 import CoverageStatus, read_271
from app.rules.edi.edi277 import read_277ca
from app.rules.edi.edi835 import balance_problems, read_835
from app.rules.edi.edi999 import read_999
from app.rules.edi.x12 import Envelope, Party, Person, read_interchange
from app.rules.edi837 import VOID
from tests.rules.edi_support import our_837p, service_line
from tests.support.x12 import pyx12_errors

TWO_LINES = (service_line("35.00"), service_line("20.00", "90853", ()))


@pytest.fixture(autouse=True)
def quiet_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="pyx12")


def every_file(answers) -> list[str]:
    return [
        t for t in (answers.acknowledgment, answers.claim_acknowledgment, answers.remittance, answers.reversal) if t
    ]


def assert_clean(answers) -> None:
    for text in every_file(answers):
        assert pyx12_errors(text) == []
    for text in (answers.remittance, answers.reversal):
        if text:
            assert all(balance_problems(r) == [] for r in read_835(text))


# (outcome, 277CA category:status:entity, CLP02, adjustments of the claim, remarks, paid, patient's share)
OUTCOMES = [
    (Outcome.PAID, "A2:20:PR", "1", ["CO-45", "PR-3", "CO-45"], [], "39", "5"),
    (Outcome.DENIED_NO_AUTHORIZATION, "A2:20:PR", "4", ["CO-197", "CO-197"], [], "0", "0"),
    (Outcome.DENIED_MISSING_INFORMATION, "A2:20:PR", "4", ["CO-16", "CO-16"], ["N290", "N290"], "0", "0"),
    (Outcome.DENIED_NOT_MEDICALLY_NECESSARY, "A2:20:PR", "4", ["CO-50", "CO-50"], [], "0", "0"),
    (Outcome.DENIED_COVERAGE_ENDED, "A2:20:PR", "4", ["CO-27", "CO-27"], [], "0", "0"),
    (Outcome.PAID_THEN_REVERSED, "A2:20:PR", "1", ["CO-45", "PR-3", "CO-45"], [], "39", "5"),
    (Outcome.REJECTED, "A7:164:IL", None, None, None, None, None),
]


@pytest.mark.parametrize(("outcome", "status", "clp02", "adjustments", "remarks", "paid", "share"), OUTCOMES)
def test_each_outcome_is_answered_as_a_payer_would(outcome, status, clp02, adjustments, remarks, paid, share):
    answers = answer_claims(our_837p(service_lines=TWO_LINES), Policy(outcomes={"GS000123": outcome}))
    assert answers.outcomes == {"GS000123": outcome}
    assert_clean(answers)
    (acknowledgment,) = read_999(answers.acknowledgment)
    assert acknowledgment.code == "A" and acknowledgment.group_control_number == "1042"
    ((claim,),) = [a.claims for a in read_277ca(answers.claim_acknowledgment)]
    first = claim.statuses[0]
    assert f"{first.category}:{first.code}:{first.entity}" == status
    if clp02 is None:
        assert not claim.accepted and claim.payer_claim_number is None and answers.remittance is None
        return
    assert claim.accepted and claim.payer_claim_number == answers.payer_claim_numbers["GS000123"]
    ((payment,),) = [r.claims for r in read_835(answers.remittance)]
    assert payment.status == clp02 and payment.payer_claim_number == claim.payer_claim_number
    assert [a.code for a in payment.all_adjustments] == adjustments
    assert [r for s in payment.services for r in s.remarks] == remarks
    assert (payment.paid, payment.patient_responsibility) == (Decimal(paid), Decimal(share))
    assert (answers.reversal is not None) == (outcome is Outcome.PAID_THEN_REVERSED)


def test_a_reversal_comes_in_a_later_835_that_undoes_the_payment():
    answers = answer_claims(
        our_837p(service_lines=TWO_LINES), Policy(outcomes={"GS000123": Outcome.PAID_THEN_REVERSED})
    )
    (paid,), (later,) = read_835(answers.remittance), read_835(answers.reversal)
    assert later.paid_on > paid.paid_on and later.trace_number != paid.trace_number
    (reversal,) = later.claims
    original = paid.claims[0]
    assert reversal.reversal and reversal.payer_claim_number == original.payer_claim_number
    assert (reversal.charge, reversal.paid, reversal.patient_responsibility) == (
        -original.charge, -original.paid, -original.patient_responsibility
    )  # fmt: skip
    # Nothing else is paid then, so the payer carries the recovery forward and the 835 pays nothing.
    assert (later.handling, later.total_paid, later.method) == ("H", 0, "NON")
    (forward,) = later.provider_adjustments
    assert (forward.reason, forward.reference, forward.amount) == ("FB", original.payer_claim_number, -original.paid)


def test_a_deductible_member_owes_the_deductible_instead_of_the_copay():
    answers = answer_claims(
        our_837p(), Policy(outcomes={"GS000123": Outcome.PAID}, deductible_members=frozenset({"A12345678"}))
    )
    ((payment,),) = [r.claims for r in read_835(answers.remittance)]
    assert [a.code for a in payment.all_adjustments] == ["CO-45", "PR-1"]
    assert (payment.paid, payment.patient_responsibility) == (Decimal(8), Decimal(20))


# (case, the policy, the outcome the claim gets)
MEMBER_RULES = [
    ("an unknown member is rejected at the front door", Policy(unknown_members=frozenset({"A12345678"})), Outcome.REJECTED),
    ("an inactive member's claim is denied CO-27", Policy(inactive_members=frozenset({"A12345678"})), Outcome.DENIED_COVERAGE_ENDED),
    ("a rule for the claim wins over the member", Policy(outcomes={"GS000123": Outcome.PAID}, inactive_members=frozenset({"A12345678"})), Outcome.PAID),
]  # fmt: skip


@pytest.mark.parametrize(("case", "policy", "outcome"), MEMBER_RULES, ids=[c[0] for c in MEMBER_RULES])
def test_member_rules(case, policy, outcome):
    assert answer_claims(our_837p(), policy).outcomes == {"GS000123": outcome}


def test_without_rules_the_claims_follow_the_mix_and_the_seed_shifts_it():
    def outcomes(seed: int) -> list[Outcome]:
        return [
            answer_claims(our_837p(f"GS{n:06d}", 2000 + n), Policy(seed=seed), first_turn=n).outcomes[f"GS{n:06d}"]
            for n in range(12)
        ]

    assert outcomes(0) == list(DEFAULT_MIX)
    assert outcomes(1) == list(DEFAULT_MIX[1:] + DEFAULT_MIX[:1])
    mix = outcomes(0)
    assert mix.count(Outcome.PAID) > len(mix) / 2 and mix.count(Outcome.REJECTED) == 1
    assert mix.count(Outcome.PAID_THEN_REVERSED) == 1


def test_the_same_batch_gets_the_same_bytes():
    first, again = answer_claims(our_837p()), answer_claims(our_837p())
    assert every_file(first) == every_file(again)


def test_a_test_interchange_is_answered_in_test_mode():
    answers = answer_claims(our_837p(production=False))
    assert all(not read_interchange(t).production for t in every_file(answers))


def test_a_void_is_acknowledged_but_not_remitted():
    answers = answer_claims(
        our_837p(frequency_code=VOID, original_claim_number="25072000301001"),
        Policy(outcomes={"GS000123": Outcome.PAID}),
    )
    assert read_277ca(answers.claim_acknowledgment)[0].claims[0].accepted and answers.remittance is None


def test_a_batch_of_several_claims_is_answered_claim_by_claim():
    first, second = our_837p("GS000501").splitlines(), our_837p("GS000502").splitlines()
    renumbered = [line.replace("*0001~", "*0002~") if line.startswith("SE*") else line for line in second]
    renumbered = [line.replace("ST*837*0001", "ST*837*0002") for line in renumbered]
    batch = "\n".join([*first[:-2], *renumbered[2:-2], "GE*2*1042~", first[-1]]) + "\n"
    assert pyx12_errors(batch) == []
    policy = Policy(outcomes={"GS000501": Outcome.PAID, "GS000502": Outcome.REJECTED})
    answers = answer_claims(batch, policy)
    assert_clean(answers)
    (acknowledgment,) = read_999(answers.acknowledgment)
    assert [r.control_number for r in acknowledgment.responses] == ["0001", "0002"]
    (status,) = read_277ca(answers.claim_acknowledgment)
    assert [c.claim_number for c in status.accepted] == ["GS000501"]
    assert [c.claim_number for c in status.rejected] == ["GS000502"]
    assert [c.claim_number for r in read_835(answers.remittance) for c in r.claims] == ["GS000501"]


# ---------------------------------------------------------------- eligibility

CLINIC = Envelope("SUNRISEBH", "AHCCCS", 7001, datetime(2025, 3, 10, 9, 0), "", "")


def inquiry(member_id: str, number: int) -> EligibilityInquiry:
    return EligibilityInquiry(
        "ELIG0001", datetime(2025, 3, 10, 9, 0), Party("AHCCCS", "866004791"),
        Party("SUNRISE BEHAVIORAL HEALTH", "1234567893"), Person("DOE", "JANE", member_id), f"ELIG0001-{number}",
        "1861234567", date(2025, 3, 12), ("30", "MH", "AI"),
    )  # fmt: skip


def test_inquiries_are_answered_active_inactive_or_not_found_by_member():
    policy = Policy(inactive_members=frozenset({"B1"}), unknown_members=frozenset({"Z1"}), copay=Decimal(10))
    text = render_270(CLINIC, [inquiry("A1", 1), inquiry("B1", 2), inquiry("Z1", 3)])
    answer = answer_inquiries(text, policy)
    assert pyx12_errors(answer) == []
    found = {a.subscriber.member_id: a for a in read_271(answer) if a.subscriber}
    assert {m: a.status for m, a in found.items()} == {
        "A1": CoverageStatus.ACTIVE,
        "B1": CoverageStatus.INACTIVE,
        "Z1": CoverageStatus.UNKNOWN,
    }
    active = found["A1"]
    assert active.copay("MH") == Decimal(10) and active.copay("AI") == Decimal(10)
    assert active.coverage_period == (date(2025, 1, 1), date(2025, 12, 31)) and active.trace_numbers == ("ELIG0001-1",)
    assert found["B1"].coverage_period[1] == date(2025, 2, 28)
    assert [r.reason for r in found["Z1"].rejections] == ["75"]


# ---------------------------------------------------------------- the folder and the command


def fill_inbox(folder) -> None:
    folder.mkdir()
    for n in range(3):
        (folder / f"batch{n}.837").write_text(our_837p(f"GS{n:06d}", 3000 + n))
    (folder / "eligibility.270").write_text(render_270(CLINIC, [inquiry("A1", 1)]))
    (folder / "broken.837").write_text(our_837p().replace("SE*24*0001~", "SE*9*0001~"))


def test_a_folder_is_answered_file_by_file(tmp_path):
    fill_inbox(tmp_path / "in")
    report = answer_folder(tmp_path / "in", tmp_path / "out")
    names = sorted(p.name for p in report.written)
    assert names == [
        "batch0.277", "batch0.835", "batch0.999", "batch1.277", "batch1.835", "batch1.999", "batch2.277", "batch2.999",
        "eligibility.271",
    ]  # fmt: skip
    assert list(report.outcomes.values()) == list(DEFAULT_MIX[:3])
    (refused,) = report.refused.items()
    assert refused[0].name == "broken.837" and refused[1].startswith("SE (segment 26, line 26): SE01 says 9")
    assert all(pyx12_errors(p.read_text()) == [] for p in report.written)


def test_the_payer_sim_command_answers_a_folder_and_names_what_it_refused(tmp_path):
    fill_inbox(tmp_path / "in")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli_entry", "payer-sim", str(tmp_path / "in"), str(tmp_path / "out"), "--seed", "2"],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "claim GS000000: REJECTED" in done.stdout and f"wrote {tmp_path / 'out' / 'eligibility.271'}" in done.stdout
    assert "broken.837: SE (segment 26, line 26)" in done.stderr
    assert (tmp_path / "out" / "batch0.277").exists() and not (tmp_path / "out" / "batch0.835").exists()
