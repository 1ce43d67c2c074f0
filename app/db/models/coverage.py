"""Coverage as the payer answers it (issue 29): eligibility checks (270/271), each payer's say on
eligibility and prior authorization, prior authorizations and what each billed charge drew from one,
and the programs a payer bills per diem."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk


class EligibilityCheck(Base):
    """One 270 asked for a member and a date, and what the payer's 271 said."""

    __tablename__ = "eligibility_checks"
    __table_args__ = (Index("ix_eligibility_checks_patient_date", "patient_id", "service_date"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"))
    member_id: Mapped[str] = mapped_column(String(80))
    service_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))  # app.rules.eligibility.CoverageAnswer
    plan_name: Mapped[str | None] = mapped_column(String(60))
    coverage_from: Mapped[date | None] = mapped_column(Date)
    coverage_to: Mapped[date | None] = mapped_column(Date)
    # {"MH": {"copay": "5.00", "coinsurance": "0.2"}, "AI": {...}}: behavioral health's cost sharing.
    cost_sharing: Mapped[dict] = mapped_column(JSONB, default=dict)
    rejection: Mapped[str | None] = mapped_column(String(300))  # the 271's AAA, in words
    trace_number: Mapped[str] = mapped_column(String(50))
    inquiry: Mapped[str] = mapped_column(Text)  # the 270 sent
    response: Mapped[str] = mapped_column(Text)  # the 271 received
    checked_by: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PayerCoverageRule(Base):
    """A payer's say on coverage: whether a session needs a verified eligibility (COVERAGE_NOT_VERIFIED
    a WARNING) and a prior authorization (AUTH_MISSING BLOCKING), and when an authorization is running out."""

    __tablename__ = "payer_coverage_rules"
    __table_args__ = (CheckConstraint("expiring_days >= 0 AND expiring_units >= 0", name="thresholds_non_negative"),)

    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"), primary_key=True)
    eligibility_required: Mapped[bool] = mapped_column(Boolean, default=False)
    authorization_required: Mapped[bool] = mapped_column(Boolean, default=False)
    expiring_days: Mapped[int] = mapped_column(Integer, default=7)
    expiring_units: Mapped[int] = mapped_column(Integer, default=2)
    updated_at: Mapped[datetime] = timestamp_now()


class PriorAuthorization(Base):
    """A payer's authorization for a patient: service codes or a program, units or days, a date range."""

    __tablename__ = "prior_authorizations"
    __table_args__ = (
        CheckConstraint("authorized >= 1", name="authorized_positive"),
        # The last line of defence against two sessions taking the last unit.
        CheckConstraint("used >= 0 AND used <= authorized", name="used_within_authorized"),
        CheckConstraint("ends_on >= starts_on", name="date_range"),
        Index("ix_prior_authorizations_patient", "patient_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"))
    number: Mapped[str] = mapped_column(String(50))
    service_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    program: Mapped[str | None] = mapped_column(String(32))  # a group type (IOP, PHP)
    unit_kind: Mapped[str] = mapped_column(String(8))  # app.rules.authorizations.UnitKind
    authorized: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # app.rules.authorizations.AuthorizationStatus
    expiring_announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class AuthorizationUse(Base):
    """What one billed charge drew from an authorization; given back when the charge is voided."""

    __tablename__ = "authorization_uses"
    __table_args__ = (
        Index("ix_authorization_uses_authorization", "authorization_id"),
        Index(
            "uq_authorization_uses_live_charge",
            "charge_id",
            unique=True,
            postgresql_where=sql_text("returned_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    authorization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prior_authorizations.id"))
    charge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charges.id"))
    service_date: Mapped[date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = timestamp_now()
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PayerProgram(Base):
    """A program (IOP, PHP) a payer bills per diem: its code and modifiers, the rate, the hours a patient must
    be present that day, and whether the program's group sessions bill on their own as well."""

    __tablename__ = "payer_programs"
    __table_args__ = (
        CheckConstraint("minimum_hours > 0", name="minimum_positive"),
        CheckConstraint("rate >= 0", name="rate_non_negative"),
    )

    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"), primary_key=True)
    program: Mapped[str] = mapped_column(String(32), primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    minimum_hours: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    sessions_bill_too: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = timestamp_now()
