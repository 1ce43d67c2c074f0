"""Billing: charges built after a session and the claims that carry them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk
from app.rules.claims import ChargeStatus, ClaimFrequency, ClaimStatus


class FacilityFee(Base):
    """One price of the facility's fee schedule: a procedure code with its modifiers (sorted)."""

    __tablename__ = "facility_fees"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        Index("uq_facility_fees_code", "facility_id", "procedure_code", "modifiers", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"))
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        # The last line of defence for exactly-once billing.
        Index(
            "uq_charges_active_member",
            "session_id",
            "patient_id",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
        ),
        Index("ix_charges_patient", "patient_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    payer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payers.id"))
    service_date: Mapped[date] = mapped_column(Date)
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    place_of_service: Mapped[str] = mapped_column(String(2), default="11", server_default="11")
    units: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    # The payer's contracted rate (its band's), what the facility expects to be paid; None: self-pay.
    expected_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    status: Mapped[str] = mapped_column(String(8), default=ChargeStatus.ACTIVE)
    created_at: Mapped[datetime] = timestamp_now()
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


claim_charges = Table(
    "claim_charges",
    Base.metadata,
    Column("claim_id", ForeignKey("claims.id"), primary_key=True),
    Column("charge_id", ForeignKey("charges.id"), primary_key=True),
)


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        Index(
            "uq_claims_open_member",
            "session_id",
            "patient_id",
            unique=True,
            postgresql_where=text("status IN ('DRAFT', 'SUBMITTED') AND frequency <> 'VOID'"),
        ),
        Index("ix_claims_session", "session_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    claim_number: Mapped[str] = mapped_column(String(20), unique=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"))
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.DRAFT)
    frequency: Mapped[str] = mapped_column(String(12), default=ClaimFrequency.ORIGINAL)
    original_claim_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("claims.id"))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    validation: Mapped[list] = mapped_column(JSONB, default=list)
    edi837: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The payer's claim control number (277CA STC/REF*1K, 835 CLP07): REF*F8 of every later correction.
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = timestamp_now()
