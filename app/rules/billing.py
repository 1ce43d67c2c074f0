"""Billing helpers shared by the live preview and the claim scrubber (rules.md §8, §9)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.rules.attendance import AttendanceStatus
from app.rules.fees import FeeSchedule, facility_fee
from app.rules.notes import SignedNoteRule, is_documented
from app.rules.visits import (
    IN_PERSON,
    TELEHEALTH,
    TELEHEALTH_AUDIO,
    ServiceCoding,
    TelehealthCoding,
    meets_minimum,
    service_coding,
)

OFFICE = "11"  # place of service for an outpatient clinic's room (edi837.OFFICE)


class BillingIssueCode(StrEnum):
    SUPERVISION_RATIO_BREACH = "SUPERVISION_RATIO_BREACH"
    GROUP_SIZE_BAND_MISMATCH = "GROUP_SIZE_BAND_MISMATCH"
    GROUP_UNATTENDED_BILLED = "GROUP_UNATTENDED_BILLED"
    MISSING_DIAGNOSIS = "MISSING_DIAGNOSIS"
    NOTE_UNSIGNED = "NOTE_UNSIGNED"
    BELOW_MINIMUM_MINUTES = "BELOW_MINIMUM_MINUTES"
    # What the 837P needs before a clearinghouse accepts it (claim_content_issues, app.operations.billing).
    MISSING_RENDERING_PROVIDER = "MISSING_RENDERING_PROVIDER"
    MISSING_SUBSCRIBER_ADDRESS = "MISSING_SUBSCRIBER_ADDRESS"
    PAYER_CLAIM_NUMBER_UNKNOWN = "PAYER_CLAIM_NUMBER_UNKNOWN"
    # Coverage as the payer answers it (app.rules.eligibility, app.rules.authorizations, app.rules.program_billing).
    COVERAGE_INACTIVE = "COVERAGE_INACTIVE"
    COVERAGE_NOT_VERIFIED = "COVERAGE_NOT_VERIFIED"
    AUTH_MISSING = "AUTH_MISSING"
    AUTH_EXHAUSTED = "AUTH_EXHAUSTED"
    AUTH_EXPIRED = "AUTH_EXPIRED"
    AUTH_EXPIRING = "AUTH_EXPIRING"
    BELOW_PROGRAM_MINIMUM = "BELOW_PROGRAM_MINIMUM"
    NO_COVERAGE = "NO_COVERAGE"
    GROUP_OF_ONE = "GROUP_OF_ONE"
    MISSING_ARRIVAL_TIME = "MISSING_ARRIVAL_TIME"
    COVERAGE_CONFLICT = "COVERAGE_CONFLICT"
    TELEHEALTH_LOCATION_UNATTESTED = "TELEHEALTH_LOCATION_UNATTESTED"
    AUDIO_ONLY_AWAY_FROM_HOME = "AUDIO_ONLY_AWAY_FROM_HOME"
    FEE_NOT_SCHEDULED = "FEE_NOT_SCHEDULED"


class IssueSeverity(StrEnum):
    BLOCKING = "BLOCKING"
    WARNING = "WARNING"


BILLABLE_STATUSES = frozenset({AttendanceStatus.ATTENDED, AttendanceStatus.LATE})
# A supervisor counts as present on the same statuses a member counts as billable.
PRESENT_STATUSES = BILLABLE_STATUSES
SCHEDULED = AttendanceStatus.SCHEDULED
PRIMARY_PRIORITY = 1

SUPERVISION_RATIO_BREACH = BillingIssueCode.SUPERVISION_RATIO_BREACH
GROUP_SIZE_BAND_MISMATCH = BillingIssueCode.GROUP_SIZE_BAND_MISMATCH
GROUP_UNATTENDED_BILLED = BillingIssueCode.GROUP_UNATTENDED_BILLED
MISSING_DIAGNOSIS = BillingIssueCode.MISSING_DIAGNOSIS
NOTE_UNSIGNED = BillingIssueCode.NOTE_UNSIGNED
BELOW_MINIMUM_MINUTES = BillingIssueCode.BELOW_MINIMUM_MINUTES
NO_COVERAGE = BillingIssueCode.NO_COVERAGE
GROUP_OF_ONE = BillingIssueCode.GROUP_OF_ONE
MISSING_ARRIVAL_TIME = BillingIssueCode.MISSING_ARRIVAL_TIME
COVERAGE_CONFLICT = BillingIssueCode.COVERAGE_CONFLICT
TELEHEALTH_LOCATION_UNATTESTED = BillingIssueCode.TELEHEALTH_LOCATION_UNATTESTED
AUDIO_ONLY_AWAY_FROM_HOME = BillingIssueCode.AUDIO_ONLY_AWAY_FROM_HOME
FEE_NOT_SCHEDULED = BillingIssueCode.FEE_NOT_SCHEDULED
BLOCKING, WARNING = IssueSeverity

# Codes that describe a group: CPT 90853 "Group psychotherapy (other than of a multiple-family
# group)" and 90849 (multiple-family group). A group is two patients or more (the Medicare LCD
# "Psychiatry and Psychology Services", L33632, has the number of participants documented for
# 90853); one patient is individual psychotherapy (90832-90838), coded otherwise.
GROUP_CODES = frozenset({"90853", "90849"})

# Payer ids are whatever the caller keys payers by (a UUID from the database, a string in tests);
# the rules only compare them and hand them back.
PayerId = Hashable


def occurrence_billing_refusal(
    occurrence_cancelled: bool,
    occurrence_window: tuple[datetime, datetime],
    session_window: tuple[datetime, datetime],
    now: datetime,
) -> str | None:
    """Why a session may not be billed because of its scheduling occurrence: cancelled, or moved
    and the session has not followed yet (the feed applies the move after it commits)."""
    if occurrence_cancelled:
        return "The session's occurrence is cancelled; a cancelled session is not billed"
    if occurrence_window[1] > now:
        return "The session's occurrence was moved and has not ended yet"
    if occurrence_window != session_window:
        return "The session's occurrence was just moved; bill it once the session follows"
    return None


def is_billable_status(status: str) -> bool:
    return status in BILLABLE_STATUSES


@dataclass(frozen=True)
class Coverage:
    payer_id: PayerId
    payer_code: str
    priority: int
    effective_from: date
    effective_to: date | None = None
    member_id: str = ""

    def is_primary_on(self, day: date) -> bool:
        """Priority 1 and effective on `day`; both ends of the range are inclusive."""
        if self.priority != PRIMARY_PRIORITY or day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to


@dataclass(frozen=True)
class RosterEntry:
    """A roster member as the caller loaded it: the roster entry's id (a UUID), attendance and coverages;
    the ICD-10-CM codes of the diagnoses active on the session date, in the patient's order; the
    minutes they were there, their note's status, and how they joined."""

    id: uuid.UUID
    status: str
    coverages: tuple[Coverage, ...] = ()
    diagnoses: tuple[str, ...] = ()
    minutes: int | None = None
    note_status: str | None = None
    modality: str = IN_PERSON
    at_home: bool | None = None  # telehealth: where the patient was, as attested (None: not attested)
    has_address: bool = True  # the patient's street, city, state and ZIP: the 837P's 2010BA N3/N4
    arrival_known: bool = True  # a LATE member's arrival time was recorded


@dataclass(frozen=True)
class DocumentationRule:
    """A payer's documentation rule: a signed note before billing, a minimum visit, the states where
    a supervisor co-signs, and its own telehealth coding (CMS's where it has none)."""

    signed_note: SignedNoteRule = SignedNoteRule.WARNING
    minimum_minutes: int | None = None
    late_entry_hours: int | None = None  # None: the facility's window
    cosign_states: frozenset[str] = frozenset()
    telehealth: Mapping[str, TelehealthCoding] = field(default_factory=dict)
    audio_only_away_from_home: bool = False

    def cosign_required(self, state: str) -> bool:
        return state.upper() in self.cosign_states


@dataclass(frozen=True)
class SupervisorAttendance:
    """A session's supervisor as the caller loaded it: the staff member's id and attendance (never billable)."""

    staff_id: uuid.UUID
    status: str


@dataclass(frozen=True)
class Band:
    min_size: int
    max_size: int
    procedure_code: str
    modifiers: tuple[str, ...]
    rate: Decimal

    def contains(self, size: int) -> bool:
        return self.min_size <= size <= self.max_size

    @property
    def label(self) -> str:
        return f"{self.min_size}-{self.max_size}"


@dataclass(frozen=True)
class BillingIssue:
    code: BillingIssueCode
    severity: IssueSeverity
    message: str
    # Roster entry ids: UUIDs from the rules; read back from `claims.validation`, their text as
    # stored (see from_json).
    roster_entry_ids: tuple[uuid.UUID | str, ...] = ()
    accepted: bool = False

    def as_json(self) -> dict[str, Any]:
        """The shape stored in `claims.validation` and read back by the schema."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "accepted": self.accepted,
            "participantIds": [str(pk) for pk in self.roster_entry_ids],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "BillingIssue":
        """Participant ids stay text: raw UUIDs, or global ids on claims validated before the API
        alone encoded them (the schema reads both)."""
        return cls(
            code=BillingIssueCode(data["code"]),
            severity=IssueSeverity(data["severity"]),
            message=data["message"],
            roster_entry_ids=tuple(data.get("participantIds", ())),
            accepted=bool(data.get("accepted", False)),
        )


@dataclass(frozen=True)
class BandResolution:
    band: Band | None
    issue: BillingIssue | None


@dataclass(frozen=True)
class Preview:
    billable_count: int
    payer_id: PayerId | None
    state: str
    band: Band | None
    present_supervisors: int
    max_participants_per_supervisor: int | None
    issues: tuple[BillingIssue, ...]
    ready_to_bill: bool


@dataclass(frozen=True)
class ChargeLine:
    """One billable member's charge: units 1 at the band of the member's own payer; a member with no
    coverage is charged themselves (self-pay) at the band the session is coded to."""

    roster_entry_id: uuid.UUID
    payer_id: PayerId | None  # None: self-pay, the patient's own responsibility (no claim)
    member_id: str
    service_date: date
    procedure_code: str
    modifiers: tuple[str, ...]
    units: int
    amount: Decimal  # the facility's fee for the service (its schedule), else the band's rate
    place_of_service: str = OFFICE
    expected_amount: Decimal | None = None  # the payer's contracted rate (its band's); None: self-pay


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _agree(count: int, verb: str) -> str:
    """The present-tense verb agreeing with `count` ("exceed" → "exceeds" for one)."""
    return verb + "s" if count == 1 else verb


def count_billable(participants: Iterable[RosterEntry]) -> int:
    return sum(1 for p in participants if is_billable_status(p.status))


def count_present_supervisors(supervisors: Iterable[SupervisorAttendance]) -> int:
    return sum(1 for s in supervisors if s.status in PRESENT_STATUSES)


def member_primary_coverage(coverages: Iterable[Coverage], session_date: date) -> Coverage | None:
    """The member's own primary coverage on the date; two at once (bad data) → lowest payerCode."""
    primaries = [c for c in coverages if c.is_primary_on(session_date)]
    return min(primaries, key=lambda c: c.payer_code, default=None)


def resolve_payer(members_coverages: Iterable[Iterable[Coverage]], session_date: date) -> PayerId | None:
    """The primary payer held by most members on the session date; ties go to the lowest payerCode."""
    members_per_payer: Counter[tuple[str, PayerId]] = Counter()
    for coverages in members_coverages:
        # A member counts once per payer, even when the payer appears on two of their policies.
        held = {(c.payer_code, c.payer_id) for c in coverages if c.is_primary_on(session_date)}
        members_per_payer.update(held)
    if not members_per_payer:
        return None
    (_, payer_id), _ = min(members_per_payer.items(), key=lambda item: (-item[1], item[0][0]))
    return payer_id


def _band_issue(severity: IssueSeverity, message: str) -> BillingIssue:
    return BillingIssue(GROUP_SIZE_BAND_MISMATCH, severity, message)


def resolve_group_size_band(bands: Sequence[Band], billable_count: int) -> BandResolution:
    """The band containing the count; in a gap, the next band down with a WARNING (rules.md §8)."""
    if billable_count <= 0:
        return BandResolution(None, None)
    people = _plural(billable_count, "billable participant")
    fall, exceed = _agree(billable_count, "fall"), _agree(billable_count, "exceed")
    if not bands:
        message = f"No group-size bands for this payer and state; {people} cannot be coded"
        return BandResolution(None, _band_issue(BLOCKING, message))
    ordered = sorted(bands, key=lambda b: b.min_size)
    for band in ordered:
        if band.contains(billable_count):
            return BandResolution(band, None)
    lowest, highest = ordered[0], ordered[-1]
    if billable_count < lowest.min_size:
        message = f"{people} {fall} below the lowest band {lowest.label}"
        return BandResolution(None, _band_issue(BLOCKING, message))
    if billable_count > highest.max_size:
        message = f"{people} {exceed} the highest band {highest.label}"
        return BandResolution(None, _band_issue(BLOCKING, message))
    below = max((b for b in ordered if b.max_size < billable_count), key=lambda b: b.max_size)
    above = min((b for b in ordered if b.min_size > billable_count), key=lambda b: b.min_size)
    message = f"{people} {fall} between bands {below.label} and {above.label}; coded to {below.label}"
    return BandResolution(below, _band_issue(WARNING, message))


def check_supervision_ratio(
    billable_count: int, present_supervisors: int, max_participants_per_supervisor: int | None
) -> BillingIssue | None:
    """A WARNING when billable members exceed ratio × present supervisors; exactly at the ratio is fine."""
    if max_participants_per_supervisor is None:
        return None
    if billable_count <= max_participants_per_supervisor * present_supervisors:
        return None
    message = (
        f"{_plural(billable_count, 'billable participant')} {_agree(billable_count, 'exceed')} "
        f"{_plural(present_supervisors, 'supervisor')} × {max_participants_per_supervisor}"
    )
    return BillingIssue(SUPERVISION_RATIO_BREACH, WARNING, message)


def check_unattended(members: Iterable[RosterEntry]) -> BillingIssue | None:
    """A BLOCKING issue naming every member whose attendance was never marked."""
    scheduled = tuple(m.id for m in members if m.status == SCHEDULED)
    if not scheduled:
        return None
    verb = "is" if len(scheduled) == 1 else "are"
    message = f"{_plural(len(scheduled), 'participant')} {verb} still SCHEDULED"
    return BillingIssue(GROUP_UNATTENDED_BILLED, BLOCKING, message, roster_entry_ids=scheduled)


def check_diagnoses(members: Iterable[RosterEntry]) -> BillingIssue | None:
    """A BLOCKING issue naming every billable member with no active diagnosis: their claim has
    nothing to point its service line at."""
    missing = tuple(m.id for m in members if is_billable_status(m.status) and not m.diagnoses)
    if not missing:
        return None
    verb = "has" if len(missing) == 1 else "have"
    message = f"{_plural(len(missing), 'billable participant')} {verb} no active diagnosis on the session date"
    return BillingIssue(MISSING_DIAGNOSIS, BLOCKING, message, roster_entry_ids=missing)


RulesByPayer = Mapping[PayerId, DocumentationRule]


# What applies where a payer has no documentation rule of its own (and to a member with no
# coverage): a signed note as a WARNING, no minimum visit, no co-signature, CMS's telehealth coding.
# The schema documents these defaults on DocumentationRule.
DEFAULT_RULE = DocumentationRule()


def member_rule(member: RosterEntry, session_date: date, rules_by_payer: RulesByPayer) -> DocumentationRule:
    """The documentation rule of the member's own primary payer, or the default rule."""
    coverage = member_primary_coverage(member.coverages, session_date)
    rule = rules_by_payer.get(coverage.payer_id) if coverage is not None else None
    return rule or DEFAULT_RULE


def _below_minimum(member: RosterEntry, rule: DocumentationRule) -> bool:
    if member.minutes is None or not is_billable_status(member.status):
        return False
    return not meets_minimum(member.minutes, rule.minimum_minutes)


def billable_members(
    members: Iterable[RosterEntry], session_date: date, rules_by_payer: RulesByPayer
) -> list[RosterEntry]:
    """ATTENDED or LATE, and there for the minimum minutes of their payer's rule (when it sets one)."""
    return [
        m
        for m in members
        if is_billable_status(m.status) and not _below_minimum(m, member_rule(m, session_date, rules_by_payer))
    ]


def check_minimum_minutes(
    members: Sequence[RosterEntry], session_date: date, rules_by_payer: RulesByPayer
) -> BillingIssue | None:
    """A WARNING naming every present member below their payer's minimum visit, with the minutes:
    they are not billable (and not counted for the band)."""
    short: list[tuple[RosterEntry, int]] = []
    for member in members:
        rule = member_rule(member, session_date, rules_by_payer)
        if _below_minimum(member, rule):
            short.append((member, rule.minimum_minutes))
    if not short:
        return None
    details = "; ".join(f"{m.minutes} of {minimum} minutes" for m, minimum in short)
    verb = "is" if len(short) == 1 else "are"
    message = (
        f"{_plural(len(short), 'participant')} {verb} below the payer's minimum visit and not billable ({details})"
    )
    return BillingIssue(BELOW_MINIMUM_MINUTES, WARNING, message, roster_entry_ids=tuple(m.id for m, _ in short))


def check_unsigned_notes(
    members: Sequence[RosterEntry], session_date: date, state: str, rules_by_payer: RulesByPayer
) -> list[BillingIssue]:
    """One NOTE_UNSIGNED per billable member whose payer's rule wants a signed note (co-signed where
    the rule names the facility's state) and whose note is not there yet; its severity is the rule's.
    A payer with no rule, and a member with no payer, get the default: a signed note, as a WARNING."""
    issues = []
    for member in billable_members(members, session_date, rules_by_payer):
        rule = member_rule(member, session_date, rules_by_payer)
        if rule.signed_note == SignedNoteRule.NONE:
            continue
        needs_cosign = rule.cosign_required(state)
        if is_documented(member.note_status, needs_cosign):
            continue
        if member.note_status is None or member.note_status == "DRAFT":
            message = "The participant's note is not signed"
        else:
            message = "The participant's note awaits a supervisor's co-signature"
        issues.append(
            BillingIssue(NOTE_UNSIGNED, IssueSeverity(rule.signed_note.value), message, roster_entry_ids=(member.id,))
        )
    return issues


def check_coverage(members: Sequence[RosterEntry], session_date: date) -> list[BillingIssue]:
    """Per billable member: NO_COVERAGE (a WARNING: they are charged as self-pay, the patient's own
    responsibility, and no claim is made) when no primary coverage is effective on the date;
    COVERAGE_CONFLICT (BLOCKING: which payer is primary is for the front desk to settle, per the
    coordination-of-benefits rules, not for the biller to guess) when two are."""
    issues = []
    for member in members:
        if not is_billable_status(member.status):
            continue
        primaries = [c for c in member.coverages if c.is_primary_on(session_date)]
        if not primaries:
            message = "The participant has no primary coverage on the session date; charged as self-pay"
            issues.append(BillingIssue(NO_COVERAGE, WARNING, message, roster_entry_ids=(member.id,)))
        elif len(primaries) > 1:
            payers = ", ".join(sorted(c.payer_code for c in primaries))
            message = f"The participant has {len(primaries)} primary coverages on the session date ({payers}); keep one"
            issues.append(BillingIssue(COVERAGE_CONFLICT, BLOCKING, message, roster_entry_ids=(member.id,)))
    return issues


def check_group_of_one(billable_count: int, band: Band | None, *, unmarked: int = 0) -> BillingIssue | None:
    """BLOCKING when the session would bill a group code (90853) for one billable member: a group
    needs two patients at least; one patient's visit is individual therapy, coded otherwise. Not
    while members are unmarked (GROUP_UNATTENDED_BILLED): they may yet make it a group."""
    if billable_count != 1 or unmarked or band is None or band.procedure_code not in GROUP_CODES:
        return None
    message = f"Only 1 billable participant: {band.procedure_code} is a group code and needs at least 2 patients"
    return BillingIssue(GROUP_OF_ONE, BLOCKING, message)


def check_arrival_times(
    members: Sequence[RosterEntry], session_date: date, rules_by_payer: RulesByPayer
) -> BillingIssue | None:
    """BLOCKING, naming every LATE member with no arrival time whose payer sets a minimum visit:
    without the time the minutes cannot be counted, and counting the whole session would bill a
    visit the payer's minimum may exclude. Give the member's arrivedAt (setParticipantVisit)."""
    missing = tuple(
        m.id
        for m in members
        if m.status == AttendanceStatus.LATE
        and not m.arrival_known
        and member_rule(m, session_date, rules_by_payer).minimum_minutes is not None
    )
    if not missing:
        return None
    verb = "has" if len(missing) == 1 else "have"
    message = (
        f"{_plural(len(missing), 'late participant')} {verb} no arrival time, and the payer sets a minimum visit: "
        "record when they arrived"
    )
    return BillingIssue(MISSING_ARRIVAL_TIME, BLOCKING, message, roster_entry_ids=missing)


def check_telehealth(
    members: Sequence[RosterEntry], session_date: date, rules_by_payer: RulesByPayer
) -> list[BillingIssue]:
    """Per billable member joining by telehealth, BLOCKING:
    - TELEHEALTH_LOCATION_UNATTESTED: where the patient was (home: POS 10; elsewhere: 02) is attested
      on the roster row, never assumed;
    - AUDIO_ONLY_AWAY_FROM_HOME: audio-only (modifier 93) with the patient away from home, unless the
      payer's rule allows it. Medicare allows audio-only for behavioral health with the patient at
      home (42 CFR 410.78(a)(3), since the CY 2022 Physician Fee Schedule), and payers commonly follow."""
    unattested, away = [], []
    for member in members:
        if not is_billable_status(member.status) or member.modality not in TELEHEALTH:
            continue
        if member.at_home is None:
            unattested.append(member.id)
        elif (
            member.modality == TELEHEALTH_AUDIO
            and not member.at_home
            and not member_rule(member, session_date, rules_by_payer).audio_only_away_from_home
        ):
            away.append(member.id)
    issues = []
    if unattested:
        message = (
            f"{_plural(len(unattested), 'telehealth participant')}: where the patient was is not attested "
            "(patientAtHome)"
        )
        issues.append(BillingIssue(TELEHEALTH_LOCATION_UNATTESTED, BLOCKING, message, tuple(unattested)))
    if away:
        message = (
            f"{_plural(len(away), 'participant')} joined audio-only away from home; the payer pays audio-only "
            "with the patient at home"
        )
        issues.append(BillingIssue(AUDIO_ONLY_AWAY_FROM_HOME, BLOCKING, message, tuple(away)))
    return issues


def check_fee_schedule(billed: Iterable[tuple[uuid.UUID, str, Sequence[str]]], fees: FeeSchedule) -> list[BillingIssue]:
    """BLOCKING, one per code (with its modifiers) billed to a member (roster entry id, code, modifiers) that
    the facility's fee schedule has no price for, naming the code and the members: a facility that keeps a
    schedule bills every service at its own price, and a code left off it would go out at the payer's rate
    instead, unnoticed. Priced: the code with its modifiers, without its delivery modifiers, or on its own
    (rules.fees.facility_fee). A facility with no schedule at all bills at the payers' rates (no finding)."""
    if not fees:
        return []
    unpriced: dict[tuple[str, tuple[str, ...]], list[uuid.UUID]] = {}
    for entry_id, code, modifiers in billed:
        if facility_fee(fees, code, modifiers) is None:
            unpriced.setdefault((code, tuple(modifiers)), []).append(entry_id)
    issues = []
    for (code, modifiers), entries in unpriced.items():
        label = code + (f" with modifiers {', '.join(modifiers)}" if modifiers else "")
        message = (
            f"The facility's fee schedule has no price for {label} ({_plural(len(entries), 'participant')}); "
            "add it (setFacilityFeeSchedule) rather than bill the payer's rate"
        )
        issues.append(BillingIssue(FEE_NOT_SCHEDULED, BLOCKING, message, roster_entry_ids=tuple(entries)))
    return issues


# Findings about one member: a claim carries only its own member's.
MEMBER_ISSUES = frozenset(
    {
        NOTE_UNSIGNED,
        BillingIssueCode.MISSING_SUBSCRIBER_ADDRESS,
        BillingIssueCode.COVERAGE_INACTIVE,
        BillingIssueCode.COVERAGE_NOT_VERIFIED,
        BillingIssueCode.AUTH_MISSING,
        BillingIssueCode.AUTH_EXHAUSTED,
        BillingIssueCode.AUTH_EXPIRED,
        BillingIssueCode.AUTH_EXPIRING,
        BillingIssueCode.BELOW_PROGRAM_MINIMUM,
        BillingIssueCode.NO_COVERAGE,
        BillingIssueCode.COVERAGE_CONFLICT,
        BillingIssueCode.MISSING_ARRIVAL_TIME,
        BillingIssueCode.TELEHEALTH_LOCATION_UNATTESTED,
        BillingIssueCode.AUDIO_ONLY_AWAY_FROM_HOME,
        BillingIssueCode.FEE_NOT_SCHEDULED,
    }
)


# What a DRAFT claim stored when it was built that billing itself settled on the claim, not re-checked when it
# is submitted: an authorization's units (drawn then), the price charged (the fee schedule then), and the
# payer's claim number a correction waits for (released when it arrives).
NOT_RECHECKED = frozenset(
    {
        BillingIssueCode.AUTH_MISSING,
        BillingIssueCode.AUTH_EXHAUSTED,
        BillingIssueCode.AUTH_EXPIRED,
        BillingIssueCode.AUTH_EXPIRING,
        BillingIssueCode.FEE_NOT_SCHEDULED,
        BillingIssueCode.PAYER_CLAIM_NUMBER_UNKNOWN,
    }
)


def findings_still_raised(stored: Sequence[Mapping[str, Any]], current: Iterable[BillingIssue]) -> list[dict]:
    """A DRAFT claim's stored findings that still hold when it is submitted: those not re-checked, and those
    the data as it stands (`current`, the claim's own findings from the session's preview now) still raises.
    A finding whose cause was fixed since the claim was built (a diagnosis or an address recorded, a coverage
    settled) is dropped; none is added, and what is kept is kept as stored (its acceptance with it)."""
    raised = {issue.code for issue in current}
    return [dict(f) for f in stored if f.get("code") in NOT_RECHECKED or f.get("code") in raised]


def claim_issues(preview: Preview, roster_entry_id: uuid.UUID | None) -> tuple[BillingIssue, ...]:
    """The preview's findings a member's claim carries: every session-wide one, and the per-member
    ones (an unsigned note) only when they are about this member."""
    return tuple(i for i in preview.issues if i.code not in MEMBER_ISSUES or roster_entry_id in i.roster_entry_ids)


def _with_acceptance(issue: BillingIssue, accepted_codes: Collection[str]) -> BillingIssue:
    # BLOCKING issues cannot be accepted, whatever the caller has on record.
    if issue.severity != WARNING or issue.code not in accepted_codes:
        return issue
    return BillingIssue(issue.code, issue.severity, issue.message, issue.roster_entry_ids, accepted=True)


def is_ready_to_bill(members: Iterable[RosterEntry], issues: Iterable[BillingIssue]) -> bool:
    """No SCHEDULED member, no BLOCKING issue, every WARNING accepted."""
    if any(m.status == SCHEDULED for m in members):
        return False
    return all(i.severity == WARNING and i.accepted for i in issues)


def claim_content_issues(billable: Sequence[RosterEntry], rendering_provider_known: bool) -> list[BillingIssue]:
    """What the 837P needs of the session and its members before a clearinghouse accepts it: the clinician
    who rendered the service (2310B, NM1*82 with an NPI: the billing provider is an organization) and, as the
    subscriber is the patient, the patient's address (2010BA N3/N4). Both BLOCKING."""
    issues = []
    if billable and not rendering_provider_known:
        message = "The session has no rendering clinician with an NPI (837P 2310B); name its facilitator"
        issues.append(BillingIssue(BillingIssueCode.MISSING_RENDERING_PROVIDER, BLOCKING, message))
    for member in billable:
        if not member.has_address:
            message = "The patient has no address; the 837P's subscriber (2010BA N3/N4) needs it"
            issues.append(
                BillingIssue(
                    BillingIssueCode.MISSING_SUBSCRIBER_ADDRESS, BLOCKING, message, roster_entry_ids=(member.id,)
                )
            )
    return issues


def build_billing_preview(
    *,
    members: Sequence[RosterEntry],
    supervisors: Sequence[SupervisorAttendance],
    session_date: date,
    state: str,
    bands_by_payer: Mapping[PayerId, Sequence[Band]],
    ratio_by_payer: Mapping[PayerId, int],
    accepted_codes: Collection[str] = frozenset(),
    rules_by_payer: RulesByPayer | None = None,
    rendering_provider_known: bool = True,
    member_issues: Sequence[BillingIssue] = (),
) -> Preview:
    """The preview and the scrubber's findings, from data the caller loaded for the facility's state;
    `member_issues`: what other rules found about members (coverage, authorizations: app.rules.eligibility).

    `bands_by_payer` and `ratio_by_payer` hold the band tables and supervision rules of the
    facility's state, keyed by payer id; a payer missing from `bands_by_payer` has no band table.
    """
    rules_by_payer = rules_by_payer or {}
    billable_count = len(billable_members(members, session_date, rules_by_payer))
    present = count_present_supervisors(supervisors)
    payer_id = resolve_payer((m.coverages for m in members), session_date)
    found: list[BillingIssue | None] = [
        check_unattended(members),
        check_diagnoses(billable_members(members, session_date, rules_by_payer)),
        check_minimum_minutes(members, session_date, rules_by_payer),
    ]
    found += check_unsigned_notes(members, session_date, state, rules_by_payer)
    found += check_coverage(members, session_date)
    found.append(check_arrival_times(members, session_date, rules_by_payer))
    found += check_telehealth(members, session_date, rules_by_payer)
    found += claim_content_issues(billable_members(members, session_date, rules_by_payer), rendering_provider_known)
    found += member_issues
    band: Band | None = None
    ratio: int | None = None
    # Without a payer there is no band table or rule to check against (rules.md §8).
    if payer_id is not None:
        resolution = resolve_group_size_band(bands_by_payer.get(payer_id, ()), billable_count)
        band = resolution.band
        ratio = ratio_by_payer.get(payer_id)
        found += [resolution.issue, check_supervision_ratio(billable_count, present, ratio)]
        unmarked = sum(1 for m in members if m.status == SCHEDULED)
        found.append(check_group_of_one(billable_count, band, unmarked=unmarked))
    issues = tuple(_with_acceptance(i, accepted_codes) for i in found if i is not None)
    return Preview(
        billable_count=billable_count,
        payer_id=payer_id,
        state=state,
        band=band,
        present_supervisors=present,
        max_participants_per_supervisor=ratio,
        issues=issues,
        ready_to_bill=is_ready_to_bill(members, issues),
    )


def member_charge(
    band_for_payer: Band | None,
    *,
    roster_entry_id: uuid.UUID,
    coverage: Coverage | None,
    service_date: date,
    coding: ServiceCoding | None = None,
    fees: FeeSchedule | None = None,
) -> ChargeLine | None:
    """The member's charge at the band of their own payer (self-pay without coverage), coded for how
    they joined; no band, no charge."""
    if band_for_payer is None:
        return None
    coding = coding or ServiceCoding(OFFICE, band_for_payer.modifiers)
    fee = facility_fee(fees or {}, band_for_payer.procedure_code, coding.modifiers)
    return ChargeLine(
        roster_entry_id=roster_entry_id,
        payer_id=coverage.payer_id if coverage is not None else None,
        member_id=coverage.member_id if coverage is not None else "",
        service_date=service_date,
        procedure_code=band_for_payer.procedure_code,
        modifiers=coding.modifiers,
        units=1,
        amount=fee if fee is not None else band_for_payer.rate,
        place_of_service=coding.place_of_service,
        expected_amount=band_for_payer.rate if coverage is not None else None,
    )


def charge_lines(
    members: Sequence[RosterEntry],
    *,
    session_date: date,
    bands_by_payer: Mapping[PayerId, Sequence[Band]],
    rules_by_payer: RulesByPayer | None = None,
    facility_place_of_service: str = OFFICE,
    fees: FeeSchedule | None = None,
) -> tuple[ChargeLine, ...]:
    """One charge per billable member, each at their own payer's band for the session's billable count,
    with the place of service and modifiers of how the member joined.

    Each charge is billed at the facility's fee for the code and modifiers (`fees`), the same to
    every payer, with the payer's band rate as the expected payment; a code the facility has no fee
    for is billed at the band's rate. A billable member with no primary coverage is charged as self-pay (no payer, no claim) at the
    band of the session's payer. A member whose payer has no band for the count (or, self-pay, a
    session with no payer) gets no charge; the caller can tell them apart by participant id.
    """
    rules_by_payer = rules_by_payer or {}
    billable = billable_members(members, session_date, rules_by_payer)
    session_payer = resolve_payer((m.coverages for m in members), session_date)
    lines: list[ChargeLine] = []
    for member in billable:
        coverage = member_primary_coverage(member.coverages, session_date)
        priced_by = coverage.payer_id if coverage is not None else session_payer
        band = resolve_group_size_band(bands_by_payer.get(priced_by, ()), len(billable)).band
        rule = member_rule(member, session_date, rules_by_payer)
        coding = service_coding(
            member.modality,
            patient_at_home=bool(member.at_home),  # unattested: TELEHEALTH_LOCATION_UNATTESTED holds it
            band_modifiers=band.modifiers if band else (),
            facility_place_of_service=facility_place_of_service,
            overrides=rule.telehealth,
        )
        line = member_charge(
            band, roster_entry_id=member.id, coverage=coverage, service_date=session_date, coding=coding, fees=fees
        )
        if line is not None:
            lines.append(line)
    return tuple(lines)
