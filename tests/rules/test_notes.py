"""Clinical notes: the lifecycle, who may take each step, the co-sign requirement, the template."""

from __future__ import annotations

import pytest

from app.errors import ErrorCode
from app.rules.notes import (
    ADD_ADDENDUM,
    CO_SIGNED,
    COSIGN,
    DRAFT,
    EDIT,
    SIGN,
    SIGNED,
    NoteActor,
    cosign_required,
    drafts_member_note,
    is_documented,
    next_note_status,
    note_action_refusal,
    note_template,
    sign_problem,
    text_field_problem,
)

AUTHOR = NoteActor(is_author=True, is_facilitator=True, is_supervisor=False)
CO_FACILITATOR = NoteActor(is_author=False, is_facilitator=True, is_supervisor=False)
SUPERVISOR = NoteActor(is_author=False, is_facilitator=False, is_supervisor=True)
AUTHOR_NO_LONGER_FACILITATING = NoteActor(is_author=True, is_facilitator=False, is_supervisor=False)
SUPERVISING_AUTHOR = NoteActor(is_author=True, is_facilitator=True, is_supervisor=True)
STRANGER = NoteActor(is_author=False, is_facilitator=False, is_supervisor=False)

OK = None
ILLEGAL = ErrorCode.ILLEGAL_TRANSITION
FORBIDDEN = ErrorCode.FORBIDDEN


@pytest.mark.parametrize(
    "action, status, actor, cosign, expected",
    [
        # the author edits and signs their own draft
        (EDIT, DRAFT, AUTHOR, False, OK),
        (SIGN, DRAFT, AUTHOR, False, OK),
        (EDIT, DRAFT, CO_FACILITATOR, False, FORBIDDEN),
        (SIGN, DRAFT, CO_FACILITATOR, False, FORBIDDEN),
        (SIGN, DRAFT, SUPERVISOR, True, FORBIDDEN),
        (SIGN, DRAFT, AUTHOR_NO_LONGER_FACILITATING, False, FORBIDDEN),
        # a signed note is immutable
        (EDIT, SIGNED, AUTHOR, False, ILLEGAL),
        (EDIT, CO_SIGNED, AUTHOR, True, ILLEGAL),
        (SIGN, SIGNED, AUTHOR, False, ILLEGAL),
        (SIGN, CO_SIGNED, AUTHOR, True, ILLEGAL),
        # co-signing: a supervisor, not the author, only where the rule requires it, only once
        (COSIGN, SIGNED, SUPERVISOR, True, OK),
        (COSIGN, SIGNED, SUPERVISOR, False, ILLEGAL),
        (COSIGN, DRAFT, SUPERVISOR, True, ILLEGAL),
        (COSIGN, CO_SIGNED, SUPERVISOR, True, ILLEGAL),
        (COSIGN, SIGNED, CO_FACILITATOR, True, FORBIDDEN),
        (COSIGN, SIGNED, SUPERVISING_AUTHOR, True, FORBIDDEN),
        (COSIGN, SIGNED, STRANGER, True, FORBIDDEN),
        # addenda: on signed notes, by the author, a facilitator or a supervisor
        (ADD_ADDENDUM, SIGNED, AUTHOR, False, OK),
        (ADD_ADDENDUM, CO_SIGNED, SUPERVISOR, True, OK),
        (ADD_ADDENDUM, SIGNED, CO_FACILITATOR, False, OK),
        (ADD_ADDENDUM, DRAFT, AUTHOR, False, ILLEGAL),
        (ADD_ADDENDUM, SIGNED, STRANGER, False, FORBIDDEN),
    ],
)
def test_note_lifecycle_and_who_may_take_each_step(action, status, actor, cosign, expected):
    refusal = note_action_refusal(action, status, actor, cosign_is_required=cosign)
    assert (refusal.code if refusal else None) == expected


@pytest.mark.parametrize(
    "action, status, expected",
    [
        (EDIT, DRAFT, DRAFT),
        (SIGN, DRAFT, SIGNED),
        (COSIGN, SIGNED, CO_SIGNED),
        (ADD_ADDENDUM, SIGNED, SIGNED),
        (ADD_ADDENDUM, CO_SIGNED, CO_SIGNED),
    ],
)
def test_each_step_leaves_the_note_in_its_next_status(action, status, expected):
    assert next_note_status(action, status) == expected


def test_a_refusal_never_quotes_note_text():
    refusal = note_action_refusal(EDIT, SIGNED, AUTHOR, cosign_is_required=False)
    assert "addendum" in refusal.message


@pytest.mark.parametrize(
    "states, facility_state, expected",
    [(("AZ",), "AZ", True), (("az", "NM"), "AZ", True), (("NM",), "AZ", False), ((), "AZ", False)],
)
def test_cosign_is_required_where_the_payers_rule_names_the_facilitys_state(states, facility_state, expected):
    assert cosign_required(states, facility_state) is expected


@pytest.mark.parametrize(
    "status, cosign, expected",
    [
        (None, False, False),
        (DRAFT, False, False),
        (SIGNED, False, True),
        (CO_SIGNED, False, True),
        (None, True, False),
        (DRAFT, True, False),
        (SIGNED, True, False),
        (CO_SIGNED, True, True),
    ],
)
def test_a_note_is_documented_when_signed_and_co_signed_where_required(status, cosign, expected):
    assert is_documented(status, cosign) is expected


@pytest.mark.parametrize(
    "attendance, expected",
    [("ATTENDED", True), ("LATE", True), ("ABSENT", False), ("SCHEDULED", False)],
)
def test_member_notes_are_drafted_for_members_who_attended_or_came_late(attendance, expected):
    assert drafts_member_note(attendance) is expected


@pytest.mark.parametrize(
    "value, problem",
    [(None, False), ("", False), ("x" * 10_000, False), ("x" * 10_001, True), ("Room\x00 4", True)],
)
def test_a_note_field_is_capped_and_the_message_never_quotes_it(value, problem):
    found = text_field_problem("freeText", value)
    assert (found is not None) is problem
    if found:
        assert "xxx" not in found


@pytest.mark.parametrize(
    "fields, problem",
    [({"topic": "Coping", "freeText": None}, False), ({"topic": "  ", "freeText": None}, True), ({"a": None}, True)],
)
def test_a_note_is_not_signed_empty(fields, problem):
    assert (sign_problem(fields) is not None) is problem


@pytest.mark.parametrize(
    "group_type, prompt",
    [("SKILLS_TRAINING", "Skill taught"), ("IOP", "Program module"), ("OTHER", "Topic"), ("UNKNOWN", "Topic")],
)
def test_each_group_type_has_a_template(group_type, prompt):
    assert note_template(group_type).topic_prompt == prompt


# ------------------------------------------------------------------ issue 24: individualized, signed after the session

from datetime import datetime, timezone  # noqa: E402

from app.rules.notes import drafted_response, individualized_problem, sign_time_problem  # noqa: E402

PREFILL = "Interventions: Role play, Homework review."


@pytest.mark.parametrize(
    "response, progress, prefill, ok",
    [
        (PREFILL, None, PREFILL, False),  # only the pre-fill
        (PREFILL, "", PREFILL, False),
        ("  interventions:   role play, homework REVIEW. ", None, PREFILL, False),  # spacing and case
        (PREFILL, "Named two triggers", PREFILL, True),
        (PREFILL + " Rehearsed refusing a drink.", None, PREFILL, True),  # the pre-fill, added to
        (None, None, PREFILL, False),  # nothing at all
        ("Quiet; engaged when asked", None, None, True),  # no pre-fill (a group note without interventions)
        (None, None, None, False),
    ],
)
def test_a_member_note_is_signed_only_with_words_of_its_own(response, progress, prefill, ok):
    problem = individualized_problem({"responseToInterventions": response, "progressTowardGoals": progress}, prefill)
    assert (problem is None) is ok
    assert problem is None or "responseToInterventions or progressTowardGoals" in problem


def test_the_draft_names_the_groups_interventions():
    assert drafted_response(["Role play", "Homework review"]) == PREFILL
    assert drafted_response([]) is None


ENDS = datetime(2026, 3, 10, 17, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "now, ok",
    [
        (datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc), False),  # during the session
        (datetime(2026, 3, 10, 17, 29, 59, tzinfo=timezone.utc), False),
        (ENDS, True),
        (datetime(2026, 3, 11, 9, 0, tzinfo=timezone.utc), True),
    ],
)
def test_a_member_note_is_signed_once_its_session_has_ended(now, ok):
    assert (sign_time_problem(now, ENDS) is None) is ok


from app.rules.notes import is_late_entry, late_entry_hours_problem, late_entry_problem  # noqa: E402


@pytest.mark.parametrize(
    "hours_after, window, late",
    [(0, 72, False), (72, 72, False), (72.01, 72, True), (25, 24, True), (23, 24, False)],
)
def test_a_note_signed_after_the_window_is_a_late_entry(hours_after, window, late):
    from datetime import timedelta

    assert is_late_entry(ENDS + timedelta(hours=hours_after), ENDS, window) is late


@pytest.mark.parametrize(
    "late, reason, problem",
    [
        (True, None, "give lateEntryReason"),
        (True, "  ", "give lateEntryReason"),
        (True, "Out sick", None),
        (False, None, None),
        (False, "Out sick", "not a late entry"),
        (True, "x" * 2001, "at most 2000"),
    ],
)
def test_a_late_entry_says_why_and_an_entry_on_time_does_not(late, reason, problem):
    found = late_entry_problem(late, reason, 72)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize("hours, ok", [(None, True), (1, True), (2160, True), (0, False), (2161, False)])
def test_the_late_entry_window_is_between_an_hour_and_ninety_days(hours, ok):
    assert (late_entry_hours_problem("lateEntryHours", hours) is None) is ok
