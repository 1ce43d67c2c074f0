"""What the enrollment and the roster show of a patient's coverage for a group."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app.rules.authorizations import Authorization, AuthorizationStatus, UnitKind
from app.rules.coverage_alerts import LatestAnswer, coverage_alerts
from app.rules.eligibility import CoverageAnswer

TODAY = date(2026, 3, 10)
SESSIONS = [date(2026, 3, 17), date(2026, 3, 24), date(2026, 4, 7)]


def auth(*, kind=UnitKind.UNITS, authorized=20, used=0, ends=date(2026, 12, 31), program="IOP", payer="P",
         status=AuthorizationStatus.ACTIVE) -> Authorization:  # fmt: skip
    return Authorization(uuid.UUID(int=1), payer, "PA-1", (), program, kind, authorized, used, date(2026, 1, 1),
                         ends, status)  # fmt: skip


@pytest.mark.parametrize(
    ("auths", "latest", "required", "expected"),
    [
        ([auth()], None, False, []),
        ([auth(ends=date(2026, 3, 31))], None, False, ["AUTH_ENDS_BEFORE_GROUP"]),
        ([auth(authorized=2)], None, False, ["AUTH_ENDS_BEFORE_GROUP"]),  # 2 units for 3 sessions
        ([auth(authorized=5, used=2)], None, False, []),  # 3 left for 3
        ([auth(kind=UnitKind.DAYS, authorized=3)], None, False, []),
        ([auth(program="PHP")], None, False, []),  # another program's: nothing to say unless required
        ([auth(program="PHP")], None, True, ["AUTH_MISSING"]),
        ([auth(status=AuthorizationStatus.CANCELLED)], None, True, ["AUTH_MISSING"]),
        ([auth(payer="Q")], None, False, []),
        ([auth()], LatestAnswer(CoverageAnswer.INACTIVE, TODAY), False, ["COVERAGE_INACTIVE"]),
        ([auth()], LatestAnswer(CoverageAnswer.ACTIVE, TODAY), False, []),
        ([auth(ends=date(2026, 3, 1))], None, True, ["AUTH_ENDS_BEFORE_GROUP"]),  # ended before today
        ([auth(ends=date(2026, 3, 1), program="PHP")], None, True, ["AUTH_MISSING"]),
    ],
)
def test_a_patients_coverage_alerts_for_a_group(auths, latest, required, expected):
    alerts = coverage_alerts(payer_id="P", authorizations=auths, program="IOP", today=TODAY, session_dates=SESSIONS,
                             latest=latest, authorization_required=required)  # fmt: skip
    assert [a.code.value for a in alerts] == expected


def test_without_primary_coverage_only_the_payers_answer_shows():
    alerts = coverage_alerts(payer_id=None, authorizations=[], program="IOP", today=TODAY, session_dates=SESSIONS,
                             latest=LatestAnswer(CoverageAnswer.INACTIVE, TODAY))  # fmt: skip
    assert [a.code.value for a in alerts] == ["COVERAGE_INACTIVE"]
