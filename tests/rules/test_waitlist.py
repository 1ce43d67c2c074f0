"""The self-filling waitlist (rules.md §5), case by case and over random histories."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import Conflict, IllegalTransition
from app.rules.waitlist import (
    Line,
    at_capacity,
    change_capacity,
    enroll,
    fill_open_seats,
    leave,
    over_capacity,
    waitlist_position,
)


@pytest.mark.parametrize(
    "line, expected",
    [
        (Line(3), None),
        (Line(3, enrolled=("a", "b")), None),
        (Line(3, enrolled=("a", "b", "c")), 1),
        (Line(2, enrolled=("a", "b"), waitlist=("c", "d")), 3),
        (Line(1, enrolled=("a", "b")), 1),  # over capacity after a lowering
        (Line(3, enrolled=("a",), waitlist=("b",)), 2),  # nobody jumps the line
    ],
)
def test_waitlist_position(line, expected):
    assert waitlist_position(line) == expected


@pytest.mark.parametrize(
    "line, patient, after",
    [
        (Line(2), "a", Line(2, enrolled=("a",))),
        (Line(2, enrolled=("a",)), "b", Line(2, enrolled=("a", "b"))),
        (Line(2, enrolled=("a", "b")), "c", Line(2, enrolled=("a", "b"), waitlist=("c",))),
        (Line(1, enrolled=("a",), waitlist=("b",)), "c", Line(1, enrolled=("a",), waitlist=("b", "c"))),
    ],
)
def test_enroll_takes_a_free_seat_else_the_end_of_the_line(line, patient, after):
    assert enroll(line, patient).line == after
    assert enroll(line, patient).promoted == ()


@pytest.mark.parametrize("patient", ["a", "b"])
def test_enrolling_an_active_patient_again_is_a_conflict(patient):
    with pytest.raises(Conflict):
        enroll(Line(1, enrolled=("a",), waitlist=("b",)), patient)


@pytest.mark.parametrize(
    "line, patient, after, promoted",
    [
        # an enrolled patient leaves: the lowest position is promoted, the rest close up
        (Line(2, ("a", "b"), ("c", "d", "e")), "a", Line(2, ("b", "c"), ("d", "e")), ("c",)),
        # a waitlisted patient leaves: positions close up, nobody is promoted
        (Line(2, ("a", "b"), ("c", "d", "e")), "d", Line(2, ("a", "b"), ("c", "e")), ()),
        # leaving an over-capacity group frees no seat
        (Line(1, ("a", "b"), ("c",)), "a", Line(1, ("b",), ("c",)), ()),
        (Line(2, ("a",)), "a", Line(2), ()),
    ],
)
def test_leave_closes_up_and_promotes_the_lowest_position(line, patient, after, promoted):
    change = leave(line, patient)
    assert change.line == after
    assert change.promoted == promoted


def test_leaving_when_not_active_is_an_illegal_transition():
    with pytest.raises(IllegalTransition):
        leave(Line(2, ("a",)), "z")


@pytest.mark.parametrize(
    "line, new_max, after, promoted",
    [
        (Line(2, ("a", "b"), ("c", "d", "e")), 4, Line(4, ("a", "b", "c", "d"), ("e",)), ("c", "d")),
        (Line(2, ("a", "b"), ("c",)), 9, Line(9, ("a", "b", "c")), ("c",)),
        (Line(3, ("a", "b", "c"), ("d",)), 1, Line(1, ("a", "b", "c"), ("d",)), ()),  # nobody disenrolled
        (Line(2, ("a", "b"), ("c",)), 2, Line(2, ("a", "b"), ("c",)), ()),
    ],
)
def test_change_capacity_fills_new_seats_and_never_disenrolls(line, new_max, after, promoted):
    change = change_capacity(line, new_max)
    assert change.line == after
    assert change.promoted == promoted


def test_fill_open_seats_with_nobody_waiting_changes_nothing():
    assert fill_open_seats(Line(5, ("a",))).line == Line(5, ("a",))


@pytest.mark.parametrize(
    "enrolled, max_capacity, full, over",
    [(0, 1, False, False), (7, 8, False, False), (8, 8, True, False), (9, 8, True, True)],
)
def test_capacity_flags(enrolled, max_capacity, full, over):
    assert at_capacity(enrolled, max_capacity) is full
    assert over_capacity(enrolled, max_capacity) is over


# ------------------------------------------------------------- random histories

PATIENTS = st.sampled_from("abcdefghij")
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("enroll"), PATIENTS),
        st.tuples(st.just("disenroll"), PATIENTS),
        st.tuples(st.just("remove"), PATIENTS),
        st.tuples(st.just("capacity"), st.integers(min_value=1, max_value=6)),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(start=st.integers(min_value=1, max_value=6), steps=STEPS)
def test_invariants_hold_over_any_history(start, steps):
    line = Line(start)
    # Enrolled may exceed max only after a lowering, and never beyond the count it left.
    ceiling = start
    for action, arg in steps:
        before = line
        if action == "enroll":
            if before.status_of(arg) is not None:
                with pytest.raises(Conflict):
                    enroll(before, arg)
                continue
            change = enroll(before, arg)
            expected = (
                "ENROLLED" if len(before.enrolled) < before.max_capacity and not before.waitlist else "WAITLISTED"
            )
            assert change.line.status_of(arg) == expected
            if expected == "WAITLISTED":
                assert change.line.position_of(arg) == len(before.waitlist) + 1
        elif action in ("disenroll", "remove"):
            if before.status_of(arg) is None:
                with pytest.raises(IllegalTransition):
                    leave(before, arg)
                continue
            change = leave(before, arg)
            assert change.line.status_of(arg) is None
        else:
            change = change_capacity(before, arg)
            if arg < len(before.enrolled):
                ceiling = len(before.enrolled)
            assert set(before.enrolled) <= set(change.line.enrolled)  # lowering disenrolls nobody
        line = change.line
        waiting_before = [p for p in before.waitlist if p != arg]
        # promotion always takes the lowest positions, in order
        assert change.promoted == tuple(waiting_before[: len(change.promoted)])
        assert len(line.enrolled) <= max(line.max_capacity, ceiling)
        # nobody twice active
        everyone = line.enrolled + line.waitlist
        assert len(everyone) == len(set(everyone))
        # positions read exactly 1..n
        assert [line.position_of(p) for p in line.waitlist] == list(range(1, len(line.waitlist) + 1))
        # nobody waits while a seat is free
        assert not line.waitlist or len(line.enrolled) >= line.max_capacity
        # the waitlist keeps its order: whoever stays keeps their relative place
        stayed = [p for p in waiting_before if p in line.waitlist]
        assert list(line.waitlist[: len(stayed)]) == stayed
