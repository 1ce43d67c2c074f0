"""Scheduling (PM-04): group definitions, occurrences, enrollments, compliance thresholds."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk


class GroupDefinition(Base):
    __tablename__ = "group_definitions"
    __table_args__ = (
        CheckConstraint("max_capacity >= 1", name="max_capacity_positive"),
        CheckConstraint(
            "min_capacity IS NULL OR (min_capacity >= 1 AND min_capacity <= max_capacity)",
            name="min_capacity_range",
        ),
        CheckConstraint("duration_minutes BETWEEN 5 AND 720", name="duration_range"),
        Index("ix_group_definitions_facility_live", "facility_id", postgresql_where=text("deleted_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    group_type: Mapped[str] = mapped_column(String(32))
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"))
    location: Mapped[str | None] = mapped_column(String(200))
    facilitator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    co_facilitator_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    min_capacity: Mapped[int | None] = mapped_column(Integer)
    max_capacity: Mapped[int] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    recurrence_rule: Mapped[str | None] = mapped_column(String(500))
    recurrence_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    update_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class GroupOccurrence(Base):
    __tablename__ = "group_occurrences"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # One live occurrence per group, date and start; cancelled ones may repeat.
        Index(
            "uq_group_occurrences_live_slot",
            "group_id",
            "session_date",
            "start_time",
            unique=True,
            postgresql_where=text("cancelled_at IS NULL"),
        ),
        Index("ix_group_occurrences_group_starts", "group_id", "starts_at"),
        # A facilitator's calendar feed: the occurrences they lead, from a date on.
        Index("ix_group_occurrences_facilitator_starts", "facilitator_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_definitions.id"))
    session_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    facilitator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    # Taken from the group when the occurrence is made, and followed by the group's edits until it starts.
    co_facilitator_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    location: Mapped[str | None] = mapped_column(String(200))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()
    # RFC 5545 SEQUENCE of the occurrence's calendar event: bumped by every change and the cancellation.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        # The waitlist reads 1..n; positions are rewritten in bulk, so check at commit.
        UniqueConstraint(
            "group_id",
            "waitlist_position",
            name="uq_enrollments_waitlist_position",
            deferrable=True,
            initially="DEFERRED",
        ),
        Index(
            "uq_enrollments_active_patient",
            "group_id",
            "patient_id",
            unique=True,
            postgresql_where=text("status IN ('ENROLLED', 'WAITLISTED') AND deleted_at IS NULL"),
        ),
        CheckConstraint(
            "(status = 'WAITLISTED' AND deleted_at IS NULL) = (waitlist_position IS NOT NULL)",
            name="waitlist_position_iff_waitlisted",
        ),
        Index("ix_enrollments_patient", "patient_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_definitions.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    status: Mapped[str] = mapped_column(String(16))
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    waitlisted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disenrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disenroll_reason: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()


class ComplianceThreshold(Base):
    """AHCCCS program thresholds, kept as data so a payer's change is an UPDATE, not a release."""

    __tablename__ = "compliance_thresholds"

    program: Mapped[str] = mapped_column(String(8), primary_key=True)
    min_hours_per_week: Mapped[float] = mapped_column(Numeric(5, 2))
    min_days_per_week: Mapped[int] = mapped_column(Integer)
    min_hours_per_day: Mapped[float | None] = mapped_column(Numeric(5, 2))
