"""Absence alerts: the consecutive-absence threshold of each group type, and the enrollments it flags."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base


class AbsenceThreshold(Base):
    """How many consecutive absences flag a patient, per group type; data, like the compliance thresholds."""

    __tablename__ = "absence_thresholds"
    __table_args__ = (CheckConstraint("consecutive_absences >= 1", name="consecutive_absences_positive"),)

    group_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    consecutive_absences: Mapped[int] = mapped_column(Integer)


class AbsenceAlert(Base):
    """An enrollment whose patient missed the threshold's number of sessions in a row; the row goes
    when an attendance clears the run (the audit trail and the events keep the history)."""

    __tablename__ = "absence_alerts"
    __table_args__ = (Index("ix_absence_alerts_facility_since", "facility_id", "since"),)

    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_definitions.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"))
    threshold: Mapped[int] = mapped_column(Integer)
    session_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
