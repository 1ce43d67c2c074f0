"""Reference data: facilities, staff, patients, payers, coverage, assignments, payer rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk


class Facility(Base):
    __tablename__ = "facilities"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    npi: Mapped[str | None] = mapped_column(String(10))
    tax_id: Mapped[str | None] = mapped_column(String(20))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(10))  # ZIP+4: the 837P's 2010AA N403 wants nine digits
    taxonomy: Mapped[str | None] = mapped_column(String(10))  # 2000A PRV*BI, for payers that want it
    # The submitter id the clearinghouse assigned the facility: ISA06, GS02 and 1000A NM109.
    submitter_id: Mapped[str | None] = mapped_column(String(15))
    # How its room displays show a patient (app.rules.displays.NameFormat).
    display_name_format: Mapped[str] = mapped_column(
        String(32), default="FIRST_NAME_LAST_INITIAL", server_default="FIRST_NAME_LAST_INITIAL"
    )
    # Hours after a session within which its notes are signed on time, where the payer sets none
    # (rules.notes.DEFAULT_LATE_ENTRY_HOURS).
    note_late_entry_hours: Mapped[int] = mapped_column(Integer, default=72, server_default="72")
    created_at: Mapped[datetime] = timestamp_now()


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    npi: Mapped[str | None] = mapped_column(String(10))
    taxonomy: Mapped[str | None] = mapped_column(String(10))  # 2310B PRV*PE, for payers that want it
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"), index=True)
    created_at: Mapped[datetime] = timestamp_now()


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("facility_id", "mrn", name="uq_patients_facility_mrn"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    mrn: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"), index=True)
    sex: Mapped[str | None] = mapped_column(String(1))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = timestamp_now()


class Payer(Base):
    __tablename__ = "payers"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    payer_code: Mapped[str] = mapped_column(String(64), unique=True)
    # SBR09: MC Medicaid, MB Medicare Part B, CI commercial, BL Blue Cross/Blue Shield, HM HMO, ...
    claim_filing_indicator: Mapped[str] = mapped_column(String(2), default="CI", server_default="CI")
    # The receiver id the clearinghouse gave the payer (ISA08, GS03, 1000B NM109); None: the payer code.
    receiver_id: Mapped[str | None] = mapped_column(String(15))
    # The payer wants provider taxonomy codes (2000A PRV*BI, 2310B PRV*PE).
    taxonomy_required: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Claims to this payer go out as test interchanges (ISA15 T) until it is set to production.
    test_mode: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Days from the date of service within which the payer takes a claim (timely filing).
    timely_filing_days: Mapped[int] = mapped_column(Integer, default=365, server_default="365")
    created_at: Mapped[datetime] = timestamp_now()


class Coverage(Base):
    __tablename__ = "coverages"
    __table_args__ = (
        CheckConstraint("priority >= 1", name="priority_positive"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="effective_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"), index=True)
    member_id: Mapped[str] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = timestamp_now()


class Diagnosis(Base):
    """One of a patient's ICD-10-CM diagnoses; `position` orders them, 1 the principal."""

    __tablename__ = "patient_diagnoses"
    __table_args__ = (
        UniqueConstraint("patient_id", "position", name="uq_patient_diagnoses_position"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="effective_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(String(200))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = timestamp_now()


class StaffAssignment(Base):
    __tablename__ = "staff_assignments"
    __table_args__ = (UniqueConstraint("staff_id", "patient_id", "role", name="uq_staff_assignments_triple"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = timestamp_now()


class SupervisionRule(Base):
    __tablename__ = "supervision_rules"
    __table_args__ = (
        UniqueConstraint("payer_id", "state", name="uq_supervision_rules_payer_state"),
        CheckConstraint("max_participants_per_supervisor >= 1", name="ratio_positive"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"))
    state: Mapped[str] = mapped_column(String(2))
    max_participants_per_supervisor: Mapped[int] = mapped_column(Integer)


class GroupSizeBand(Base):
    __tablename__ = "group_size_bands"
    __table_args__ = (
        CheckConstraint("min_size >= 1 AND max_size >= min_size", name="size_range"),
        CheckConstraint("rate >= 0", name="rate_non_negative"),
        Index("ix_group_size_bands_payer_state", "payer_id", "state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payers.id"))
    state: Mapped[str] = mapped_column(String(2))
    min_size: Mapped[int] = mapped_column(Integer)
    max_size: Mapped[int] = mapped_column(Integer)
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))
