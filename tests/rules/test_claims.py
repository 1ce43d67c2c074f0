"""Correcting a billed session (rules.md §9, the attendance guide's force update), member by member."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.rules.billing import ChargeLine
from app.rules.claims import (
    ActiveCharge,
    Answer,
    ClaimFrequency,
    ClaimRecord,
    ClaimStatus,
    MemberCorrection,
    payer_held,
    plan_correction,
    rejected_by_payer,
    same_charge,
)

DAY = date(2026, 3, 10)
ORIGINAL, REPLACEMENT, VOID = ClaimFrequency
DRAFT, SUBMITTED, VOIDED, REPLACED = (
    ClaimStatus.DRAFT,
    ClaimStatus.SUBMITTED,
    ClaimStatus.VOIDED,
    ClaimStatus.REPLACED,
)


def line(amount: str = "31.25", payer: str = "ahcccs", modifiers: tuple[str, ...] = ("HQ",)) -> ChargeLine:
    return ChargeLine("entry", payer, "M1", DAY, "90853", modifiers, 1, Decimal(amount))


def charge(amount: str = "31.25", payer: str = "ahcccs", modifiers: tuple[str, ...] = ("HQ",)) -> ActiveCharge:
    return ActiveCharge("charge-1", payer, "90853", modifiers, Decimal(amount))


def claim(
    claim_id: str, status: ClaimStatus, frequency: ClaimFrequency = ORIGINAL, submitted: bool = False
) -> ClaimRecord:
    return ClaimRecord(claim_id, status, frequency, submitted)


SENT = claim("c1", SUBMITTED, submitted=True)

# (case, new line, standing charge, claim history, the correction expected)
CASES = [
    (
        "an unchanged member keeps charge and claim; the draft gets the new findings",
        line(),
        charge(),
        [claim("c1", DRAFT)],
        MemberCorrection("p", Answer.KEEP, revalidate_drafts=("c1",)),
    ),
    (
        "an unchanged member whose claim was sent keeps everything",
        line(),
        charge(),
        [SENT],
        MemberCorrection("p", Answer.KEEP),
    ),
    (
        "no longer billable, claim not sent: the charge and the draft are voided, nothing more",
        None,
        charge(),
        [claim("c1", DRAFT)],
        MemberCorrection("p", Answer.NONE, void_charge="charge-1", void_drafts=("c1",)),
    ),
    (
        "no longer billable, claim sent: a VOID of the sent claim",
        None,
        charge(),
        [SENT],
        MemberCorrection("p", Answer.VOID, void_charge="charge-1", corrects="c1"),
    ),
    (
        "another band (a changed count), claim not sent: a new ORIGINAL instead of the draft",
        line("38.50"),
        charge(),
        [claim("c1", DRAFT)],
        MemberCorrection("p", Answer.ORIGINAL, line=line("38.50"), void_charge="charge-1", void_drafts=("c1",)),
    ),
    (
        "another band, claim sent: a REPLACEMENT of the sent claim",
        line("38.50"),
        charge(),
        [SENT],
        MemberCorrection("p", Answer.REPLACEMENT, line=line("38.50"), void_charge="charge-1", corrects="c1"),
    ),
    (
        "other modifiers are another charge",
        line(modifiers=("HQ", "U1")),
        charge(),
        [SENT],
        MemberCorrection(
            "p", Answer.REPLACEMENT, line=line(modifiers=("HQ", "U1")), void_charge="charge-1", corrects="c1"
        ),
    ),
    (
        "another payer is another charge",
        line(payer="suncrest"),
        charge(),
        [claim("c1", DRAFT)],
        MemberCorrection(
            "p", Answer.ORIGINAL, line=line(payer="suncrest"), void_charge="charge-1", void_drafts=("c1",)
        ),
    ),
    (
        "newly billable (absent, now attended): a new ORIGINAL",
        line(),
        None,
        [],
        MemberCorrection("p", Answer.ORIGINAL, line=line()),
    ),
    (
        "a second correction before the first was sent replaces what the payer holds, not the draft",
        line("26.00"),
        ActiveCharge("charge-2", "ahcccs", "90853", ("HQ",), Decimal("38.50")),
        [claim("c1", REPLACED, submitted=True), claim("c2", DRAFT, REPLACEMENT)],
        MemberCorrection(
            "p", Answer.REPLACEMENT, line=line("26.00"), void_charge="charge-2", void_drafts=("c2",), corrects="c1"
        ),
    ),
    (
        "billable again before a VOID was sent: the unsent VOID is dropped and the sent claim replaced",
        line(),
        None,
        [claim("c1", VOIDED, submitted=True), claim("c2", DRAFT, VOID)],
        MemberCorrection("p", Answer.REPLACEMENT, line=line(), void_drafts=("c2",), corrects="c1"),
    ),
    (
        "billable again after the VOID was sent: the payer holds nothing, so a new ORIGINAL",
        line(),
        None,
        [claim("c1", VOIDED, submitted=True), claim("c2", SUBMITTED, VOID, submitted=True)],
        MemberCorrection("p", Answer.ORIGINAL, line=line()),
    ),
    (
        "never billable and never claimed: nothing to do",
        None,
        None,
        [claim("c1", VOIDED)],
        MemberCorrection("p", Answer.NONE),
    ),
]


@pytest.mark.parametrize(("case", "new_line", "standing", "history", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan_correction(case, new_line, standing, history, expected):
    lines = {"p": new_line} if new_line else {}
    active = {"p": standing} if standing else {}
    assert plan_correction(lines, active, {"p": history} if history else {}) == (expected,)


def test_each_member_is_planned_once_in_a_stable_order():
    plan = plan_correction({"b": line(), "c": line()}, {"a": charge(), "b": charge()}, {"a": [SENT]})
    assert [(c.patient, c.answer) for c in plan] == [("a", Answer.VOID), ("b", Answer.KEEP), ("c", Answer.ORIGINAL)]


@pytest.mark.parametrize(
    ("history", "held"),
    [
        ([], None),
        ([claim("c1", DRAFT)], None),
        ([SENT], "c1"),
        ([SENT, claim("c2", SUBMITTED, REPLACEMENT, submitted=True)], "c2"),
        ([claim("c1", VOIDED, submitted=True), claim("c2", SUBMITTED, VOID, submitted=True)], None),
        ([claim("c1", REPLACED, submitted=True), claim("c2", DRAFT, REPLACEMENT)], "c1"),
    ],
)
def test_the_payer_holds_the_last_sent_claim_unless_it_was_a_void(history, held):
    found = payer_held(history)
    assert (found.id if found else None) == held


@pytest.mark.parametrize(
    ("standing", "new", "same"),
    [
        (charge(), line(), True),
        (charge("31.25"), line("31.250"), True),
        (charge(), line("31.26"), False),
        (charge(payer="x"), line(), False),
        (charge(modifiers=()), line(), False),
    ],
)
def test_same_charge(standing, new, same):
    assert same_charge(standing, new) is same


# (case, new line, claims held, answer): the payer a claim went to decides between a replacement and a void
# plus a new original (a replacement goes only to the payer holding the claim it replaces).
PAYER_CASES = [
    ("same payer, new amount: a replacement", line("38.50"), ClaimRecord("c1", SUBMITTED, ORIGINAL, True, "ahcccs"), Answer.REPLACEMENT),
    ("payer changed: a void to the old payer and an original to the new", line(payer="suncrest"), ClaimRecord("c1", SUBMITTED, ORIGINAL, True, "ahcccs"), Answer.VOID_AND_ORIGINAL),
    ("payer changed, nothing sent: a plain original", line(payer="suncrest"), ClaimRecord("c1", DRAFT, ORIGINAL, False, "ahcccs"), Answer.ORIGINAL),
    ("payer unknown on the record: a replacement, as before", line(payer="suncrest"), ClaimRecord("c1", SUBMITTED, ORIGINAL, True), Answer.REPLACEMENT),
]  # fmt: skip


@pytest.mark.parametrize(("case", "new", "held", "answer"), PAYER_CASES, ids=[c[0] for c in PAYER_CASES])
def test_a_payer_change_after_submission_is_a_void_and_an_original(case, new, held, answer):
    (correction,) = plan_correction({"p": new}, {"p": charge()}, {"p": [held]})
    assert correction.answer == answer
    if answer == Answer.VOID_AND_ORIGINAL:
        assert (correction.corrects, correction.line, correction.void_charge) == ("c1", new, "charge-1")


@pytest.mark.parametrize(
    "history, expected",
    [
        # The payer holds the claim: a claim-level correction replaces it though the charge stands.
        (
            [SENT],
            MemberCorrection("p", Answer.REPLACEMENT, line=line(), void_charge="charge-1", corrects="c1"),
        ),
        # Nothing sent yet: the draft renders the corrected record when it is sent.
        ([claim("c1", DRAFT)], MemberCorrection("p", Answer.KEEP, revalidate_drafts=("c1",))),
    ],
)
def test_a_claim_level_correction_replaces_the_claim_the_payer_holds(history, expected):
    assert plan_correction({"p": line()}, {"p": charge()}, {"p": history}, frozenset({"p"})) == (expected,)
    # Without it, the same member keeps everything (nothing in the charge changed).
    assert plan_correction({"p": line()}, {"p": charge()}, {"p": history})[0].answer == Answer.KEEP


# ------------------------------------------------------------------ a claim the payer rejected at the front end

REJECTED = ClaimStatus.REJECTED


def rejected(claim_id: str, frequency: ClaimFrequency = ORIGINAL, status: ClaimStatus = REJECTED) -> ClaimRecord:
    return ClaimRecord(claim_id, status, frequency, True, rejected=True)


# (case, new line, standing charge, claim history, claim-level correction, the correction expected). A claim a
# 999 (005010X231A1 IK5 R) or a 277CA (005010X214 STC01 A3/A6/A7/A8) rejected was never adjudicated: the payer
# holds nothing of it, so its correction is a new ORIGINAL (837P 005010X222A1 CLM05-3 1, no REF*F8).
REJECTED_CASES = [
    (
        "a rejected original corrected at claim level: a new ORIGINAL, the rejection answered",
        line(), charge(), [rejected("c1")], True,
        MemberCorrection("p", Answer.ORIGINAL, line=line(), void_charge="charge-1", answers_rejected=("c1",)),
    ),
    (
        "a rejected original after attendance changed the band: a new ORIGINAL",
        line("38.50"), charge(), [rejected("c1")], False,
        MemberCorrection("p", Answer.ORIGINAL, line=line("38.50"), void_charge="charge-1", answers_rejected=("c1",)),
    ),
    (
        "a rejected original, the member no longer billable: nothing to void, the rejection withdrawn",
        None, charge(), [rejected("c1")], False,
        MemberCorrection("p", Answer.NONE, void_charge="charge-1", answers_rejected=("c1",)),
    ),
    (
        "a rejected original, nothing changed: kept, still in the rejected queue",
        line(), charge(), [rejected("c1")], False,
        MemberCorrection("p", Answer.KEEP),
    ),
    (
        "a rejected replacement: the payer still holds the claim it was to replace, which is replaced again",
        line(), charge(), [claim("c1", REPLACED, submitted=True), rejected("c2", REPLACEMENT)], True,
        MemberCorrection(
            "p", Answer.REPLACEMENT, line=line(), void_charge="charge-1", corrects="c1", answers_rejected=("c2",)
        ),
    ),
    (
        "a rejected original corrected once already (REPLACED by the draft ORIGINAL): the draft is redone",
        line(), charge(), [rejected("c1", status=REPLACED), claim("c2", DRAFT)], True,
        MemberCorrection("p", Answer.KEEP, revalidate_drafts=("c2",)),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "new_line", "standing", "history", "claim_level", "expected"),
    REJECTED_CASES,
    ids=[c[0] for c in REJECTED_CASES],
)
def test_a_claim_the_payer_rejected_is_corrected_as_a_new_claim(
    case, new_line, standing, history, claim_level, expected
):
    lines = {"p": new_line} if new_line else {}
    resubmit = frozenset({"p"}) if claim_level else frozenset()
    assert plan_correction(lines, {"p": standing}, {"p": history}, resubmit) == (expected,)


@pytest.mark.parametrize(
    ("history", "held"),
    [
        ([rejected("c1")], None),
        ([rejected("c1", status=REPLACED), claim("c2", DRAFT)], None),
        ([rejected("c1", status=REPLACED), claim("c2", SUBMITTED, submitted=True)], "c2"),
        ([SENT, rejected("c2", REPLACEMENT)], "c1"),
        # a VOID the payer rejected leaves the claim it was to void with the payer
        ([claim("c1", VOIDED, submitted=True), rejected("c2", VOID)], "c1"),
    ],
)
def test_the_payer_does_not_hold_a_claim_it_rejected(history, held):
    found = payer_held(history)
    assert (found.id if found else None) == held


@pytest.mark.parametrize(
    ("status", "payer_number", "reason", "expected"),
    [
        ("REJECTED", None, "A7: ...", True),
        ("REJECTED", "ICN1", "999 R: Rejected", True),
        # replaced or voided by a correction after the payer rejected it: its reason and no payer number
        ("REPLACED", None, "A7: 164 ...", True),
        ("VOIDED", None, "999 R: Rejected", True),
        ("REPLACED", "ICN1", None, False),  # accepted (REF*1K) and then replaced
        ("REPLACED", None, None, False),  # sent, never answered, then replaced
        ("DENIED", "ICN1", "CO-197: ...", False),
        ("SUBMITTED", None, None, False),
    ],
)
def test_rejected_by_payer(status, payer_number, reason, expected):
    assert rejected_by_payer(status, payer_number, reason) is expected


@pytest.mark.parametrize(
    ("new_line", "history", "expected"),
    [
        # the original was rejected after its replacement was made (held for the payer's number that never
        # comes): the replacement is dropped and a new ORIGINAL goes, though the charge stands
        (
            line(),
            [rejected("c1"), claim("c2", DRAFT, REPLACEMENT)],
            MemberCorrection(
                "p", Answer.ORIGINAL, line=line(), void_charge="charge-1", void_drafts=("c2",), answers_rejected=("c1",)
            ),
        ),
        # the same, from before rejected claims were answered with originals: the original REPLACED, no number
        (
            line(),
            [rejected("c1", status=REPLACED), claim("c2", DRAFT, REPLACEMENT)],
            MemberCorrection("p", Answer.ORIGINAL, line=line(), void_charge="charge-1", void_drafts=("c2",)),
        ),
        # an unsent VOID of a claim the payer rejected: dropped, nothing to send
        (
            None,
            [rejected("c1", status=VOIDED), claim("c2", DRAFT, VOID)],
            MemberCorrection("p", Answer.NONE, void_charge="charge-1", void_drafts=("c2",)),
        ),
    ],
)
def test_an_unsent_correction_of_a_claim_the_payer_rejected_is_dropped_for_an_original(new_line, history, expected):
    """005010X222A1 CLM05-3 7 and 8 answer a claim the payer adjudicated (REF*F8 its number); once the claim
    they answer is known to be rejected (005010X214 STC01 A3/A6/A7/A8), they answer nothing."""
    lines = {"p": new_line} if new_line else {}
    assert plan_correction(lines, {"p": charge()}, {"p": history}) == (expected,)
