"""Calendar feeds: a secret URL per feed (only its hash is kept) for a group's or a facilitator's schedule."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk


class CalendarFeed(Base):
    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("(group_id IS NULL) <> (staff_id IS NULL)", name="one_subject"),
        Index("ix_calendar_feeds_facility", "facility_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    facility_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facilities.id"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("group_definitions.id"))
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    label: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = timestamp_now()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When its URL stops answering (GS_CALENDAR_FEED_DAYS after it was made); None: made before feeds expired.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
