"""Room displays: a screen on a room's wall, paired with a short code to a facility and a location
(the groups' `location`), holding a device credential of its own (display scope only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now, uuid_pk


class RoomDisplay(Base):
    __tablename__ = "room_displays"
    __table_args__ = (
        Index("ix_room_displays_facility", "facility_id"),
        Index("ix_room_displays_pairing_code", "pairing_code", postgresql_where="pairing_code IS NOT NULL"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # Unpaired: a code on the screen and the hash of the secret the screen polls with.
    pairing_code: Mapped[str | None] = mapped_column(String(16))
    pairing_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claim_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Paired: where it hangs and who paired it.
    facility_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("facilities.id"))
    location: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(200))
    # What it shows (app.rules.displays.DisplayMode): STAFF, or PATIENT_FACING for screens patients see.
    mode: Mapped[str] = mapped_column(String(16), default="STAFF", server_default="STAFF")
    paired_by: Mapped[str | None] = mapped_column(String(200))
    paired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The device credential: a token names its generation; rotating bumps it, older ones stop working.
    credential_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    credential_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = timestamp_now()
