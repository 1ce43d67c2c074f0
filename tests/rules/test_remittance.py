"""What the payer's answers mean, as tables: the kind of a file, the status each answer moves a claim to
(005010X214 STC01 for the 277CA, 005010X221A1 CLP02 for the 835), a line's posting by CAS group (CO, PR, OA, PI),
underpayment, the reasons a billing office reads, and timely filing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.rules.claims import ClaimStatus
from app.rules.edi.edi835 import Adjustment, ClaimPayment, ServicePayment
from app.rules.edi.x12 import Person, X12Error, read_interchange
from app.rules.remittance import (
    EdiKind,
    adjustment_key,
    allowed_difference,
    carc_of,
    content_hash,
    day_changed,
    denial_reason,
    filing_days_left,
    hour_crossed,
    kind_of,
    moves,
    payment_key,
    post_claim,
    post_line,
    rejection_kept,
    set_results,
    status_codes_of_277,
    status_of_payment,
)
from tests.rules.edi_support import fixture

D = Decimal
DAY = date(2026, 3, 10)
PATIENT = Person("DOE", "JANE", "M1")


def line(paid: str, *adjustments: tuple[str, str, str], charge: str = "100", remarks: tuple[str, ...] = ()):
    return ServicePayment(
        "90853", (), D(charge), D(paid), adjustments=tuple(Adjustment(g, r, D(a)) for g, r, a in adjustments),
        remarks=remarks, service_dates=(DAY, DAY),
    )  # fmt: skip


def payment(status: str, *services: ServicePayment, paid: str | None = None, share: str = "0") -> ClaimPayment:
    total = D(paid) if paid is not None else sum((s.paid for s in services), D(0))
    charge = sum((s.charge for s in services), D(0))
    return ClaimPayment("GS1", status, charge, total, D(share), "MC", "ICN1", PATIENT, services=services)


# ---------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("999_accepted.x12", EdiKind.ACKNOWLEDGMENT),
        ("277ca_accepted_and_rejected.x12", EdiKind.CLAIM_ACKNOWLEDGMENT),
        ("835_paid_denied_interest.x12", EdiKind.REMITTANCE),
    ],
)
def test_a_file_is_known_by_its_transaction_sets(name, kind):
    assert kind_of(read_interchange(fixture(name))) is kind


def test_a_claim_file_is_not_an_answer():
    from tests.rules.edi_support import our_837p

    with pytest.raises(X12Error, match=r"ST \(segment 3, line 3\): a 837 is not an answer this service reads"):
        kind_of(read_interchange(our_837p()))


def test_the_same_file_with_other_line_ends_has_the_same_hash():
    text = "ISA*00~\nGS*HP~\n"
    assert content_hash(text) == content_hash(text.replace("\n", "\r\n")) == content_hash("\ufeff" + text)
    assert content_hash(text) != content_hash(text.replace("HP", "HN"))


# ---------------------------------------------------------------- statuses

S = ClaimStatus


@pytest.mark.parametrize(
    ("current", "to", "moved"),
    [
        (S.SUBMITTED, S.ACCEPTED, True),
        (S.SUBMITTED, S.REJECTED, True),
        (S.ACCEPTED, S.REJECTED, True),  # a 999 accepted the file, the 277CA rejects the claim
        (S.ACCEPTED, S.PAID, True),
        (S.SUBMITTED, S.PAID, True),  # the 835 came before the 277CA
        (S.ACCEPTED, S.DENIED, True),
        (S.DENIED, S.PAID, True),  # an appeal paid
        (S.PAID, S.REVERSED, True),
        (S.PARTIALLY_PAID, S.REVERSED, True),
        (S.PAID, S.ACCEPTED, False),  # a late 277CA does not undo a payment
        (S.DRAFT, S.PAID, False),
        (S.VOIDED, S.ACCEPTED, False),
        (S.SUBMITTED, S.REVERSED, False),  # nothing was paid to take back
        (S.REVERSED, S.REVERSED, False),
        # 005010X221A1 1.10.2.8: a reversal (CLP02 22) and the corrected payment (a new CLP) for the same claim
        (S.REVERSED, S.PAID, True),
        (S.REVERSED, S.PARTIALLY_PAID, True),
        (S.REVERSED, S.DENIED, True),
        (S.REVERSED, S.ACCEPTED, False),  # a late 277CA does not undo the reversal
        (S.REVERSED, S.REJECTED, False),
    ],
)
def test_where_each_answer_may_move_a_claim_from(current, to, moved):
    assert moves(current, to) is moved


@pytest.mark.parametrize(
    ("clp", "status"),
    [
        (payment("1", line("75", ("CO", "45", "20"), ("PR", "3", "5")), share="5"), S.PAID),
        (payment("4", line("0", ("CO", "197", "100"))), S.DENIED),
        (payment("1", line("0", ("CO", "50", "100"))), S.DENIED),  # processed, nothing paid, nothing owed
        (payment("1", line("0", ("PR", "1", "80"), ("CO", "45", "20")), share="80"), S.PAID),  # all to deductible
        (payment("1", line("75", ("CO", "45", "25")), line("0", ("CO", "197", "100"))), S.PARTIALLY_PAID),
        (payment("1", line("60", ("CO", "45", "20"), ("OA", "23", "20"))), S.PARTIALLY_PAID),  # a reduction
        (payment("22", line("-75", ("CO", "45", "-25"), charge="-100")), S.REVERSED),
    ],
)
def test_an_835_claims_status_from_clp02_and_its_lines(clp, status):
    assert status_of_payment(clp) is status


# ---------------------------------------------------------------- posting


# (adjustments, paid, AMT*B6, contracted amount, CO/PR/other columns, underpaid by, allowed less contracted). The
# contracted amount is the payer's rate the charge was built from (its expectedAmount), not the facility's fee
# billed (100 on every line here). What the payer allowed: AMT*B6 when the 835 sends it (005010X221A1 loop 2110),
# else what it paid plus the patient's share (CAS PR).
UNDERPAYMENT_CASES = [
    # CO-45 the contract, PR-3 the copay: 75 + 5 allowed, the contracted 80
    ([("CO", "45", "20"), ("PR", "3", "5")], "75", None, "80", ("20", "5", "0"), "0", "0"),
    # the same line against a contract of 90: allowed 10 short
    ([("CO", "45", "20"), ("PR", "3", "5")], "75", None, "90", ("20", "5", "0"), "10", "-10"),
    # the facility's fee is not the contract: allowing 80 of a 100 fee is not an underpayment when 80 is the rate
    ([("CO", "45", "20")], "80", None, "80", ("20", "0", "0"), "0", "0"),
    # allowed more than the contract: not underpaid, the difference shown
    ([("CO", "45", "20")], "80", None, "60", ("20", "0", "0"), "0", "20"),
    # OA-23 (another payer's share) is not the contract: 65 allowed of 80
    ([("CO", "45", "20"), ("OA", "23", "15")], "65", None, "80", ("20", "0", "15"), "15", "-15"),
    # PI-94 likewise
    ([("CO", "45", "20"), ("PI", "94", "10")], "70", None, "80", ("20", "0", "10"), "10", "-10"),
    # all of it to the deductible: adjudicated, nothing paid, 80 allowed
    ([("CO", "45", "20"), ("PR", "1", "80")], "0", None, "80", ("20", "80", "0"), "0", "0"),
    # AMT*B6 is what the payer says it allowed: 70 of 80, whatever the CAS make of the rest
    ([("CO", "45", "25"), ("PR", "3", "5")], "70", "70", "80", ("25", "5", "0"), "10", "-10"),
    # a denial is not an underpayment
    ([("CO", "197", "100")], "0", None, "80", ("100", "0", "0"), "0", None),
    # no contracted amount known (self-pay, or a charge built before the payer's rate was kept): nothing to compare
    ([("OA", "23", "15")], "85", None, None, ("0", "0", "15"), "0", None),
]


@pytest.mark.parametrize(
    ("adjustments", "paid", "allowed", "expected", "columns", "underpaid_by", "difference"), UNDERPAYMENT_CASES
)
def test_a_line_posts_by_cas_group_and_flags_underpayment(
    adjustments, paid, allowed, expected, columns, underpaid_by, difference
):
    posting = post_line(
        "90853", DAY, D("100"), D(paid), [Adjustment(g, r, D(a)) for g, r, a in adjustments], (),
        D(allowed) if allowed else None, D(expected) if expected else None, reversal=False,
    )  # fmt: skip
    assert (posting.contractual, posting.patient_responsibility, posting.other_adjustments) == tuple(map(D, columns))
    assert posting.underpaid_by == D(underpaid_by) and posting.underpaid is (D(underpaid_by) > 0)
    found = allowed_difference(
        posting.paid, posting.patient_responsibility, posting.allowed, posting.expected, reversal=False
    )
    assert found == (D(difference) if difference is not None else None)


def test_a_reversal_is_never_underpaid():
    posting = post_line(
        "90853", DAY, D("-100"), D("-75"), [Adjustment("CO", "45", D("-25"))], (), None, D("100"), reversal=True
    )
    assert posting.underpaid_by == 0 and posting.reversal


def test_claim_level_cas_and_moa_go_on_the_first_line_and_reasons_carry_their_text():
    clp = ClaimPayment(
        "GS1", "4", D("100"), D("0"), D("0"), "MC", "ICN1", PATIENT, adjustments=(Adjustment("CO", "16", D("0")),),
        services=(line("0", ("CO", "16", "100"), remarks=("N290",)),), remarks=("MA130",),
    )  # fmt: skip
    (posting,) = post_claim(clp, [D("100")])
    assert [r.code for r in posting.adjustments] == ["CO-16", "CO-16"]
    assert [r.code for r in posting.remarks] == ["N290", "MA130"]
    assert posting.adjustments[0].text.startswith("Contractual Obligations: Claim/service lacks information")
    assert carc_of([posting]) == "16"
    reason = denial_reason([posting])
    assert reason is not None and reason.startswith("CO-16: Contractual Obligations: Claim/service lacks")
    assert "N290: " in reason and "MA130: " in reason


def test_a_claim_without_lines_posts_once():
    clp = ClaimPayment(
        "GS1", "1", D("100"), D("80"), D("0"), "MC", "ICN1", PATIENT, adjustments=(Adjustment("CO", "45", D("20")),)
    )
    (posting,) = post_claim(clp, [D("80")])
    assert (posting.paid, posting.contractual, posting.underpaid_by) == (D("80"), D("20"), D(0))
    (short,) = post_claim(clp, [D("90")])  # a contract of 90: the payer allowed 80
    assert short.underpaid_by == D(10)


def test_a_paid_claim_has_no_denial_reason():
    (posting,) = post_claim(payment("1", line("75", ("CO", "45", "20"), ("PR", "3", "5"))), [D("100")])
    assert denial_reason([posting]) is None and carc_of([posting]) is None


# ---------------------------------------------------------------- timely filing


@pytest.mark.parametrize(
    ("service_date", "limit", "today", "left"),
    [
        (date(2026, 1, 1), 90, date(2026, 1, 1), 90),
        (date(2026, 1, 1), 90, date(2026, 3, 1), 31),
        (date(2026, 1, 1), 90, date(2026, 4, 1), 0),
        (date(2026, 1, 1), 90, date(2026, 4, 11), -10),  # past the limit
        (date(2025, 3, 1), 365, date(2026, 2, 28), 1),
    ],
)
def test_days_left_to_file_count_from_the_date_of_service(service_date, limit, today, left):
    assert filing_days_left(service_date, limit, today) == left


# ---------------------------------------------------------------- posting once


def remittance_of(text: str):
    from app.rules.edi.edi835 import read_835_transaction
    from app.rules.edi.x12 import transactions_of

    (transaction,) = transactions_of(read_interchange(text), "835", "005010X221A1")
    return read_835_transaction(transaction)


def test_a_claim_payment_is_known_by_payer_trace_claim_status_payer_number_and_amounts():
    """005010X221A1: TRN02 the check or EFT trace, TRN03 and N1*PR the payer; CLP01, CLP02, CLP07, CLP03-05. The
    envelope (ISA13, GS06) is not part of it: the same payment re-sent in another interchange has the same key;
    the reversal and the corrected payment of section 1.10.2.8 are payments of their own."""
    text = fixture("835_reversal_and_correction.x12")
    remittance = remittance_of(text)
    reversal, correction = remittance.claims
    resent = remittance_of(
        text.replace("000000836", "000000999").replace("*836*", "*999*").replace("GE*1*836", "GE*1*999")
    )
    assert payment_key(resent, resent.claims[0]) == payment_key(remittance, reversal)
    assert payment_key(remittance, reversal) != payment_key(remittance, correction)
    other_check = replace(remittance, trace_number="20250501078")
    assert payment_key(other_check, reversal) != payment_key(remittance, reversal)
    other_payer = replace(remittance, payer_trace_id="1999999999")
    assert payment_key(other_payer, reversal) != payment_key(remittance, reversal)
    repaid = replace(correction, paid=D("19"))
    assert payment_key(remittance, repaid) != payment_key(remittance, correction)
    (plb,) = remittance.provider_adjustments
    assert adjustment_key(resent, 0, resent.provider_adjustments[0]) == adjustment_key(remittance, 0, plb)
    assert adjustment_key(remittance, 1, plb) != adjustment_key(remittance, 0, plb)


# ---------------------------------------------------------------- the queues time alone changes

T0 = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)  # a session ended 10:30 in Phoenix


@pytest.mark.parametrize(
    ("last", "now", "crossed"),
    [
        (T0 + timedelta(minutes=50), T0 + timedelta(minutes=59), False),
        (T0 + timedelta(minutes=59), T0 + timedelta(minutes=60), True),  # one hour after the end
        (T0 + timedelta(hours=3, minutes=58), T0 + timedelta(hours=4, minutes=1), True),  # four hours
        (T0 - timedelta(minutes=5), T0 + timedelta(minutes=30), False),  # it ended between the sweeps
        (T0 - timedelta(minutes=5), T0 + timedelta(hours=1, minutes=1), True),
        (T0 + timedelta(hours=2), T0 + timedelta(hours=2), False),  # no time passed
        (T0 + timedelta(hours=2), T0 + timedelta(hours=1), False),  # the clock went back
    ],
)
def test_a_session_awaiting_finalization_crosses_each_whole_hour_after_its_end(last, now, crossed):
    assert hour_crossed(T0, last, now) is crossed


@pytest.mark.parametrize(
    ("last", "now", "changed"),
    [
        # 23:59 and 00:01 in Phoenix (UTC-7): the facility's day turned
        (datetime(2026, 3, 11, 6, 59, tzinfo=UTC), datetime(2026, 3, 11, 7, 1, tzinfo=UTC), True),
        # UTC midnight is not Phoenix's
        (datetime(2026, 3, 10, 23, 59, tzinfo=UTC), datetime(2026, 3, 11, 0, 1, tzinfo=UTC), False),
        (datetime(2026, 3, 11, 7, 1, tzinfo=UTC), datetime(2026, 3, 11, 7, 1, tzinfo=UTC), False),
    ],
)
def test_the_days_left_to_file_change_at_the_facilitys_midnight(last, now, changed):
    assert day_changed(last, now, "America/Phoenix") is changed


# ---------------------------------------------------------------- what a 999 and a 277CA said, as data


def test_a_999s_result_per_transaction_set_keeps_accepted_with_errors():
    """005010X231A1 IK501: A accepted, E accepted with errors, R rejected; IK502 the set's syntax errors, IK3/IK4
    the segment and element in error."""
    from app.rules.edi.edi999 import ElementError, ImplementationAcknowledgment, SegmentError, TransactionSetResponse

    responses = (
        TransactionSetResponse("837", "0001", "005010X222A1", "A", (), ()),
        TransactionSetResponse(
            "837", "0002", "005010X222A1", "E", (), (SegmentError("REF", 12, "2300", "", "GS1"),)
        ),
        TransactionSetResponse(
            "837", "0003", "005010X222A1", "R", ("5",),
            (SegmentError("NM1", 8, "2010", "8", "GS2", (ElementError(9, None, None, "67", "7", ""),)),),
        ),
    )  # fmt: skip
    ack = ImplementationAcknowledgment("HC", "42", "005010X222A1", "P", 3, 3, 2, (), responses)
    results = set_results([ack])
    assert [(r.control_number, r.code, r.accepted) for r in results] == [
        ("0001", "A", True), ("0002", "E", True), ("0003", "R", False),
    ]  # fmt: skip
    assert results[0].errors == () and results[1].errors == ("REF at position 12 (loop 2300): Data element errors",)
    assert results[2].errors[0].startswith("IK5 5: ") and results[2].errors[2].startswith(
        "NM1 at position 8 (loop 2010), element 9: "
    )
    assert {r.group_control_number for r in results} == {"42"}


def test_a_277ca_claims_status_codes_are_kept_with_their_text():
    """005010X214 STC01 (and STC10, STC11): category, status code and entity."""
    from app.rules.edi.edi277 import StatusCode

    claim = type("Answer", (), {"statuses": (StatusCode("A7", "164", "IL"), StatusCode("A7", "21", ""))})()
    kept = status_codes_of_277(claim)
    assert [(c["category"], c["code"], c["entity"]) for c in kept] == [("A7", "164", "IL"), ("A7", "21", "")]
    assert kept[0]["text"].startswith("A7: Acknowledgement/Rejected for Invalid Information")


@pytest.mark.parametrize(
    ("current", "to", "number", "kept"),
    [
        (S.REPLACED, S.REJECTED, None, True),  # replaced before the 277CA rejected it
        (S.VOIDED, S.REJECTED, None, True),
        (S.REPLACED, S.REJECTED, "ICN1", False),  # the payer had accepted it (REF*1K): it holds it
        (S.PAID, S.REJECTED, "ICN1", False),
        (S.REPLACED, S.ACCEPTED, None, False),
    ],
)
def test_a_rejection_of_a_claim_replaced_before_the_answer_is_kept(current, to, number, kept):
    assert rejection_kept(current, to, number) is kept
