"""Clinical documentation (CL-14): sessions, roster attendance, supervisor attendance.

The clinical side keeps the scheduling occurrence and group ids as plain values, never
foreign keys: it learns of occurrences only through integration events.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk
from app.rules.attendance import AttendanceStatus
from app.rules.visits import Modality


class GroupSession(Base):
    __tablename__ = "group_sessions"
    __table_args__ = (
        Index("ix_group_sessions_facility_starts", "facility_id", "starts_at"),
        # The list page of an all-facility caller has no facility condition (bench/README.md, EXPLAIN).
        Index("ix_group_sessions_starts", "starts_at"),
        # Enrollment events look up a group's sessions that have not started.
        Index("ix_group_sessions_group_starts", "group_id", "starts_at"),
        # The billing sweep's question: ended, not billed, not cancelled.
        Index("ix_group_sessions_due", "ends_at", postgresql_where="billed_at IS NULL AND cancelled_at IS NULL"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"))
    group_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    # The occurrence's facilitator as its events said (a plain value, like group_id).
    facilitator_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    group_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    occurrence_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    billed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When billing first found a BLOCKING issue in the ended session's preview (awaiting finalization).
    awaiting_finalization_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    modality: Mapped[str] = mapped_column(
        String(20), default=Modality.IN_PERSON, server_default=Modality.IN_PERSON.value
    )
    update_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = timestamp_now()


class RosterEntry(Base):
    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("session_id", "patient_id", name="uq_roster_entries_patient"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=AttendanceStatus.SCHEDULED)
    added_late: Mapped[bool] = mapped_column(default=False)
    # Partial attendance: when the member arrived and left (None: not recorded).
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    departed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How the member joined when not as the room did (None: the session's modality).
    modality: Mapped[str | None] = mapped_column(String(20))
    # Where the patient was for a telehealth visit, as attested (None: not attested; never defaulted).
    patient_at_home: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class SupervisorAttendance(Base):
    """A supervisor's attendance once marked; a supervisor with no row reads SCHEDULED."""

    __tablename__ = "supervisor_attendance"
    __table_args__ = (UniqueConstraint("session_id", "staff_id", name="uq_supervisor_attendance_staff"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"))
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(16), default=AttendanceStatus.SCHEDULED)
    updated_at: Mapped[datetime] = timestamp_now()


class AcceptedBillingIssue(Base):
    __tablename__ = "accepted_billing_issues"
    __table_args__ = (UniqueConstraint("session_id", "code", name="uq_accepted_billing_issues_code"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_sessions.id"))
    code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = timestamp_now()
