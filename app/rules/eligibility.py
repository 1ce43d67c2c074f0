"""Eligibility (issue 29): the 270 asked for a member on a session date, what its 271 answer means for the
clinic (active or not, the plan and its dates, behavioral health's copay and coinsurance), and the preview's
COVERAGE_INACTIVE and COVERAGE_NOT_VERIFIED."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

from app.rules.billing import (
    BILLABLE_STATUSES,
    SCHEDULED,
    BillingIssue,
    BillingIssueCode,
    IssueSeverity,
    RosterEntry,
    member_primary_coverage,
)
from app.rules.edi.edi270 import EligibilityInquiry
from app.rules.edi.edi271 import CoverageStatus, EligibilityResponse
from app.rules.edi.x12 import Party, Person

# Service types a behavioral health group asks about: MH mental health, AI substance abuse (X279A1 EB03).
BEHAVIORAL_SERVICE_TYPES = ("MH", "AI")
CENT = Decimal("0.01")
# TRN03 when we have no EIN of our own to give: "9" and nine characters of the originator's choosing.
ORIGINATOR = "9GRPSESSNS"

# Statuses whose coverage the preview checks: those who will be billed, and those not marked yet (caught
# before the session); an absent member is not billed, so their coverage does not matter today.
CHECKED_STATUSES = BILLABLE_STATUSES | {SCHEDULED}


class CoverageAnswer(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    UNKNOWN = "UNKNOWN"  # the payer could not answer (AAA) or said neither


@dataclass(frozen=True)
class CostSharing:
    service_type: str
    copay: Decimal | None
    coinsurance: Decimal | None  # a fraction: 0.2 is 20%


@dataclass(frozen=True)
class EligibilityFacts:
    """What one 271 answer tells the clinic, as stored."""

    status: CoverageAnswer
    plan_name: str | None
    coverage_from: date | None
    coverage_to: date | None
    cost_sharing: tuple[CostSharing, ...]
    rejection: str | None

    def cost_sharing_json(self) -> dict[str, dict[str, str | None]]:
        return {
            c.service_type: {
                "copay": None if c.copay is None else str(c.copay.quantize(CENT)),
                "coinsurance": None if c.coinsurance is None else str(c.coinsurance),
            }
            for c in self.cost_sharing
        }


def cost_sharing_from_json(data: Mapping[str, Mapping[str, str | None]]) -> tuple[CostSharing, ...]:
    return tuple(
        CostSharing(
            service_type,
            None if values.get("copay") is None else Decimal(values["copay"]),
            None if values.get("coinsurance") is None else Decimal(values["coinsurance"]),
        )
        for service_type, values in sorted(data.items())
    )


def trace_number(check_id: uuid.UUID) -> str:
    """TRN02: the check's own id, so the 271's echo finds its question."""
    return check_id.hex.upper()


@dataclass(frozen=True)
class Member:
    """Who is asked about: the patient's name and birth as the payer knows them, and the member id."""

    name: str
    member_id: str
    date_of_birth: date | None = None
    sex: str | None = None


def split_name(name: str) -> tuple[str, str]:
    """ "Last, First" or "First Last" → (last, first)."""
    if "," in name:
        last, first = name.split(",", 1)
        return last.strip(), first.strip()
    parts = name.split()
    return (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (name.strip(), "")


def inquiry_for(
    member: Member, *, service_date: date, payer: Party, provider: Party, check_id: uuid.UUID, at: datetime
) -> EligibilityInquiry:
    """The 270 question for one member on one day: general coverage (30) and behavioral health (MH, AI)."""
    last, first = split_name(member.name)
    return EligibilityInquiry(
        reference=check_id.hex[:30].upper(),
        created_at=at,
        payer=payer,
        provider=provider,
        subscriber=Person(last, first, member.member_id),
        trace_number=trace_number(check_id),
        originator=ORIGINATOR,
        service_date=service_date,
        service_types=("30", *BEHAVIORAL_SERVICE_TYPES),
        date_of_birth=member.date_of_birth,
        sex=member.sex if member.sex in ("M", "F") else None,
    )


def facts_of(response: EligibilityResponse) -> EligibilityFacts:
    """The 271's answer as the clinic keeps it."""
    status = {
        CoverageStatus.ACTIVE: CoverageAnswer.ACTIVE,
        CoverageStatus.INACTIVE: CoverageAnswer.INACTIVE,
    }.get(response.status, CoverageAnswer.UNKNOWN)
    first, last = response.coverage_period
    sharing = tuple(
        CostSharing(s, response.copay(s), response.coinsurance(s))
        for s in BEHAVIORAL_SERVICE_TYPES
        if response.copay(s) is not None or response.coinsurance(s) is not None
    )
    rejection = "; ".join(r.text for r in response.rejections) or None
    return EligibilityFacts(status, response.plan_name, first, last, sharing, rejection)


def answer_for(responses: Sequence[EligibilityResponse], check_id: uuid.UUID) -> EligibilityResponse | None:
    """The answer that echoes the check's trace number."""
    wanted = trace_number(check_id)
    return next((r for r in responses if wanted in r.trace_numbers), None)


# ---------------------------------------------------------------- the preview

PayerId = Hashable


@dataclass(frozen=True)
class CoverageFacts:
    """What the preview knows of its members' coverage: the latest answer per (patient, payer) for the session
    date, and the payers that want an eligibility check before a session is billed."""

    answers: Mapping[tuple[uuid.UUID, PayerId], CoverageAnswer] = field(default_factory=dict)
    eligibility_required: frozenset[PayerId] = frozenset()


def _issue(code: BillingIssueCode, severity: IssueSeverity, members: list[uuid.UUID], what: str) -> BillingIssue:
    count = len(members)
    who = "1 participant's" if count == 1 else f"{count} participants'"
    return BillingIssue(code, severity, f"{who} {what}", roster_entry_ids=tuple(members))


def coverage_issues(
    members: Sequence[RosterEntry],
    patient_by_entry: Mapping[uuid.UUID, uuid.UUID],
    facts: CoverageFacts,
    session_date: date,
) -> list[BillingIssue]:
    """COVERAGE_INACTIVE (BLOCKING) naming every member billed or not yet marked whose payer said their
    coverage is inactive on the date; COVERAGE_NOT_VERIFIED (WARNING) naming those whose payer wants a check
    and has not answered ACTIVE for the date."""
    inactive: list[uuid.UUID] = []
    unverified: list[uuid.UUID] = []
    for member in members:
        if member.status not in CHECKED_STATUSES:
            continue
        coverage = member_primary_coverage(member.coverages, session_date)
        if coverage is None:
            continue
        answer = facts.answers.get((patient_by_entry.get(member.id), coverage.payer_id))
        if answer is CoverageAnswer.INACTIVE:
            inactive.append(member.id)
        elif answer is not CoverageAnswer.ACTIVE and coverage.payer_id in facts.eligibility_required:
            unverified.append(member.id)
    day = session_date.isoformat()
    issues = []
    if inactive:
        issues.append(
            _issue(
                BillingIssueCode.COVERAGE_INACTIVE,
                IssueSeverity.BLOCKING,
                inactive,
                f"coverage is inactive on {day} (the payer's 271)",
            )
        )
    if unverified:
        issues.append(
            _issue(
                BillingIssueCode.COVERAGE_NOT_VERIFIED,
                IssueSeverity.WARNING,
                unverified,
                f"eligibility is not verified for {day}",
            )
        )
    return issues


def next_nightly_run(now: datetime, hour: int) -> datetime:
    """The next moment at `hour`:00 UTC strictly after `now` (aware)."""
    at = now.astimezone(timezone.utc).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)
