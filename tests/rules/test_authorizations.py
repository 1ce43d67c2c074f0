"""Prior authorizations: which one a unit or day draws from, and what the preview says of a member's."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app.rules.authorizations import (
    Authorization,
    AuthorizationStanding,
    AuthorizationStatus,
    PayerAuthorizationRule,
    UnitKind,
    authorization_problems,
    member_finding,
    pick,
    standing,
    standing_changes_on,
)

DAY = date(2026, 3, 10)
A, B = uuid.UUID(int=1), uuid.UUID(int=2)


def auth(pk=A, *, codes=("90853",), program=None, kind=UnitKind.UNITS, authorized=10, used=0,
         starts=date(2026, 3, 1), ends=date(2026, 3, 31), payer="P", status=AuthorizationStatus.ACTIVE,
         number=None) -> Authorization:  # fmt: skip
    return Authorization(
        pk, payer, number or f"PA{pk.int}", codes, program, kind, authorized, used, starts, ends, status
    )


@pytest.mark.parametrize(
    ("auths", "code", "program", "expected"),
    [
        ([auth()], "90853", "THERAPY", (A, 1)),
        ([auth(codes=("H0015",))], "90853", "THERAPY", None),  # another code
        ([auth(codes=(), program="IOP")], "S9480", "IOP", (A, 1)),  # the program's
        ([auth(used=10)], "90853", None, None),  # nothing left
        ([auth(ends=date(2026, 3, 9))], "90853", None, None),  # ended the day before
        ([auth(status=AuthorizationStatus.CANCELLED)], "90853", None, None),
        ([auth(payer="Q")], "90853", None, None),  # another payer's
        ([auth(A, ends=date(2026, 4, 30)), auth(B, ends=date(2026, 3, 20))], "90853", None, (B, 1)),  # soonest end
        ([auth(A, used=10), auth(B)], "90853", None, (B, 1)),  # the one with units left
    ],
)
def test_a_unit_draws_from_the_covering_authorization_that_ends_first(auths, code, program, expected):
    draw = pick(auths, payer_id="P", day=DAY, procedure_code=code, program=program, units=1)
    assert (None if draw is None else (draw.authorization.id, draw.units)) == expected


@pytest.mark.parametrize(("drawn_days", "units"), [(frozenset(), 1), (frozenset({DAY}), 0)])
def test_a_days_authorization_takes_a_day_once(drawn_days, units):
    draw = pick([auth(kind=UnitKind.DAYS)], payer_id="P", day=DAY, procedure_code="90853", program=None, units=4,
                days_drawn={A: drawn_days})  # fmt: skip
    assert draw is not None and draw.units == units


REQUIRED = PayerAuthorizationRule(required=True, expiring_days=7, expiring_units=2)
OPTIONAL = PayerAuthorizationRule(required=False, expiring_days=7, expiring_units=2)


@pytest.mark.parametrize(
    ("auths", "rule", "expected"),
    [
        ([], OPTIONAL, None),
        ([], REQUIRED, ("AUTH_MISSING", "BLOCKING")),
        ([auth(codes=("H0015",))], REQUIRED, ("AUTH_MISSING", "BLOCKING")),
        ([auth(starts=date(2026, 4, 1), ends=date(2026, 4, 30))], REQUIRED, ("AUTH_EXPIRED", "BLOCKING")),
        ([auth(starts=date(2026, 4, 1), ends=date(2026, 4, 30))], OPTIONAL, ("AUTH_EXPIRED", "WARNING")),
        ([auth(used=10)], REQUIRED, ("AUTH_EXHAUSTED", "BLOCKING")),
        ([auth(used=10)], OPTIONAL, ("AUTH_EXHAUSTED", "WARNING")),
        ([auth(used=8)], REQUIRED, ("AUTH_EXPIRING", "WARNING")),  # 2 units left
        ([auth(ends=date(2026, 3, 17))], REQUIRED, ("AUTH_EXPIRING", "WARNING")),  # 7 days left
        ([auth(ends=date(2026, 3, 18), used=7)], REQUIRED, None),  # 8 days and 3 units left
    ],
)
def test_what_the_preview_says_of_a_members_authorization(auths, rule, expected):
    found = member_finding(auths, payer_id="P", day=DAY, procedure_codes={"90853"}, program="THERAPY", rule=rule)
    assert (None if found is None else (found[0].value, found[1].value)) == expected


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({}, None),
        ({"number": ""}, "number is 1 to 50"),
        ({"service_codes": (), "program": None}, "service codes or a program"),
        ({"service_codes": (), "program": "IOP"}, None),
        ({"service_codes": ("9085",)}, "not a procedure code"),
        ({"authorized": 0}, "at least 1"),
        ({"ends_on": date(2026, 2, 28)}, "endsOn must not be before startsOn"),
    ],
)
def test_what_an_authorization_may_not_hold(values, problem):
    given = {"number": "PA-1", "service_codes": ("90853",), "program": None, "authorized": 5,
             "starts_on": date(2026, 3, 1), "ends_on": date(2026, 3, 31), **values}  # fmt: skip
    problems = authorization_problems(**given)
    assert (problem is None and problems == []) or any(problem in p for p in problems if problem)


S = AuthorizationStanding
CANCELLED = AuthorizationStatus.CANCELLED


@pytest.mark.parametrize(
    ("authorization", "today", "expected", "changes_on"),
    [
        (auth(), DAY, S.ACTIVE, date(2026, 4, 1)),  # in range, units left: changes the day after its end
        (auth(), date(2026, 3, 1), S.ACTIVE, date(2026, 4, 1)),  # its first day
        (auth(), date(2026, 3, 31), S.ACTIVE, date(2026, 4, 1)),  # its last day
        (auth(), date(2026, 2, 28), S.NOT_YET_ACTIVE, date(2026, 3, 1)),  # the day before its start
        (auth(), date(2026, 4, 1), S.EXPIRED, None),  # the day after its end
        (auth(used=9), DAY, S.ACTIVE, date(2026, 4, 1)),  # one left
        (auth(used=10), DAY, S.EXHAUSTED, date(2026, 4, 1)),  # none left; EXPIRED after its end
        (auth(kind=UnitKind.DAYS, authorized=5, used=5), DAY, S.EXHAUSTED, date(2026, 4, 1)),  # days, all used
        (auth(used=10), date(2026, 4, 1), S.EXPIRED, None),  # used up and ended: EXPIRED
        (auth(status=CANCELLED), DAY, S.CANCELLED, None),
        (auth(status=CANCELLED, used=10), date(2026, 4, 1), S.CANCELLED, None),  # cancelled before all else
        (auth(status=CANCELLED), date(2026, 2, 1), S.CANCELLED, None),
    ],
)
def test_an_authorizations_standing(authorization, today, expected, changes_on):
    assert standing(authorization, today) is expected
    assert standing_changes_on(authorization, today) == changes_on
