"""Prior authorizations (issue 29): which authorization a billed unit or day draws from, what the preview
says when there is none (AUTH_MISSING), none left (AUTH_EXHAUSTED), none for the date (AUTH_EXPIRED) or the
end is near (AUTH_EXPIRING), and what a new or changed authorization may hold."""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from app.rules.billing import (
    BillingIssue,
    BillingIssueCode,
    IssueSeverity,
    RosterEntry,
    member_primary_coverage,
)
from app.rules.eligibility import CHECKED_STATUSES

PayerId = Hashable
AUTHORIZATION_NUMBER = re.compile(r"[A-Za-z0-9-]{1,50}")
PROCEDURE_CODE = re.compile(r"[A-Z0-9]{5}")


class UnitKind(StrEnum):
    UNITS = "UNITS"  # each billed unit of a matching code
    DAYS = "DAYS"  # each day a matching code is billed, once however many lines


class AuthorizationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class AuthorizationStanding(StrEnum):
    """Where an authorization stands on a day, derived from its status, date range and units (a status is
    only ACTIVE or CANCELLED)."""

    ACTIVE = "ACTIVE"  # in its range with units or days left
    NOT_YET_ACTIVE = "NOT_YET_ACTIVE"  # its range starts later
    EXHAUSTED = "EXHAUSTED"  # in its range, nothing left
    EXPIRED = "EXPIRED"  # its range ended (whatever is left)
    CANCELLED = "CANCELLED"  # withdrawn


@dataclass(frozen=True)
class Authorization:
    id: uuid.UUID
    payer_id: PayerId
    number: str
    service_codes: tuple[str, ...]
    program: str | None
    unit_kind: UnitKind
    authorized: int
    used: int
    starts_on: date
    ends_on: date
    status: AuthorizationStatus = AuthorizationStatus.ACTIVE

    @property
    def remaining(self) -> int:
        return self.authorized - self.used

    def covers_service(self, procedure_code: str | None, program: str | None) -> bool:
        """Its codes name the code, or its program is the session's."""
        if procedure_code is not None and procedure_code in self.service_codes:
            return True
        return self.program is not None and self.program == program

    def in_range(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def standing(authorization: Authorization, today: date) -> AuthorizationStanding:
    """CANCELLED first, then by date (EXPIRED after its end, NOT_YET_ACTIVE before its start), then EXHAUSTED
    when no unit or day is left; else ACTIVE."""
    if authorization.status is AuthorizationStatus.CANCELLED:
        return AuthorizationStanding.CANCELLED
    if today > authorization.ends_on:
        return AuthorizationStanding.EXPIRED
    if today < authorization.starts_on:
        return AuthorizationStanding.NOT_YET_ACTIVE
    if authorization.remaining <= 0:
        return AuthorizationStanding.EXHAUSTED
    return AuthorizationStanding.ACTIVE


def standing_changes_on(authorization: Authorization, today: date) -> date | None:
    """The next day the standing changes with the date alone (its start, or the day after its end); None when
    only a write can change it."""
    if authorization.status is AuthorizationStatus.CANCELLED or today > authorization.ends_on:
        return None
    if today < authorization.starts_on:
        return authorization.starts_on
    return authorization.ends_on + timedelta(days=1)


@dataclass(frozen=True)
class PayerAuthorizationRule:
    required: bool = False
    expiring_days: int = 7
    expiring_units: int = 2


@dataclass(frozen=True)
class Draw:
    """What one charge takes: `units` from `authorization` (0 for a DAYS authorization already drawn that day)."""

    authorization: Authorization
    units: int


def units_to_draw(authorization: Authorization, units: int, day_already_drawn: bool) -> int:
    if authorization.unit_kind is UnitKind.DAYS:
        return 0 if day_already_drawn else 1
    return units


def pick(
    authorizations: Iterable[Authorization],
    *,
    payer_id: PayerId,
    day: date,
    procedure_code: str | None,
    program: str | None,
    units: int,
    days_drawn: Mapping[uuid.UUID, frozenset[date]] | None = None,
) -> Draw | None:
    """The active authorization of the payer covering the service on the day with enough left, ending
    soonest (use the one that runs out first); None when there is none."""
    days_drawn = days_drawn or {}
    candidates = []
    for auth in authorizations:
        if auth.status is not AuthorizationStatus.ACTIVE or auth.payer_id != payer_id or not auth.in_range(day):
            continue
        if not auth.covers_service(procedure_code, program):
            continue
        needed = units_to_draw(auth, units, day in days_drawn.get(auth.id, frozenset()))
        if needed <= auth.remaining:
            candidates.append(Draw(auth, needed))
    return min(candidates, key=lambda d: (d.authorization.ends_on, d.authorization.number), default=None)


def is_expiring(authorization: Authorization, day: date, rule: PayerAuthorizationRule) -> bool:
    """Within the payer's days of its end, or its units within the payer's units of running out."""
    return (authorization.ends_on - day).days <= rule.expiring_days or authorization.remaining <= rule.expiring_units


def expiring_message(authorization: Authorization, day: date) -> str:
    left = authorization.remaining
    noun = "day" if authorization.unit_kind is UnitKind.DAYS else "unit"
    return (
        f"authorization {authorization.number} has {left} {noun}{'' if left == 1 else 's'} left and ends "
        f"{authorization.ends_on.isoformat()} ({(authorization.ends_on - day).days} days after {day.isoformat()})"
    )


@dataclass(frozen=True)
class AuthorizationFacts:
    """The preview's authorizations: each patient's, and each payer's rule."""

    by_patient: Mapping[uuid.UUID, Sequence[Authorization]] = field(default_factory=dict)
    rules: Mapping[PayerId, PayerAuthorizationRule] = field(default_factory=dict)


def member_finding(
    authorizations: Sequence[Authorization],
    *,
    payer_id: PayerId,
    day: date,
    procedure_codes: Iterable[str],
    program: str | None,
    rule: PayerAuthorizationRule,
) -> tuple[BillingIssueCode, IssueSeverity, str] | None:
    """What the preview says of one member's authorization for a unit on the day."""
    codes = set(procedure_codes)
    relevant = [
        a
        for a in authorizations
        if a.status is AuthorizationStatus.ACTIVE
        and a.payer_id == payer_id
        and (a.covers_service(None, program) or codes & set(a.service_codes))
    ]
    if not relevant:
        if not rule.required:
            return None
        return (
            BillingIssueCode.AUTH_MISSING,
            IssueSeverity.BLOCKING,
            "The participant has no prior authorization on file",
        )
    severity = IssueSeverity.BLOCKING if rule.required else IssueSeverity.WARNING
    in_range = [a for a in relevant if a.in_range(day)]
    if not in_range:
        numbers = ", ".join(sorted(a.number for a in relevant))
        return (
            BillingIssueCode.AUTH_EXPIRED,
            severity,
            f"The participant's authorization {numbers} does not cover {day.isoformat()}",
        )
    left = [a for a in in_range if a.remaining > 0]
    if not left:
        numbers = ", ".join(sorted(a.number for a in in_range))
        return BillingIssueCode.AUTH_EXHAUSTED, severity, f"The participant's authorization {numbers} has no units left"
    chosen = min(left, key=lambda a: (a.ends_on, a.number))
    if is_expiring(chosen, day, rule):
        return (
            BillingIssueCode.AUTH_EXPIRING,
            IssueSeverity.WARNING,
            "The participant's " + expiring_message(chosen, day),
        )
    return None


def authorization_issues(
    members: Sequence[RosterEntry],
    patient_by_entry: Mapping[uuid.UUID, uuid.UUID],
    facts: AuthorizationFacts,
    *,
    session_date: date,
    procedure_codes_by_payer: Mapping[PayerId, Iterable[str]],
    program: str | None,
) -> list[BillingIssue]:
    """One issue per member billed or not yet marked whose authorization is missing (where the payer wants
    one), used up, out of its range, or near its end."""
    issues = []
    for member in members:
        if member.status not in CHECKED_STATUSES:
            continue
        coverage = member_primary_coverage(member.coverages, session_date)
        if coverage is None:
            continue
        rule = facts.rules.get(coverage.payer_id, PayerAuthorizationRule())
        found = member_finding(
            facts.by_patient.get(patient_by_entry.get(member.id), ()),
            payer_id=coverage.payer_id,
            day=session_date,
            procedure_codes=procedure_codes_by_payer.get(coverage.payer_id, ()),
            program=program,
            rule=rule,
        )
        if found is not None:
            code, severity, what = found
            issues.append(BillingIssue(code, severity, what, roster_entry_ids=(member.id,)))
    return issues


def authorization_problems(
    *, number: str, service_codes: Sequence[str], program: str | None, authorized: int, starts_on: date, ends_on: date
) -> list[str]:
    """What a new or changed authorization may not hold."""
    problems = []
    if not AUTHORIZATION_NUMBER.fullmatch(number or ""):
        problems.append("number is 1 to 50 letters, digits or hyphens")
    if not service_codes and not program:
        problems.append("an authorization names service codes or a program")
    problems += [
        f"{c!r} is not a procedure code (5 letters or digits)" for c in service_codes if not PROCEDURE_CODE.fullmatch(c)
    ]
    if authorized < 1:
        problems.append("authorized must be at least 1")
    if ends_on < starts_on:
        problems.append("endsOn must not be before startsOn")
    return problems
