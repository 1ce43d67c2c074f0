"""Program billing per diem (issue 29): a payer may bill an IOP or PHP patient's day once, with its program
code (S9480 IOP, H0015 SUD IOP, H0035 PHP, or its own), when the time they were present across that day's
program sessions, overlaps counted once (as compliance counts), reaches the payer's minimum hours."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.rules.billing import (
    BILLABLE_STATUSES,
    SCHEDULED,
    BillingIssue,
    BillingIssueCode,
    ChargeLine,
    Coverage,
    IssueSeverity,
    PayerId,
    RosterEntry,
    member_primary_coverage,
)
from app.rules.compliance import union_hours
from app.rules.fees import FeeSchedule, facility_fee

PROCEDURE_CODE = re.compile(r"[A-Z0-9]{5}")
MODIFIER = re.compile(r"[A-Z0-9]{2}")
# The programs a payer may bill per diem: the group types of the compliance rule.
PROGRAMS = ("IOP", "PHP")
PER_DIEM_UNITS = 1


@dataclass(frozen=True)
class ProgramRule:
    """A payer's per-diem billing of a program."""

    program: str
    procedure_code: str
    modifiers: tuple[str, ...]
    rate: Decimal
    minimum_hours: Decimal
    sessions_bill_too: bool = False  # the program's group sessions are billed on their own as well


@dataclass(frozen=True)
class ProgramStay:
    """One of the patient's program sessions of the day: its window, their attendance and stay, and whether
    it is settled (billed or cancelled: its attendance is final for billing)."""

    session_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: str
    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    settled: bool = True
    cancelled: bool = False


class DayDecision(StrEnum):
    WAIT = "WAIT"  # a session of the day is not settled yet
    BILL = "BILL"  # present for the minimum: the day's one per-diem line
    BELOW_MINIMUM = "BELOW_MINIMUM"  # present, but short of the minimum: BELOW_PROGRAM_MINIMUM
    ABSENT = "ABSENT"  # not present at all: nothing to bill or say


@dataclass(frozen=True)
class ProgramDay:
    decision: DayDecision
    hours: float
    minimum: Decimal


def present_window(stay: ProgramStay) -> tuple[datetime, datetime] | None:
    """When the patient was in the session: from arrival (or the start) to departure (or the end), clipped to
    the session; None when not there."""
    if stay.cancelled or stay.status not in BILLABLE_STATUSES:
        return None
    start = max(stay.arrived_at or stay.starts_at, stay.starts_at)
    end = min(stay.departed_at or stay.ends_at, stay.ends_at)
    return (start, end) if end > start else None


def present_hours(stays: Iterable[ProgramStay]) -> float:
    """Elapsed hours present across the stays, overlapping time counted once (a DST night changes nothing:
    the times are instants)."""
    return round(union_hours(w for w in map(present_window, stays) if w is not None), 2)


def program_day(stays: Sequence[ProgramStay], rule: ProgramRule) -> ProgramDay:
    """Whether the patient's day bills per diem, once every program session of the day is settled."""
    hours = present_hours(stays)
    if any(not s.settled and not s.cancelled for s in stays):
        return ProgramDay(DayDecision.WAIT, hours, rule.minimum_hours)
    if hours <= 0:
        return ProgramDay(DayDecision.ABSENT, hours, rule.minimum_hours)
    if Decimal(str(hours)) >= rule.minimum_hours:
        return ProgramDay(DayDecision.BILL, hours, rule.minimum_hours)
    return ProgramDay(DayDecision.BELOW_MINIMUM, hours, rule.minimum_hours)


def day_is_marked(stays: Sequence[ProgramStay]) -> bool:
    """Every live session of the day has the patient's attendance: the preview can judge the day."""
    return all(s.cancelled or s.status != SCHEDULED for s in stays)


def _hours(value: float | Decimal) -> str:
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def below_minimum_issue(roster_entry_id: uuid.UUID, day: ProgramDay, program: str) -> BillingIssue:
    message = (
        f"The participant was present {_hours(day.hours)} of the {_hours(day.minimum)} {program} hours the payer "
        "requires that day; the day is not billed per diem"
    )
    return BillingIssue(
        BillingIssueCode.BELOW_PROGRAM_MINIMUM, IssueSeverity.WARNING, message, roster_entry_ids=(roster_entry_id,)
    )


def per_diem_line(
    rule: ProgramRule, *, patient_id: uuid.UUID, coverage: Coverage, day: date, fees: FeeSchedule
) -> ChargeLine:
    """The patient's day billed per diem: the program's code, billed at the facility's fee for it (its fee
    schedule, as a session's lines are; the payer's rate where the schedule has no price), with the payer's
    per-diem rate as the expected payment."""
    fee = facility_fee(fees, rule.procedure_code, rule.modifiers)
    return ChargeLine(
        roster_entry_id=patient_id,
        payer_id=coverage.payer_id,
        member_id=coverage.member_id,
        service_date=day,
        procedure_code=rule.procedure_code,
        modifiers=rule.modifiers,
        units=PER_DIEM_UNITS,
        amount=fee if fee is not None else rule.rate,
        expected_amount=rule.rate,
    )


def local_day(moment: datetime, timezone_name: str) -> date:
    return moment.astimezone(ZoneInfo(timezone_name)).date()


def anchor_session(stays: Sequence[ProgramStay]) -> uuid.UUID:
    """The session a day's per-diem charge hangs on: the day's last live one (by end, then id)."""
    live = [s for s in stays if not s.cancelled] or list(stays)
    return max(live, key=lambda s: (s.ends_at, s.session_id)).session_id


def program_rule_problems(
    *, program: str, procedure_code: str, modifiers: Sequence[str], rate: Decimal, minimum_hours: Decimal
) -> list[str]:
    problems = []
    if program not in PROGRAMS:
        problems.append(f"program must be one of {', '.join(PROGRAMS)}")
    if not PROCEDURE_CODE.fullmatch(procedure_code):
        problems.append(f"{procedure_code!r} is not a procedure code (5 letters or digits)")
    if len(modifiers) > 4 or any(not MODIFIER.fullmatch(m) for m in modifiers):
        problems.append("modifiers are up to four codes of 2 letters or digits")
    if rate < 0:
        problems.append("rate must not be negative")
    if not Decimal(0) < minimum_hours <= Decimal(24):
        problems.append("minimumHours must be more than 0 and at most 24")
    return problems


def program_issues(
    members: Sequence[RosterEntry],
    patient_by_entry: Mapping[uuid.UUID, uuid.UUID],
    rules_by_payer: Mapping[PayerId, ProgramRule],
    stays_by_patient: Mapping[uuid.UUID, Sequence[ProgramStay]],
    session_date: date,
) -> list[BillingIssue]:
    """BELOW_PROGRAM_MINIMUM for each present member billed per diem whose day, every session of it marked,
    falls short of the payer's minimum hours."""
    issues = []
    for member in members:
        if member.status not in BILLABLE_STATUSES:
            continue
        coverage = member_primary_coverage(member.coverages, session_date)
        rule = rules_by_payer.get(coverage.payer_id) if coverage is not None else None
        stays = stays_by_patient.get(patient_by_entry.get(member.id), ())
        if rule is None or not stays or not day_is_marked(stays):
            continue
        day = program_day([replace(s, settled=True) for s in stays], rule)
        if day.decision is DayDecision.BELOW_MINIMUM:
            issues.append(below_minimum_issue(member.id, day, rule.program))
    return issues


def bills_on_its_own(payer_id: PayerId, rules_by_payer: Mapping[PayerId, ProgramRule]) -> bool:
    """A session's own line for a member whose payer bills the program per diem only when the payer says the
    program's group sessions bill as well."""
    rule = rules_by_payer.get(payer_id)
    return rule is None or rule.sessions_bill_too


def per_diem_services(
    members: Sequence[RosterEntry], rules_by_payer: Mapping[PayerId, ProgramRule], session_date: date
) -> list[tuple[uuid.UUID, str, tuple[str, ...]]]:
    """What each present member's day is billed as per diem (roster entry id, program code, modifiers), where
    their payer bills the session's program so: the fee schedule is checked for it before the day is billed."""
    services = []
    for member in members:
        if member.status not in BILLABLE_STATUSES:
            continue
        coverage = member_primary_coverage(member.coverages, session_date)
        rule = rules_by_payer.get(coverage.payer_id) if coverage is not None else None
        if rule is not None:
            services.append((member.id, rule.procedure_code, rule.modifiers))
    return services
