"""Billing: charges built after a session and the claims that carry them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
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
            "per_diem",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
        ),
        # A patient's program day is billed once (app.operations.program_billing).
        Index(
            "uq_charges_active_per_diem_day",
            "patient_id",
            "service_date",
            unique=True,
            postgresql_where=text("status = 'ACTIVE' AND per_diem"),
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
    # A program day's per-diem line, hung on the day's last program session (app.rules.program_billing).
    per_diem: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
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
            "per_diem",
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
    per_diem: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # The 837P interchange that carried the claim (ISA13 and GS06): what a 999's AK102 answers.
    interchange_number: Mapped[int | None] = mapped_column(Integer)
    transaction_set_number: Mapped[str | None] = mapped_column(String(9))  # ST02: what the 999's AK202 answers
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("claim_batches.id"))
    # The payer's last word on the claim: a rejection's or a denial's reason, and when it came.
    payer_reason: Mapped[str | None] = mapped_column(Text)
    denial_carc: Mapped[str | None] = mapped_column(String(8))
    # The last 277CA's STC01 category (A1, A2, A7...) and every STC composite it sent, with their text.
    status_category: Mapped[str | None] = mapped_column(String(30))  # STC01-1, data element 1271: 1 to 30
    status_codes: Mapped[list | None] = mapped_column(JSONB)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()


class ClaimBatch(Base):
    """A daily submission's interchange: one facility's claims to one payer, many transaction sets in one
    837P, written to the clearinghouse's outbox and kept here to fetch again."""

    __tablename__ = "claim_batches"
    __table_args__ = (Index("ix_claim_batches_facility_created", "facility_id", "created_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"))
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"))
    control_number: Mapped[int] = mapped_column(Integer, unique=True)  # ISA13 and GS06
    production: Mapped[bool] = mapped_column(Boolean)  # ISA15 P, or T
    claim_count: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = timestamp_now()
