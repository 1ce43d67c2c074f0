"""Coverage types: an eligibility check, a prior authorization and a payer's coverage rule wrap their rows."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from app.db import models
from app.db.queries import coverage as coverage_queries
from app.ids import encode_id
from app.rules import authorizations as auth_rules
from app.rules import coverage_alerts as alert_rules
from app.rules import eligibility as rules
from app.schema.context import Info
from app.schema.enums import IssueSeverity
from app.schema.loaders import reference

PatientType = Annotated["Patient", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
PayerType = Annotated["Payer", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily

CoverageAnswer = strawberry.enum(rules.CoverageAnswer)
AuthorizationUnitKind = strawberry.enum(auth_rules.UnitKind, name="AuthorizationUnitKind")
AuthorizationStatus = strawberry.enum(auth_rules.AuthorizationStatus)
AuthorizationStanding = strawberry.enum(auth_rules.AuthorizationStanding)


@strawberry.type(description="What the payer's 271 says a member pays for a behavioral health service type.")
class CostSharing:
    service_type: str = strawberry.field(description="MH mental health, AI substance abuse.")
    copay: Decimal | None
    coinsurance: Decimal | None = strawberry.field(description="A fraction: 0.2 is 20%.")


@strawberry.type(description="One eligibility inquiry (270) for a member and a date, and the payer's answer (271).")
class EligibilityCheck:
    service_date: date
    status: CoverageAnswer
    plan_name: str | None
    coverage_from: date | None
    coverage_to: date | None
    rejection: str | None = strawberry.field(description="Why the payer could not answer (271 AAA), in words.")
    member_id: str
    trace_number: str
    checked_at: datetime
    inquiry: str = strawberry.field(description="The 270 sent (X12 005010X279A1).")
    response: str = strawberry.field(description="The 271 received.")

    @strawberry.field
    def id(check: strawberry.Parent[models.EligibilityCheck]) -> strawberry.ID:
        return strawberry.ID(encode_id("EligibilityCheck", check.id))

    @strawberry.field
    def cost_sharing(check: strawberry.Parent[models.EligibilityCheck]) -> list[CostSharing]:
        return [
            CostSharing(service_type=c.service_type, copay=c.copay, coinsurance=c.coinsurance)
            for c in rules.cost_sharing_from_json(check.cost_sharing or {})
        ]

    @strawberry.field
    async def patient(check: strawberry.Parent[models.EligibilityCheck], info: Info) -> PatientType:
        return await reference.patients(info).load(check.patient_id)

    @strawberry.field
    async def payer(check: strawberry.Parent[models.EligibilityCheck], info: Info) -> PayerType:
        return await reference.payers(info).load(check.payer_id)


@strawberry.type(description="A payer's authorization of services for a patient, drawn down as they are billed.")
class PriorAuthorization:
    number: str
    service_codes: list[str]
    program: str | None
    unit_kind: AuthorizationUnitKind
    authorized: int
    used: int
    starts_on: date
    ends_on: date
    status: AuthorizationStatus

    @strawberry.field
    def id(row: strawberry.Parent[models.PriorAuthorization]) -> strawberry.ID:
        return strawberry.ID(encode_id("PriorAuthorization", row.id))

    @strawberry.field
    def remaining(row: strawberry.Parent[models.PriorAuthorization]) -> int:
        return row.authorized - row.used

    @strawberry.field(
        description="Where it stands today (the patient's facility's date): ACTIVE, NOT_YET_ACTIVE before its "
        "start, EXHAUSTED with nothing left, EXPIRED after its end, or CANCELLED. Derived; `status` is only "
        "ACTIVE or CANCELLED."
    )
    async def standing(row: strawberry.Parent[models.PriorAuthorization], info: Info) -> AuthorizationStanding:
        patient = await reference.patients(info).load(row.patient_id)
        zone = ZoneInfo((await reference.facilities(info).load(patient.facility_id)).timezone)
        authorization = coverage_queries.authorization(row)

        def changes_at(now: datetime) -> datetime | None:
            day = auth_rules.standing_changes_on(authorization, now.astimezone(zone).date())
            return None if day is None else datetime.combine(day, time(0), tzinfo=zone)

        now = info.context.now_until(changes_at)
        return auth_rules.standing(authorization, now.astimezone(zone).date())

    @strawberry.field
    async def patient(row: strawberry.Parent[models.PriorAuthorization], info: Info) -> PatientType:
        return await reference.patients(info).load(row.patient_id)

    @strawberry.field
    async def payer(row: strawberry.Parent[models.PriorAuthorization], info: Info) -> PayerType:
        return await reference.payers(info).load(row.payer_id)


@strawberry.type(description="A payer's say on coverage before a session is billed.")
class PayerCoverageRule:
    eligibility_required: bool = strawberry.field(
        description="A member without an ACTIVE eligibility answer for the day gets COVERAGE_NOT_VERIFIED."
    )
    authorization_required: bool = strawberry.field(
        description="A member without a prior authorization gets AUTH_MISSING (BLOCKING)."
    )
    expiring_days: int = strawberry.field(description="AUTH_EXPIRING this many days before the end.")
    expiring_units: int = strawberry.field(description="AUTH_EXPIRING when this many units or days are left.")

    @strawberry.field
    async def payer(row: strawberry.Parent[models.PayerCoverageRule], info: Info) -> PayerType:
        return await reference.payers(info).load(row.payer_id)


@strawberry.type(
    description="A program (IOP, PHP) the payer bills per diem: one line a day for a patient present "
    "for the minimum hours across that day's program sessions."
)
class PayerProgram:
    program: str
    procedure_code: str = strawberry.field(description="S9480 IOP, H0015 SUD IOP, H0035 PHP, or the payer's own.")
    modifiers: list[str]
    rate: Decimal
    minimum_hours: Decimal
    sessions_bill_too: bool = strawberry.field(
        description="The program's group sessions are billed on their own as well."
    )

    @strawberry.field
    async def payer(row: strawberry.Parent[models.PayerProgram], info: Info) -> PayerType:
        return await reference.payers(info).load(row.payer_id)


CoverageAlertCode = strawberry.enum(alert_rules.CoverageAlertCode)


@strawberry.type(
    description="A coverage problem the enrollment and the roster show: an authorization that runs "
    "out before the group's last session, a missing one, or coverage the payer answered inactive."
)
class CoverageAlert:
    code: CoverageAlertCode
    severity: IssueSeverity
    message: str
