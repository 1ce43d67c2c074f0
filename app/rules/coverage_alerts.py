"""What the enrollment and the group's roster show of a patient's coverage (issue 29): an authorization that
runs out before the group's last session, and coverage the payer last answered inactive."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.rules.authorizations import Authorization, AuthorizationStatus, UnitKind
from app.rules.billing import IssueSeverity
from app.rules.eligibility import CoverageAnswer


class CoverageAlertCode(StrEnum):
    AUTH_ENDS_BEFORE_GROUP = "AUTH_ENDS_BEFORE_GROUP"  # its end date, or its units or days, fall short
    AUTH_MISSING = "AUTH_MISSING"  # the payer requires one and there is none for the program
    COVERAGE_INACTIVE = "COVERAGE_INACTIVE"


@dataclass(frozen=True)
class CoverageAlert:
    code: CoverageAlertCode
    severity: IssueSeverity
    message: str


@dataclass(frozen=True)
class LatestAnswer:
    status: CoverageAnswer
    service_date: date


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def coverage_alerts(
    *,
    payer_id: Hashable | None,
    authorizations: Sequence[Authorization],
    program: str,
    today: date,
    session_dates: Sequence[date],
    latest: LatestAnswer | None,
    authorization_required: bool = False,
) -> list[CoverageAlert]:
    """`session_dates`: the group's live sessions from today on (the patient's to come)."""
    alerts = []
    if latest is not None and latest.status is CoverageAnswer.INACTIVE:
        alerts.append(
            CoverageAlert(
                CoverageAlertCode.COVERAGE_INACTIVE,
                IssueSeverity.BLOCKING,
                f"The payer answered coverage inactive on {latest.service_date.isoformat()}",
            )
        )
    if payer_id is None:
        return alerts
    held = [
        a
        for a in authorizations
        if a.status is AuthorizationStatus.ACTIVE and a.payer_id == payer_id
        and (a.program == program or a.program is None)
    ]  # fmt: skip
    mine = [a for a in held if a.ends_on >= today]
    if not mine and held and session_dates:
        ended = max(a.ends_on for a in held)
        alerts.append(
            CoverageAlert(
                CoverageAlertCode.AUTH_ENDS_BEFORE_GROUP,
                IssueSeverity.BLOCKING if authorization_required else IssueSeverity.WARNING,
                f"Authorization {', '.join(sorted(a.number for a in held))} ended {ended.isoformat()}, before "
                f"{today.isoformat()}",
            )
        )
        return alerts
    if not mine:
        if authorization_required and session_dates:
            alerts.append(
                CoverageAlert(
                    CoverageAlertCode.AUTH_MISSING, IssueSeverity.BLOCKING, "No prior authorization for the program"
                )
            )
        return alerts
    if not session_dates:
        return alerts
    last = max(session_dates)
    ends = max(a.ends_on for a in mine)
    if ends < last:
        alerts.append(
            CoverageAlert(
                CoverageAlertCode.AUTH_ENDS_BEFORE_GROUP,
                IssueSeverity.WARNING,
                f"Authorization {', '.join(sorted(a.number for a in mine))} ends {ends.isoformat()}, before the "
                f"group's last session on {last.isoformat()}",
            )
        )
        return alerts
    needed = len(session_dates)
    days = len(set(session_dates))
    left = sum(a.remaining for a in mine)
    wanted = days if all(a.unit_kind is UnitKind.DAYS for a in mine) else needed
    if left < wanted:
        noun = "day" if all(a.unit_kind is UnitKind.DAYS for a in mine) else "unit"
        alerts.append(
            CoverageAlert(
                CoverageAlertCode.AUTH_ENDS_BEFORE_GROUP,
                IssueSeverity.WARNING,
                f"Authorization {', '.join(sorted(a.number for a in mine))} has {_plural(left, noun)} left for "
                f"{_plural(wanted, 'session' if noun == 'unit' else 'session day')} to the group's last on "
                f"{last.isoformat()}",
            )
        )
    return alerts
