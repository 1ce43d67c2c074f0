"""Prior authorizations (issue 29): kept per patient and payer, drawn down by each billed unit or day in the
billing transaction (the authorization's row held, so two sessions cannot both take the last unit), given
back when a correction voids the charge; a payer's coverage rule (eligibility and authorization required)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from app.auth import Principal
from app.db import models
from app.db.queries import coverage as queries
from app.db.uow import UnitOfWork
from app.errors import BadInput, IllegalTransition, NotFound
from app.operations.common import check, visible_or_not_found
from app.operations.reference import payer as existing_payer
from app.rules import authorizations as rules
from app.rules.billing import BillingIssue, BillingIssueCode, IssueSeverity

AUTH_CODES = frozenset(
    {
        BillingIssueCode.AUTH_MISSING,
        BillingIssueCode.AUTH_EXHAUSTED,
        BillingIssueCode.AUTH_EXPIRED,
        BillingIssueCode.AUTH_EXPIRING,
    }
)


@dataclass(frozen=True)
class AuthorizationSpec:
    number: str
    service_codes: tuple[str, ...]
    program: str | None
    unit_kind: rules.UnitKind
    authorized: int
    starts_on: date
    ends_on: date


def snapshot(row: models.PriorAuthorization) -> dict[str, Any]:
    return {
        "patientId": str(row.patient_id),
        "payerId": str(row.payer_id),
        "number": row.number,
        "serviceCodes": list(row.service_codes or ()),
        "program": row.program,
        "unitKind": row.unit_kind,
        "authorized": row.authorized,
        "used": row.used,
        "startsOn": row.starts_on.isoformat(),
        "endsOn": row.ends_on.isoformat(),
        "status": row.status,
    }


async def visible_authorization(
    db, actor: Principal, authorization_id: uuid.UUID, *, lock: bool = False
) -> models.PriorAuthorization:
    row = (
        await queries.lock_authorization(db, authorization_id)
        if lock
        else await db.get(models.PriorAuthorization, authorization_id)
    )
    if row is None:
        raise NotFound("No PriorAuthorization with that id")
    visible_or_not_found(actor, await db.get(models.Patient, row.patient_id), "PriorAuthorization")
    return row


def _checked(spec: AuthorizationSpec) -> AuthorizationSpec:
    codes = tuple(dict.fromkeys(c.strip().upper() for c in spec.service_codes))
    number = (spec.number or "").strip()
    check(
        "; ".join(
            rules.authorization_problems(
                number=number,
                service_codes=codes,
                program=spec.program,
                authorized=spec.authorized,
                starts_on=spec.starts_on,
                ends_on=spec.ends_on,
            )
        )
        or None
    )
    return AuthorizationSpec(number, codes, spec.program, spec.unit_kind, spec.authorized, spec.starts_on, spec.ends_on)


async def create_authorization(
    uow: UnitOfWork, actor: Principal, patient_id: uuid.UUID, payer_id: uuid.UUID, spec: AuthorizationSpec
) -> models.PriorAuthorization:
    spec = _checked(spec)
    visible_or_not_found(actor, await uow.db.get(models.Patient, patient_id), "Patient")
    payer = await existing_payer(uow.db, payer_id)
    row = models.PriorAuthorization(
        id=uuid.uuid4(),
        patient_id=patient_id,
        payer_id=payer.id,
        number=spec.number,
        service_codes=list(spec.service_codes),
        program=spec.program,
        unit_kind=spec.unit_kind,
        authorized=spec.authorized,
        used=0,
        starts_on=spec.starts_on,
        ends_on=spec.ends_on,
        status=rules.AuthorizationStatus.ACTIVE,
        created_at=uow.clock.now(),
        updated_at=uow.clock.now(),
    )
    uow.db.add(row)
    await uow.db.flush()
    uow.audit("prior_authorization.create", "PriorAuthorization", row.id, before=None, after=snapshot(row))
    return row


async def update_authorization(
    uow: UnitOfWork, actor: Principal, authorization_id: uuid.UUID, spec: AuthorizationSpec
) -> models.PriorAuthorization:
    """Change an authorization's number, codes, units or range (an extension from the payer); the units
    already used stay, and may not exceed what is now authorized."""
    spec = _checked(spec)
    row = await visible_authorization(uow.db, actor, authorization_id, lock=True)
    if row.status == rules.AuthorizationStatus.CANCELLED:
        raise IllegalTransition("A cancelled authorization cannot change")
    if spec.authorized < row.used:
        raise BadInput(f"authorized cannot fall below the {row.used} units or days already used")
    before = snapshot(row)
    row.number, row.service_codes, row.program = spec.number, list(spec.service_codes), spec.program
    row.unit_kind, row.authorized = spec.unit_kind, spec.authorized
    row.starts_on, row.ends_on = spec.starts_on, spec.ends_on
    row.expiring_announced_at = None  # more units or days: a new end to warn about
    row.updated_at = uow.clock.now()
    await uow.db.flush()
    uow.audit("prior_authorization.update", "PriorAuthorization", row.id, before=before, after=snapshot(row))
    return row


async def cancel_authorization(
    uow: UnitOfWork, actor: Principal, authorization_id: uuid.UUID
) -> models.PriorAuthorization:
    """Withdraw an authorization: nothing more draws from it (what was drawn stays on its claims)."""
    row = await visible_authorization(uow.db, actor, authorization_id, lock=True)
    if row.status == rules.AuthorizationStatus.CANCELLED:
        return row
    before = snapshot(row)
    row.status = rules.AuthorizationStatus.CANCELLED
    row.updated_at = uow.clock.now()
    await uow.db.flush()
    uow.audit("prior_authorization.cancel", "PriorAuthorization", row.id, before=before, after=snapshot(row))
    return row


async def set_coverage_rule(
    uow: UnitOfWork,
    actor: Principal,
    payer_id: uuid.UUID,
    *,
    eligibility_required: bool | None,
    authorization_required: bool | None,
    expiring_days: int | None,
    expiring_units: int | None,
) -> models.PayerCoverageRule:
    """A payer's say on coverage; what is not given stays."""
    for name, value in (("expiringDays", expiring_days), ("expiringUnits", expiring_units)):
        if value is not None and not 0 <= value <= 365:
            raise BadInput(f"{name} must be between 0 and 365")
    payer = await existing_payer(uow.db, payer_id)
    row = await queries.lock_coverage_rule(uow.db, payer.id, uow.clock.now())
    before = rule_snapshot(row)
    if eligibility_required is not None:
        row.eligibility_required = eligibility_required
    if authorization_required is not None:
        row.authorization_required = authorization_required
    if expiring_days is not None:
        row.expiring_days = expiring_days
    if expiring_units is not None:
        row.expiring_units = expiring_units
    row.updated_at = uow.clock.now()
    await uow.db.flush()
    uow.audit("coverage_rule.set", "PayerCoverageRule", payer.id, before=before, after=rule_snapshot(row))
    return row


def rule_snapshot(row: models.PayerCoverageRule) -> dict[str, Any]:
    return {
        "eligibilityRequired": row.eligibility_required,
        "authorizationRequired": row.authorization_required,
        "expiringDays": row.expiring_days,
        "expiringUnits": row.expiring_units,
    }


# ---------------------------------------------------------------- in the billing transaction


async def draw_down(
    uow: UnitOfWork, session: models.GroupSession, pairs: Sequence[tuple[models.Charge, models.Claim]]
) -> None:
    """Each new charge takes its units (or its day) from the matching authorization, whose row is held until
    the billing commits; a charge that finds none left while one covers its date gets AUTH_EXHAUSTED on its
    claim (a concurrent session took the last unit after the preview was read)."""
    if not pairs:
        return
    locked = await queries.lock_authorizations_of(uow.db, {(c.patient_id, c.payer_id) for c, _ in pairs})
    if not locked:
        return  # nothing to draw from, and nothing a concurrent draw could have used up
    rows = {row.id: row for row in locked}
    rules_by_payer = {
        payer: queries.authorization_rule(row)
        for payer, row in (await queries.coverage_rules(uow.db, {c.payer_id for c, _ in pairs})).items()
    }
    drawn = dict(await queries.days_drawn(uow.db, rows))
    now = uow.clock.now()
    for charge, claim in pairs:
        mine = [
            queries.authorization(r)
            for r in locked
            if (r.patient_id, r.payer_id) == (charge.patient_id, charge.payer_id)
        ]
        draw = rules.pick(
            mine,
            payer_id=charge.payer_id,
            day=charge.service_date,
            procedure_code=charge.procedure_code,
            program=session.group_type,
            units=charge.units,
            days_drawn=drawn,
        )
        rule = rules_by_payer.get(charge.payer_id, rules.PayerAuthorizationRule())
        if draw is None:
            _flag_exhausted(claim, mine, charge, session.group_type, rule)
            continue
        row = rows[draw.authorization.id]
        row.used += draw.units
        drawn[row.id] = drawn.get(row.id, frozenset()) | {charge.service_date}
        uow.db.add(
            models.AuthorizationUse(
                id=uuid.uuid4(),
                authorization_id=row.id,
                charge_id=charge.id,
                service_date=charge.service_date,
                units=draw.units,
                created_at=now,
            )
        )
        after = queries.authorization(row)
        if row.expiring_announced_at is None and rules.is_expiring(after, charge.service_date, rule):
            _announce_expiring(uow, row, session.facility_id)
    await uow.db.flush()


def _announce_expiring(uow: UnitOfWork, row: models.PriorAuthorization, facility_id: uuid.UUID) -> None:
    """prior_authorization_expiring, once until the authorization is extended (update_authorization)."""
    row.expiring_announced_at = uow.clock.now()
    uow.record_event(
        "prior_authorization_expiring",
        {
            "authorizationId": str(row.id),
            "number": row.number,
            "patientId": str(row.patient_id),
            "facilityId": str(facility_id),
            "remaining": row.authorized - row.used,
            "endsOn": row.ends_on.isoformat(),
        },
    )


async def announce_expiring(uow: UnitOfWork) -> int:
    """The daily pass: every active authorization that entered its payer's expiring window by date (or
    holds few units left) while nothing drew from it is announced, once, as a billing draw would; one that
    ended already is not. Returns how many were announced."""
    found = await queries.unannounced_authorizations(uow.db)
    if not found:
        return 0
    by_payer = await queries.coverage_rules(uow.db, {row.payer_id for row, _, _ in found})
    now = uow.clock.now()
    announced = 0
    for row, facility_id, zone in found:
        today = now.astimezone(ZoneInfo(zone)).date()
        authorization = queries.authorization(row)
        if authorization.ends_on < today or authorization.remaining <= 0:
            continue  # over: the preview says AUTH_EXPIRED or AUTH_EXHAUSTED
        if rules.is_expiring(authorization, today, queries.authorization_rule(by_payer.get(row.payer_id))):
            _announce_expiring(uow, row, facility_id)
            announced += 1
    await uow.db.flush()
    return announced


def _flag_exhausted(
    claim: models.Claim,
    mine: list[rules.Authorization],
    charge: models.Charge,
    program: str,
    rule: rules.PayerAuthorizationRule,
) -> None:
    covering = [a for a in mine if a.in_range(charge.service_date) and a.covers_service(charge.procedure_code, program)]
    found = claim.validation or []
    if not covering or any(i.get("code") in AUTH_CODES - {BillingIssueCode.AUTH_EXPIRING} for i in found):
        return
    numbers = ", ".join(sorted(a.number for a in covering))
    severity = IssueSeverity.BLOCKING if rule.required else IssueSeverity.WARNING
    issue = BillingIssue(
        BillingIssueCode.AUTH_EXHAUSTED, severity, f"The participant's authorization {numbers} has no units left"
    )
    # The preview's "running out" is now "ran out".
    claim.validation = [*(i for i in found if i.get("code") != BillingIssueCode.AUTH_EXPIRING), issue.as_json()]


async def give_back(uow: UnitOfWork, charges: Sequence[models.Charge]) -> None:
    """A voided charge's units return to the authorizations it drew from."""
    uses = await queries.live_uses_of_charges(uow.db, [c.id for c in charges])
    now = uow.clock.now()
    for use in sorted(uses, key=lambda u: u.authorization_id):
        use.returned_at = now
        await queries.give_back(uow.db, use.authorization_id, use.units)
    if uses:
        await uow.db.flush()
