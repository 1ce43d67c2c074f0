"""The payer's answers: every X12 file imported (once, by its content hash), each 835 service line posted to its
charge, and the provider-level adjustments (PLB) of each remittance."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk


class EdiFile(Base):
    __tablename__ = "edi_files"

    id: Mapped[uuid.UUID] = uuid_pk()
    # SHA-256 of the file's text: the same file imported twice is found here and changes nothing.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # 999, 277CA, 835 (app.rules.remittance.EdiKind)
    name: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(8))  # api, cli, inbox
    control_number: Mapped[str] = mapped_column(String(9))  # ISA13
    sender_id: Mapped[str] = mapped_column(String(15))  # ISA06
    production: Mapped[bool] = mapped_column(Boolean)  # ISA15
    text: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict] = mapped_column(JSONB, default=dict)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = timestamp_now()


class RemittanceLine(Base):
    """One 835 service line (SVC, 2110) posted to the charge it pays, with its adjustments by group."""

    __tablename__ = "remittance_lines"
    __table_args__ = (
        Index("ix_remittance_lines_claim", "claim_id"),
        Index("ix_remittance_lines_charge", "charge_id"),
        Index("ix_remittance_lines_patient", "patient_id"),
        # A claim payment is posted once, whatever envelope brings it again (app.rules.remittance.payment_key).
        Index("uq_remittance_lines_payment", "payment_key", "line_number", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    edi_file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("edi_files.id"))
    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"))
    charge_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("charges.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    payer_claim_number: Mapped[str] = mapped_column(String(50))  # CLP07
    claim_status_code: Mapped[str] = mapped_column(String(2))  # CLP02
    procedure_code: Mapped[str] = mapped_column(String(10))
    service_date: Mapped[date | None] = mapped_column(Date)
    charged: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    contractual: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # CAS CO
    patient_responsibility: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # CAS PR
    other_adjustments: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # CAS OA, PI
    allowed: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # AMT*B6
    expected: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # the contracted amount
    underpaid_by: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    adjustments: Mapped[list] = mapped_column(JSONB, default=list)  # [{"code": "CO-45", "text": ...}]
    denial_reasons: Mapped[list] = mapped_column(JSONB, default=list)
    remarks: Mapped[list] = mapped_column(JSONB, default=list)  # RARC: [{"code": "N290", "text": ...}]
    reversal: Mapped[bool] = mapped_column(Boolean)
    paid_on: Mapped[date] = mapped_column(Date)  # BPR16
    # The CLP's identity (payer, TRN02, CLP01, CLP02, CLP07, amounts) and the line's place in it; none before 0023.
    payment_key: Mapped[str | None] = mapped_column(String(64))
    line_number: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = timestamp_now()


class ProviderAdjustment(Base):
    """One PLB adjustment: money withheld from (positive) or added to (negative) a remittance, not tied to a
    claim."""

    __tablename__ = "provider_adjustments"

    id: Mapped[uuid.UUID] = uuid_pk()
    edi_file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("edi_files.id"), index=True)
    trace_number: Mapped[str] = mapped_column(String(50))  # TRN02
    provider_id: Mapped[str] = mapped_column(String(80))  # PLB01
    fiscal_period_end: Mapped[date] = mapped_column(Date)  # PLB02
    reason: Mapped[str] = mapped_column(String(4))  # PLB03-1
    reason_text: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(50))  # PLB03-2
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # The PLB's identity (payer, TRN02, its place and its columns): kept once, whatever envelope brings it again.
    adjustment_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = timestamp_now()
