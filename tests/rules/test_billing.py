"""The billing preview rules (rules.md §8) and per-member charges (§9), case by case."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.rules.billing import (
    BLOCKING,
    GROUP_SIZE_BAND_MISMATCH,
    GROUP_UNATTENDED_BILLED,
    NO_COVERAGE,
    SUPERVISION_RATIO_BREACH,
    WARNING,
    Band,
    BillingIssue,
    Coverage,
    RosterEntry,
    SupervisorAttendance,
    build_billing_preview,
    charge_lines,
    check_diagnoses,
    check_supervision_ratio,
    check_unattended,
    count_billable,
    count_present_supervisors,
    is_billable_status,
    member_charge,
    member_primary_coverage,
    occurrence_billing_refusal,
    resolve_group_size_band,
    resolve_payer,
)

SESSION_DAY = date(2025, 3, 12)
SMALL = Band(2, 4, "90853", ("HQ",), Decimal("40.00"))
MEDIUM = Band(5, 8, "90853", ("HQ", "U1"), Decimal("35.00"))
LARGE = Band(10, 12, "90853", ("HQ", "U2"), Decimal("30.00"))
TABLE = (LARGE, SMALL, MEDIUM)  # deliberately unordered: the rules sort


def primary(
    payer: str,
    *,
    code: str | None = None,
    start: date = date(2025, 1, 1),
    end: date | None = None,
    priority: int = 1,
    member_id: str = "",
) -> Coverage:
    return Coverage(payer, code or payer.upper(), priority, start, end, member_id or f"M-{payer}")


def members(*statuses: str, payer: str | None = "ahcccs") -> tuple[RosterEntry, ...]:
    coverages = (primary(payer),) if payer else ()
    # Notes signed: the documentation check (a signed note, WARNING by default) has tests of its own.
    return tuple(
        RosterEntry(f"p{i}", s, coverages, ("F33.1",), note_status="SIGNED") for i, s in enumerate(statuses, 1)
    )


def attended(count: int, payer: str | None = "ahcccs") -> tuple[RosterEntry, ...]:
    return members(*["ATTENDED"] * count, payer=payer)


def supervisors(*statuses: str) -> tuple[SupervisorAttendance, ...]:
    return tuple(SupervisorAttendance(f"s{i}", s) for i, s in enumerate(statuses, 1))


ATTENDED_SUPERVISOR = supervisors("ATTENDED")


def preview(member_rows, supervisor_rows=ATTENDED_SUPERVISOR, *, bands=TABLE, ratio=8, accepted=frozenset()):
    return build_billing_preview(
        members=member_rows,
        supervisors=supervisor_rows,
        session_date=SESSION_DAY,
        state="AZ",
        bands_by_payer={"ahcccs": bands},
        ratio_by_payer={"ahcccs": ratio} if ratio is not None else {},
        accepted_codes=accepted,
    )


# ---------------------------------------------------------------- billable count


@pytest.mark.parametrize(
    ("status", "billable"),
    [("ATTENDED", True), ("LATE", True), ("ABSENT", False), ("SCHEDULED", False), ("", False)],
)
def test_only_attended_or_late_is_billable(status: str, billable: bool) -> None:
    assert is_billable_status(status) is billable


def test_count_billable_counts_attended_and_late() -> None:
    assert count_billable(members("ATTENDED", "LATE", "ABSENT", "SCHEDULED", "LATE")) == 3


def test_present_supervisors_are_those_attended_or_late() -> None:
    assert count_present_supervisors(supervisors("ATTENDED", "LATE", "ABSENT", "SCHEDULED")) == 2


# ---------------------------------------------------------------- payer


@pytest.mark.parametrize(
    ("coverage", "counts"),
    [
        (primary("a"), True),
        (primary("a", start=SESSION_DAY), True),
        (primary("a", end=SESSION_DAY), True),
        (primary("a", start=date(2025, 3, 13)), False),  # not yet effective
        (primary("a", end=date(2025, 3, 11)), False),  # expired the day before
        (primary("a", priority=2), False),  # secondary coverage
    ],
    ids=["open-ended", "starts-that-day", "ends-that-day", "not-yet-effective", "expired", "secondary"],
)
def test_payer_is_the_primary_coverage_effective_on_the_session_date(coverage: Coverage, counts: bool) -> None:
    assert resolve_payer([[coverage]], SESSION_DAY) == ("a" if counts else None)


@pytest.mark.parametrize(
    ("members_coverages", "payer"),
    [
        ([], None),
        ([[], []], None),
        ([[primary("a")], [primary("b")], [primary("b")]], "b"),
        ([[primary("b")], [primary("a")]], "a"),  # tie → lowest payerCode
        ([[primary("b", code="AA")], [primary("a", code="ZZ")]], "b"),  # the code decides, not the id
        ([[primary("a"), primary("b", priority=2)], [primary("b")], [primary("b", priority=2)]], "a"),
        ([[primary("a", end=date(2025, 1, 31))], [primary("a", end=date(2025, 2, 1))], [primary("c")]], "c"),
        ([[primary("a"), primary("a")], [primary("b")], [primary("b")]], "b"),  # a member counts once
    ],
    ids=[
        "no-members",
        "nobody-covered",
        "majority",
        "tie",
        "tie-by-code",
        "secondary-ignored",
        "expired-ignored",
        "duplicate-policy",
    ],
)
def test_payer_is_held_by_most_members_ties_to_lowest_payer_code(members_coverages, payer) -> None:
    assert resolve_payer(members_coverages, SESSION_DAY) == payer


def test_member_primary_coverage_skips_secondary_and_expired() -> None:
    own = primary("b")
    coverages = [primary("a", priority=2), primary("c", end=date(2024, 12, 31)), own]
    assert member_primary_coverage(coverages, SESSION_DAY) == own
    assert member_primary_coverage([primary("a", priority=2)], SESSION_DAY) is None


# ---------------------------------------------------------------- group-size band


@pytest.mark.parametrize(
    ("count", "band", "severity"),
    [
        (0, None, None),
        (1, None, BLOCKING),  # below the lowest band
        (2, SMALL, None),
        (4, SMALL, None),
        (5, MEDIUM, None),
        (8, MEDIUM, None),
        (9, MEDIUM, WARNING),  # between 5-8 and 10-12 → next band down
        (10, LARGE, None),
        (12, LARGE, None),
        (13, None, BLOCKING),  # above the highest band
    ],
)
def test_band_is_the_one_containing_the_billable_count(count: int, band: Band | None, severity: str | None) -> None:
    resolution = resolve_group_size_band(TABLE, count)
    assert resolution.band == band
    assert (resolution.issue.severity if resolution.issue else None) == severity
    if resolution.issue:
        assert resolution.issue.code == GROUP_SIZE_BAND_MISMATCH


def test_wide_gap_codes_to_the_next_band_down() -> None:
    table = (Band(1, 2, "A", (), Decimal(1)), Band(3, 4, "B", (), Decimal(1)), Band(9, 12, "C", (), Decimal(1)))
    for count in (5, 6, 7, 8):
        assert resolve_group_size_band(table, count).band == table[1]


@pytest.mark.parametrize(
    ("bands", "count", "message"),
    [
        (TABLE, 9, "9 billable participants fall between bands 5-8 and 10-12; coded to 5-8"),
        (TABLE, 1, "1 billable participant falls below the lowest band 2-4"),
        (TABLE, 13, "13 billable participants exceed the highest band 10-12"),
        ((), 3, "No group-size bands for this payer and state; 3 billable participants cannot be coded"),
    ],
)
def test_band_issue_messages_read_plainly(bands, count: int, message: str) -> None:
    assert resolve_group_size_band(bands, count).issue.message == message


def test_empty_band_table_blocks_but_zero_billable_does_not() -> None:
    assert resolve_group_size_band((), 3).issue.severity == BLOCKING
    assert resolve_group_size_band((), 0) == resolve_group_size_band(TABLE, 0)
    assert resolve_group_size_band((), 0).issue is None


# ---------------------------------------------------------------- supervision and unattended


@pytest.mark.parametrize(
    ("billable", "present", "ratio", "message"),
    [
        (8, 1, 8, None),  # exactly at the ratio
        (9, 1, 8, "9 billable participants exceed 1 supervisor × 8"),
        (16, 2, 8, None),
        (17, 2, 8, "17 billable participants exceed 2 supervisors × 8"),
        (1, 0, 8, "1 billable participant exceeds 0 supervisors × 8"),  # nobody supervising
        (0, 0, 8, None),
        (30, 0, None, None),  # no rule for the payer and state
    ],
)
def test_supervision_ratio_breach_is_more_billable_than_ratio_times_present(billable, present, ratio, message) -> None:
    issue = check_supervision_ratio(billable, present, ratio)
    assert (issue.message if issue else None) == message
    if issue:
        assert (issue.code, issue.severity) == (SUPERVISION_RATIO_BREACH, WARNING)


@pytest.mark.parametrize(
    ("statuses", "named", "message"),
    [
        (("ATTENDED", "ABSENT", "LATE"), (), None),
        (("ATTENDED", "SCHEDULED"), ("p2",), "1 participant is still SCHEDULED"),
        (("SCHEDULED", "ATTENDED", "SCHEDULED"), ("p1", "p3"), "2 participants are still SCHEDULED"),
    ],
)
def test_unattended_members_block_billing_and_are_named(statuses, named, message) -> None:
    issue = check_unattended(members(*statuses))
    assert (issue.message if issue else None) == message
    if issue:
        assert (issue.code, issue.severity, issue.roster_entry_ids) == (GROUP_UNATTENDED_BILLED, BLOCKING, named)


# ---------------------------------------------------------------- the preview


def codes(p) -> list[tuple[str, str, bool]]:
    return [(i.code, i.severity, i.accepted) for i in p.issues]


def test_clean_session_is_ready_to_bill() -> None:
    p = preview(attended(6) + members("ABSENT"))
    assert (p.billable_count, p.payer_id, p.state, p.band) == (6, "ahcccs", "AZ", MEDIUM)
    assert (p.present_supervisors, p.max_participants_per_supervisor) == (1, 8)
    assert p.issues == () and p.ready_to_bill


@pytest.mark.parametrize(
    ("member_rows", "supervisor_rows", "accepted", "expected", "ready"),
    [
        (attended(9), supervisors("ATTENDED", "ATTENDED"), set(), [(GROUP_SIZE_BAND_MISMATCH, WARNING, False)], False),
        (
            attended(9),
            supervisors("ATTENDED", "ATTENDED"),
            {GROUP_SIZE_BAND_MISMATCH},
            [(GROUP_SIZE_BAND_MISMATCH, WARNING, True)],
            True,
        ),
        (
            attended(9),
            supervisors("ATTENDED", "ABSENT"),
            {GROUP_SIZE_BAND_MISMATCH},
            [(GROUP_SIZE_BAND_MISMATCH, WARNING, True), (SUPERVISION_RATIO_BREACH, WARNING, False)],
            False,
        ),
        (
            attended(9),
            supervisors("LATE"),
            {GROUP_SIZE_BAND_MISMATCH, SUPERVISION_RATIO_BREACH},
            [(GROUP_SIZE_BAND_MISMATCH, WARNING, True), (SUPERVISION_RATIO_BREACH, WARNING, True)],
            True,
        ),
        (
            attended(13),
            supervisors("ATTENDED", "ATTENDED"),
            {GROUP_SIZE_BAND_MISMATCH},
            [(GROUP_SIZE_BAND_MISMATCH, BLOCKING, False)],
            False,
        ),  # BLOCKING cannot be accepted
        (
            attended(3) + (RosterEntry("late-add", "SCHEDULED"),),
            supervisors("ATTENDED"),
            {GROUP_UNATTENDED_BILLED},
            [(GROUP_UNATTENDED_BILLED, BLOCKING, False)],
            False,
        ),
        (
            attended(2),
            supervisors(),
            set(),
            [(SUPERVISION_RATIO_BREACH, WARNING, False)],
            False,
        ),  # no supervisor present
        (members("ABSENT", "ABSENT"), supervisors(), set(), [], True),  # zero billable: no band issue
    ],
    ids=[
        "band-warning",
        "band-accepted",
        "one-of-two-accepted",
        "both-accepted",
        "blocking-band",
        "scheduled-member",
        "no-supervisor",
        "zero-billable",
    ],
)
def test_ready_to_bill_needs_no_blocking_and_every_warning_accepted(
    member_rows, supervisor_rows, accepted, expected, ready
) -> None:
    p = preview(member_rows, supervisor_rows, accepted=frozenset(accepted))
    assert codes(p) == expected
    assert p.ready_to_bill is ready


def test_without_a_payer_no_band_or_supervision_check_and_every_member_is_self_pay() -> None:
    p = preview(attended(13, payer=None) + (RosterEntry("late-add", "SCHEDULED"),), supervisors())
    assert (p.billable_count, p.payer_id, p.band, p.max_participants_per_supervisor) == (13, None, None, None)
    assert codes(p) == [(GROUP_UNATTENDED_BILLED, BLOCKING, False)] + [(NO_COVERAGE, WARNING, False)] * 13
    assert p.issues[0].roster_entry_ids == ("late-add",)


def test_payer_without_band_table_blocks_and_without_rule_skips_supervision() -> None:
    p = preview(attended(20), supervisors(), bands=(), ratio=None)
    assert codes(p) == [(GROUP_SIZE_BAND_MISMATCH, BLOCKING, False)]
    assert p.max_participants_per_supervisor is None


def test_payer_is_chosen_from_all_members_and_its_table_is_used() -> None:
    mixed = attended(2, payer="zeta") + attended(1, payer="alpha")
    p = build_billing_preview(
        members=mixed,
        supervisors=supervisors("ATTENDED"),
        session_date=SESSION_DAY,
        state="AZ",
        bands_by_payer={"zeta": (SMALL,), "alpha": ()},
        ratio_by_payer={"alpha": 1},
    )
    assert (p.payer_id, p.band, p.issues) == ("zeta", SMALL, ())


def test_issue_json_matches_the_stored_validation_shape() -> None:
    issue = BillingIssue(GROUP_UNATTENDED_BILLED, BLOCKING, "1 participant is still SCHEDULED", ("p1",))
    assert issue.as_json() == {
        "code": GROUP_UNATTENDED_BILLED,
        "severity": BLOCKING,
        "message": "1 participant is still SCHEDULED",
        "accepted": False,
        "participantIds": ["p1"],
    }


# ---------------------------------------------------------------- charges


def test_member_charge_is_one_unit_at_the_band_rate() -> None:
    line = member_charge(MEDIUM, roster_entry_id="p1", coverage=primary("ahcccs"), service_date=SESSION_DAY)
    assert line is not None
    assert (line.procedure_code, line.modifiers, line.units, line.amount) == (
        "90853",
        ("HQ", "U1"),
        1,
        Decimal("35.00"),
    )
    assert (line.payer_id, line.member_id, line.service_date) == ("ahcccs", "M-ahcccs", SESSION_DAY)
    assert member_charge(None, roster_entry_id="p1", coverage=primary("a"), service_date=SESSION_DAY) is None


def test_each_billable_member_is_charged_at_their_own_payers_band() -> None:
    roster = (
        attended(3, payer="ahcccs")
        + (RosterEntry("m1", "LATE", (primary("mercy"),)),)
        + (RosterEntry("x1", "ABSENT", (primary("ahcccs"),)),)
        + (RosterEntry("u1", "ATTENDED", ()),)  # no coverage: self-pay, at the session payer's band
        + (RosterEntry("n1", "ATTENDED", (primary("nobands"),)),)  # payer without bands: no charge
    )
    mercy_small = Band(1, 3, "90853", (), Decimal("55.00"))
    mercy_large = Band(4, 8, "90853", ("TT",), Decimal("50.00"))
    lines = charge_lines(
        roster, session_date=SESSION_DAY, bands_by_payer={"ahcccs": TABLE, "mercy": (mercy_small, mercy_large)}
    )
    # Six billable members: AHCCCS codes that to 5-8, Mercy to its own 4-8.
    assert [(l.roster_entry_id, l.payer_id, l.modifiers, l.amount) for l in lines] == [
        ("p1", "ahcccs", ("HQ", "U1"), Decimal("35.00")),
        ("p2", "ahcccs", ("HQ", "U1"), Decimal("35.00")),
        ("p3", "ahcccs", ("HQ", "U1"), Decimal("35.00")),
        ("m1", "mercy", ("TT",), Decimal("50.00")),
        ("u1", None, ("HQ", "U1"), Decimal("35.00")),
    ]
    assert all(l.units == 1 and l.service_date == SESSION_DAY for l in lines)


def test_member_whose_payer_band_is_in_a_gap_is_charged_at_the_band_below() -> None:
    lines = charge_lines(attended(9), session_date=SESSION_DAY, bands_by_payer={"ahcccs": TABLE})
    assert {l.amount for l in lines} == {MEDIUM.rate} and len(lines) == 9


NOON = datetime(2026, 3, 10, 19, 0, tzinfo=timezone.utc)
WINDOW = (NOON - timedelta(hours=2), NOON - timedelta(hours=1))


@pytest.mark.parametrize(
    ("cancelled", "occurrence", "session", "refusal"),
    [
        (False, WINDOW, WINDOW, None),
        (True, WINDOW, WINDOW, "cancelled"),
        (False, (NOON + timedelta(days=1), NOON + timedelta(days=1, hours=1)), WINDOW, "has not ended yet"),
        (False, (WINDOW[0] - timedelta(minutes=30), WINDOW[1] - timedelta(minutes=30)), WINDOW, "just moved"),
        (True, (NOON + timedelta(days=1), NOON + timedelta(days=1, hours=1)), WINDOW, "cancelled"),
    ],
)
def test_an_occurrence_cancelled_or_moved_holds_its_sessions_billing(cancelled, occurrence, session, refusal):
    found = occurrence_billing_refusal(cancelled, occurrence, session, NOON)
    assert (found is None) if refusal is None else (refusal in found)


# ---------------------------------------------------------------- diagnoses


@pytest.mark.parametrize(
    "rows, named",
    [
        ((RosterEntry("a", "ATTENDED", (), ("F33.1",)),), None),
        ((RosterEntry("a", "ATTENDED"),), ("a",)),
        ((RosterEntry("a", "LATE"), RosterEntry("b", "ATTENDED", (), ("F41.1",))), ("a",)),
        ((RosterEntry("a", "ABSENT"), RosterEntry("b", "SCHEDULED")), None),  # only the billable are billed
        ((RosterEntry("a", "ATTENDED"), RosterEntry("b", "LATE")), ("a", "b")),
    ],
)
def test_a_billable_member_without_an_active_diagnosis_blocks(rows, named) -> None:
    issue = check_diagnoses(rows)
    if named is None:
        assert issue is None
    else:
        assert (issue.code, issue.severity, issue.roster_entry_ids) == ("MISSING_DIAGNOSIS", "BLOCKING", named)


def test_the_preview_carries_missing_diagnosis_and_is_not_ready() -> None:
    rows = attended(3)[:2] + (RosterEntry("p3", "ATTENDED", (primary("ahcccs"),), note_status="SIGNED"),)
    p = preview(rows)
    assert [(i.code, i.roster_entry_ids) for i in p.issues] == [("MISSING_DIAGNOSIS", ("p3",))]
    assert p.ready_to_bill is False


# ------------------------------------------------------------------ documentation rules (issue 19)

from app.rules.billing import (  # noqa: E402
    BELOW_MINIMUM_MINUTES,
    NOTE_UNSIGNED,
    DocumentationRule,
    billable_members,
    check_minimum_minutes,
    check_unsigned_notes,
    claim_issues,
)
from app.rules.notes import SignedNoteRule  # noqa: E402

DOC_PAYER = Coverage("doc-payer", "DOCPAY", 1, date(2025, 1, 1), member_id="D-1")


def documented(entry_id: str, status: str = "ATTENDED", *, minutes=None, note=None, modality="IN_PERSON", home=True):
    return RosterEntry(
        entry_id,
        status,
        (DOC_PAYER,),
        diagnoses=("F33.1",),
        minutes=minutes,
        note_status=note,
        modality=modality,
        at_home=home,
    )


@pytest.mark.parametrize(
    "rule, members, billable",
    [
        (None, [documented("a", minutes=10)], ["a"]),  # no rule: minutes do not matter
        (DocumentationRule(minimum_minutes=45), [documented("a", minutes=44), documented("b", minutes=45)], ["b"]),
        (DocumentationRule(minimum_minutes=45), [documented("a", minutes=None)], ["a"]),  # not recorded: billable
        (DocumentationRule(minimum_minutes=45), [documented("a", "ABSENT", minutes=0)], []),
        (DocumentationRule(), [documented("a", minutes=5)], ["a"]),
    ],
)
def test_members_below_their_payers_minimum_are_not_billable(rule, members, billable):
    rules = {"doc-payer": rule} if rule else {}
    assert [m.id for m in billable_members(members, SESSION_DAY, rules)] == billable


def test_below_minimum_minutes_names_the_members_and_their_minutes():
    rules = {"doc-payer": DocumentationRule(minimum_minutes=45)}
    issue = check_minimum_minutes([documented("a", minutes=30), documented("b", minutes=60)], SESSION_DAY, rules)
    assert (issue.code, issue.severity, issue.roster_entry_ids) == (BELOW_MINIMUM_MINUTES, WARNING, ("a",))
    assert "30 of 45 minutes" in issue.message
    assert check_minimum_minutes([documented("b", minutes=60)], SESSION_DAY, rules) is None


@pytest.mark.parametrize(
    "rule, state, note, expected",
    [
        (None, "AZ", None, WARNING),  # no rule: the default, a signed note as a WARNING
        (None, "AZ", "SIGNED", None),
        (DocumentationRule(), "AZ", None, WARNING),  # WARNING by default
        (DocumentationRule(), "AZ", "DRAFT", WARNING),
        (DocumentationRule(), "AZ", "SIGNED", None),
        (DocumentationRule(signed_note=SignedNoteRule.BLOCKING), "AZ", "DRAFT", BLOCKING),
        (DocumentationRule(signed_note=SignedNoteRule.NONE), "AZ", None, None),
        (DocumentationRule(cosign_states=frozenset({"AZ"})), "AZ", "SIGNED", WARNING),  # awaits co-signature
        (DocumentationRule(cosign_states=frozenset({"AZ"})), "AZ", "CO_SIGNED", None),
        (DocumentationRule(cosign_states=frozenset({"NM"})), "AZ", "SIGNED", None),
    ],
)
def test_note_unsigned_per_member_by_the_payers_rule(rule, state, note, expected):
    rules = {"doc-payer": rule} if rule else {}
    issues = check_unsigned_notes([documented("a", note=note), documented("gone", "ABSENT")], SESSION_DAY, state, rules)
    assert [i.severity for i in issues] == ([expected] if expected else [])
    assert all(i.code == NOTE_UNSIGNED and i.roster_entry_ids == ("a",) for i in issues)


def test_a_member_below_the_minimum_is_not_asked_for_a_note():
    rules = {"doc-payer": DocumentationRule(minimum_minutes=45)}
    assert check_unsigned_notes([documented("a", minutes=10)], SESSION_DAY, "AZ", rules) == []


def test_preview_with_documentation_rules_counts_only_members_who_stayed_and_blocks_on_unsigned_notes():
    rules = {"doc-payer": DocumentationRule(signed_note=SignedNoteRule.BLOCKING, minimum_minutes=45)}
    members = [documented("a", minutes=90, note="SIGNED"), documented("b", minutes=90), documented("c", minutes=20)]
    preview = build_billing_preview(
        members=members,
        supervisors=[],
        session_date=SESSION_DAY,
        state="AZ",
        bands_by_payer={"doc-payer": (SMALL,)},
        ratio_by_payer={},
        rules_by_payer=rules,
    )
    assert preview.billable_count == 2
    assert [(i.code, i.severity, i.roster_entry_ids) for i in preview.issues] == [
        (BELOW_MINIMUM_MINUTES, WARNING, ("c",)),
        (NOTE_UNSIGNED, BLOCKING, ("b",)),
    ]
    assert preview.ready_to_bill is False


@pytest.mark.parametrize(
    "modality, home, pos, modifiers",
    [
        ("IN_PERSON", True, "11", ("HQ",)),
        ("TELEHEALTH_VIDEO", True, "10", ("HQ", "95")),
        ("TELEHEALTH_VIDEO", False, "02", ("HQ", "95")),
        ("TELEHEALTH_AUDIO", True, "10", ("HQ", "93")),
    ],
)
def test_charge_lines_carry_the_members_place_of_service_and_modifiers(modality, home, pos, modifiers):
    members = [documented("a", modality=modality, home=home), documented("b")]
    lines = charge_lines(members, session_date=SESSION_DAY, bands_by_payer={"doc-payer": (SMALL,)})
    line = next(x for x in lines if x.roster_entry_id == "a")
    assert (line.place_of_service, line.modifiers) == (pos, modifiers)


def test_charge_lines_leave_out_members_below_the_minimum_and_code_the_band_for_the_rest():
    rules = {"doc-payer": DocumentationRule(minimum_minutes=45)}
    members = [documented(x, minutes=90) for x in "ab"] + [documented("c", minutes=10)]
    lines = charge_lines(
        members, session_date=SESSION_DAY, bands_by_payer={"doc-payer": (SMALL,)}, rules_by_payer=rules
    )
    assert [x.roster_entry_id for x in lines] == ["a", "b"]


def test_a_claim_carries_session_wide_findings_and_only_its_own_members_unsigned_note():
    rules = {"doc-payer": DocumentationRule(signed_note=SignedNoteRule.BLOCKING)}
    members = [documented("a", note="SIGNED"), documented("b"), documented("c", "SCHEDULED")]
    preview = build_billing_preview(
        members=members,
        supervisors=[],
        session_date=SESSION_DAY,
        state="AZ",
        bands_by_payer={"doc-payer": (SMALL,)},
        ratio_by_payer={},
        rules_by_payer=rules,
    )
    assert [i.code for i in claim_issues(preview, "a")] == [GROUP_UNATTENDED_BILLED]
    assert [i.code for i in claim_issues(preview, "b")] == [GROUP_UNATTENDED_BILLED, NOTE_UNSIGNED]


# ------------------------------------------------------------------ what the 837P needs (claim_content_issues)

from app.rules.billing import MEMBER_ISSUES, BillingIssueCode, claim_content_issues  # noqa: E402

# (case, billable members, the session has a rendering clinician, the issues: code and participants)
CONTENT_CASES = [
    ("all there", [RosterEntry("p1", "ATTENDED")], True, []),
    ("nobody billable: nothing to name", [], False, []),
    ("no rendering clinician (2310B)", [RosterEntry("p1", "ATTENDED")], False, [("MISSING_RENDERING_PROVIDER", ())]),
    (
        "a subscriber without an address (2010BA N3/N4)",
        [RosterEntry("p1", "ATTENDED"), RosterEntry("p2", "ATTENDED", has_address=False)],
        True,
        [("MISSING_SUBSCRIBER_ADDRESS", ("p2",))],
    ),
]


@pytest.mark.parametrize(
    ("case", "billable", "rendering", "expected"), CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES]
)
def test_claim_content_issues_are_blocking(case, billable, rendering, expected):
    issues = claim_content_issues(billable, rendering)
    assert [(i.code, i.roster_entry_ids) for i in issues] == [(BillingIssueCode(c), p) for c, p in expected]
    assert all(i.severity == "BLOCKING" for i in issues)
    # The subscriber's address is about one member: only that member's claim carries it.
    assert BillingIssueCode.MISSING_SUBSCRIBER_ADDRESS in MEMBER_ISSUES


# ------------------------------------------------------------------ issue 24: coverage, group of one, arrival times

from app.rules.billing import (  # noqa: E402
    COVERAGE_CONFLICT,
    GROUP_OF_ONE,
    MISSING_ARRIVAL_TIME,
    check_arrival_times,
    check_coverage,
    check_group_of_one,
)


@pytest.mark.parametrize(
    "coverages, status, expected",
    [
        ((primary("ahcccs"),), "ATTENDED", None),
        ((), "ATTENDED", (NO_COVERAGE, WARNING)),  # self-pay: charged to the patient, no claim
        ((), "ABSENT", None),  # not billable: nothing to charge anyone
        ((primary("ahcccs", end=date(2025, 3, 1)),), "LATE", (NO_COVERAGE, WARNING)),  # ended before the date
        ((primary("ahcccs", priority=2),), "ATTENDED", (NO_COVERAGE, WARNING)),  # a secondary only
        ((primary("ahcccs"), primary("mercy")), "ATTENDED", (COVERAGE_CONFLICT, BLOCKING)),
        ((primary("ahcccs"), primary("mercy", end=date(2025, 3, 1))), "ATTENDED", None),  # one ended
        ((primary("ahcccs"), primary("mercy", priority=2)), "ATTENDED", None),  # primary and secondary
    ],
)
def test_a_billable_member_needs_exactly_one_primary_coverage(coverages, status, expected):
    issues = check_coverage([RosterEntry("a", status, coverages, ("F33.1",))], SESSION_DAY)
    assert [(i.code, i.severity) for i in issues] == ([expected] if expected else [])
    assert all(i.roster_entry_ids == ("a",) for i in issues)


def test_a_coverage_conflict_names_both_payers_and_blocks_the_preview():
    rows = attended(2) + (
        RosterEntry("c", "ATTENDED", (primary("ahcccs"), primary("mercy")), ("F33.1",), None, "SIGNED"),
    )
    p = preview(rows)
    (conflict,) = [i for i in p.issues if i.code == COVERAGE_CONFLICT]
    assert conflict.severity == BLOCKING and "AHCCCS, MERCY" in conflict.message
    assert p.ready_to_bill is False
    # A member's coverage finding goes on that member's claim only.
    assert conflict in claim_issues(p, "c") and conflict not in claim_issues(p, "p1")


@pytest.mark.parametrize(
    "count, band, expected",
    [
        (1, SMALL, GROUP_OF_ONE),  # 90853 for one patient
        (2, SMALL, None),
        (1, Band(1, 4, "90849", (), Decimal("40.00")), GROUP_OF_ONE),  # multiple-family group
        (1, Band(1, 1, "H0004", (), Decimal("20.00")), None),  # not a group code
        (1, None, None),  # no band: GROUP_SIZE_BAND_MISMATCH says why
        (0, SMALL, None),
    ],
)
def test_a_group_code_needs_two_billable_patients(count, band, expected):
    issue = check_group_of_one(count, band)
    assert check_group_of_one(count, band, unmarked=1) is None  # others may still come: not yet
    assert (issue.code if issue else None) == expected
    assert issue is None or issue.severity == BLOCKING


def test_a_group_of_one_blocks_the_preview_even_where_the_band_starts_at_one():
    one = Band(1, 4, "90853", ("HQ",), Decimal("40.00"))
    p = preview(attended(1) + members("ABSENT", "ABSENT")[1:], bands=(one,))
    assert codes(p) == [(GROUP_OF_ONE, BLOCKING, False)]


def late(entry_id: str, *, arrival_known: bool, payer: Coverage = DOC_PAYER) -> RosterEntry:
    return RosterEntry(entry_id, "LATE", (payer,), ("F33.1",), 90, "SIGNED", arrival_known=arrival_known)


@pytest.mark.parametrize(
    "rule, rows, named",
    [
        (DocumentationRule(minimum_minutes=45), [late("a", arrival_known=False)], ("a",)),
        (DocumentationRule(minimum_minutes=45), [late("a", arrival_known=True)], None),
        (DocumentationRule(), [late("a", arrival_known=False)], None),  # no minimum: the minutes do not matter
        (None, [late("a", arrival_known=False)], None),  # the default rule sets no minimum
        (
            DocumentationRule(minimum_minutes=45),
            [late("a", arrival_known=False), late("b", arrival_known=False)],
            ("a", "b"),
        ),
    ],
)
def test_a_late_member_needs_an_arrival_time_where_the_payer_sets_a_minimum(rule, rows, named):
    rules = {"doc-payer": rule} if rule else {}
    issue = check_arrival_times(rows, SESSION_DAY, rules)
    if named is None:
        assert issue is None
    else:
        assert (issue.code, issue.severity, issue.roster_entry_ids) == (MISSING_ARRIVAL_TIME, BLOCKING, named)


from app.rules.billing import AUDIO_ONLY_AWAY_FROM_HOME, TELEHEALTH_LOCATION_UNATTESTED, check_telehealth  # noqa: E402


def joined(entry_id: str, modality: str, home: bool | None, status: str = "ATTENDED") -> RosterEntry:
    return RosterEntry(entry_id, status, (DOC_PAYER,), ("F33.1",), None, "SIGNED", modality, home)


@pytest.mark.parametrize(
    "row, rule, expected",
    [
        (joined("a", "IN_PERSON", None), None, None),  # in the room: where they were is the facility
        (joined("a", "TELEHEALTH_VIDEO", None), None, TELEHEALTH_LOCATION_UNATTESTED),
        (joined("a", "TELEHEALTH_VIDEO", None, "ABSENT"), None, None),  # not billable
        (joined("a", "TELEHEALTH_VIDEO", False), None, None),  # video from elsewhere: POS 02
        (joined("a", "TELEHEALTH_AUDIO", None), None, TELEHEALTH_LOCATION_UNATTESTED),
        (joined("a", "TELEHEALTH_AUDIO", True), None, None),
        (joined("a", "TELEHEALTH_AUDIO", False), None, AUDIO_ONLY_AWAY_FROM_HOME),
        (joined("a", "TELEHEALTH_AUDIO", False), DocumentationRule(audio_only_away_from_home=True), None),
    ],
)
def test_telehealth_needs_an_attested_location_and_audio_only_the_patients_home(row, rule, expected):
    rules = {"doc-payer": rule} if rule else {}
    issues = check_telehealth([row], SESSION_DAY, rules)
    assert [(i.code, i.severity, i.roster_entry_ids) for i in issues] == (
        [(expected, BLOCKING, ("a",))] if expected else []
    )


from app.rules.fees import facility_fee, fee_key, fee_schedule_problems  # noqa: E402

SCHEDULE = {
    fee_key("90853", ()): Decimal("100.00"),
    fee_key("90853", ("HQ",)): Decimal("110.00"),
    fee_key("90853", ("U1", "HQ")): Decimal("120.00"),
}


@pytest.mark.parametrize(
    "modifiers, price",
    [
        ((), Decimal("100.00")),
        (("HQ",), Decimal("110.00")),
        (("HQ", "U1"), Decimal("120.00")),  # modifiers in any order
        (("HQ", "95"), Decimal("110.00")),  # how it was delivered does not change the price
        (("HQ", "93"), Decimal("110.00")),
        (("U2",), Decimal("100.00")),  # no price with U2: the code's own
    ],
)
def test_the_facility_fee_is_the_codes_price_with_its_modifiers(modifiers, price):
    assert facility_fee(SCHEDULE, "90853", modifiers) == price


def test_a_code_without_a_price_has_no_fee():
    assert facility_fee(SCHEDULE, "90849", ()) is None


def test_charges_are_billed_at_the_facility_fee_and_expect_the_payers_band_rate():
    lines = charge_lines(attended(3), session_date=SESSION_DAY, bands_by_payer={"ahcccs": TABLE}, fees=SCHEDULE)
    assert {(l.amount, l.expected_amount) for l in lines} == {(Decimal("110.00"), SMALL.rate)}
    unpriced = charge_lines(attended(3), session_date=SESSION_DAY, bands_by_payer={"ahcccs": TABLE})
    assert {(l.amount, l.expected_amount) for l in unpriced} == {(SMALL.rate, SMALL.rate)}
    self_pay = charge_lines(
        attended(2) + attended(1, payer=None)[:0] + (RosterEntry("u", "ATTENDED", (), ("F33.1",), None, "SIGNED"),),
        session_date=SESSION_DAY,
        bands_by_payer={"ahcccs": TABLE},
        fees=SCHEDULE,
    )
    assert [(l.payer_id, l.amount, l.expected_amount) for l in self_pay if l.roster_entry_id == "u"] == [
        (None, Decimal("110.00"), None)
    ]


@pytest.mark.parametrize(
    "fees, problem",
    [
        ([("90853", [], Decimal("10.00"))], None),
        ([("90853", [], Decimal("-1"))], "non-negative"),
        ([("90853", ["HQ"], Decimal("1.001"))], "two decimal places"),
        ([("", [], Decimal("1"))], "procedureCode"),
        ([("90853", ["H"], Decimal("1"))], "modifiers"),
        ([("90853", ["HQ", "U1"], Decimal("1")), ("90853", ["U1", "HQ"], Decimal("2"))], "listed twice"),
    ],
)
def test_a_fee_schedule_is_checked_before_it_is_stored(fees, problem):
    found = fee_schedule_problems(fees)
    assert found == [] if problem is None else any(problem in p for p in found)


# ------------------------------------------------------------------ issue 24: a code the fee schedule has no price for

from app.rules.billing import FEE_NOT_SCHEDULED, check_fee_schedule  # noqa: E402

PRICED = {("90853", ()): Decimal("60.00"), ("90853", ("HQ", "U1")): Decimal("65.00")}


@pytest.mark.parametrize(
    "fees, billed, expected",
    [
        ({}, [("a", "90853", ("HQ",))], []),  # no schedule at all: billed at the payer's rate, as ever
        ({}, [("a", "S9480", ())], []),
        (PRICED, [("a", "90853", ())], []),  # on the schedule
        (PRICED, [("a", "90853", ("HQ",))], []),  # the code's own price
        (PRICED, [("a", "90853", ("U1", "HQ"))], []),  # modifiers in any order
        (PRICED, [("a", "90853", ("HQ", "95"))], []),  # a delivery modifier does not change the price
        (PRICED, [("a", "S9480", ())], [("S9480", ("a",))]),
        (PRICED, [("a", "90849", ("HQ",)), ("b", "90849", ("HQ",))], [("90849 with modifiers HQ", ("a", "b"))]),
        (
            {("90853", ("HQ",)): Decimal("60.00")},  # only a modified price: the code alone has none
            [("a", "90853", ()), ("b", "90853", ("HQ",)), ("c", "S9480", ())],
            [("90853 (", ("a",)), ("S9480", ("c",))],
        ),
    ],
)
def test_a_code_billed_that_the_facilitys_fee_schedule_has_no_price_for_is_blocking(fees, billed, expected):
    issues = check_fee_schedule(billed, fees)
    assert [(i.code, i.severity) for i in issues] == [(FEE_NOT_SCHEDULED, BLOCKING)] * len(expected)
    for issue, (named, entries) in zip(issues, expected, strict=True):
        assert f"no price for {named}" in issue.message and issue.roster_entry_ids == entries
    # About the members billed the code: each claim carries only its own member's.
    assert FEE_NOT_SCHEDULED in MEMBER_ISSUES


# ------------------------------------------------------------------ a draft's findings, re-checked when it is sent

from app.rules.billing import MISSING_DIAGNOSIS, NOTE_UNSIGNED, findings_still_raised  # noqa: E402


def stored(code: BillingIssueCode, severity=BLOCKING, accepted=False) -> dict:
    return BillingIssue(code, severity, "as stored", accepted=accepted).as_json()


@pytest.mark.parametrize(
    "kept, now_raised, expected",
    [
        ([stored(MISSING_DIAGNOSIS)], [], []),  # the diagnosis was recorded: dropped
        ([stored(MISSING_DIAGNOSIS)], [MISSING_DIAGNOSIS], [MISSING_DIAGNOSIS]),  # still missing
        ([stored(BillingIssueCode.MISSING_SUBSCRIBER_ADDRESS)], [], []),  # the address was added
        ([stored(COVERAGE_CONFLICT), stored(NOTE_UNSIGNED, WARNING, True)], [NOTE_UNSIGNED], [NOTE_UNSIGNED]),
        ([], [MISSING_DIAGNOSIS], []),  # nothing is added at submission: billing adds findings
        # Settled on the claim when it was built: the units drawn, the price charged, the payer's number awaited.
        ([stored(BillingIssueCode.AUTH_EXHAUSTED)], [], [BillingIssueCode.AUTH_EXHAUSTED]),
        ([stored(BillingIssueCode.FEE_NOT_SCHEDULED)], [], [BillingIssueCode.FEE_NOT_SCHEDULED]),
        ([stored(BillingIssueCode.PAYER_CLAIM_NUMBER_UNKNOWN)], [], [BillingIssueCode.PAYER_CLAIM_NUMBER_UNKNOWN]),
    ],
)
def test_a_drafts_stored_findings_are_kept_only_while_their_cause_stands(kept, now_raised, expected):
    current = [BillingIssue(code, BLOCKING, "now") for code in now_raised]
    still = findings_still_raised(kept, current)
    assert [f["code"] for f in still] == expected
    assert all(f in kept for f in still)  # kept as stored: its message and acceptance with it
