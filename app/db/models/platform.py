"""Cross-cutting records: audit trail, integration-event outbox, idempotency keys, consumer offsets."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, timestamp_now


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        Index("ix_audit_entries_session", "session_id"),
        Index("ix_audit_entries_group", "group_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = timestamp_now()
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    session_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    group_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)


class IntegrationEvent(Base):
    """Transactional outbox. Ids are handed out under a commit-order lock (see app.db.outbox)."""

    __tablename__ = "integration_events"
    __table_args__ = (Index("ix_integration_events_unpublished", "id", postgresql_where="published_at IS NULL"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime] = timestamp_now()
    payload: Mapped[dict] = mapped_column(JSONB)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsumerOffset(Base):
    """How far an in-process consumer of the event feed has read."""

    __tablename__ = "consumer_offsets"

    consumer: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"),)

    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # Who sent the first request: a replay goes only to a token holding all of these.
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    facilities: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    status_code: Mapped[int | None] = mapped_column(Integer)
    # The first response, encrypted (app.idempotency.ResponseSeal): it may name a patient.
    sealed_response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_now()


class ReadVersion(Base):
    """What a cached read was computed from (app/http/read_cache.py): one row per facility (its sessions,
    rosters, supervisors, notes, billing rows, groups) and one keyed `global` (everything else a page
    can show: patients, staff, payers, coverages, bands). Triggers on every table a page can read
    (migration 0021_read_versions) give the key a new number from the `read_version_numbers`
    sequence at the commit of any transaction that wrote to it, so equal numbers mean nothing changed."""

    __tablename__ = "read_versions"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ReadVersionMark(Base):
    """One row per writing transaction while it runs: its deferred trigger bumps the transaction's
    keys at commit (in key order, so two transactions never wait for each other's keys in a circle)
    and deletes the row."""

    __tablename__ = "read_version_marks"

    transaction_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AttemptCounter(Base):
    """Attempts per key in a window that starts at the key's first attempt, shared by every process
    (app.db.queries.limits): the pairing-code guess limit per caller and per facility."""

    __tablename__ = "attempt_counters"
    __table_args__ = (Index("ix_attempt_counters_window_start", "window_start"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer)


__all__ = [
    "AttemptCounter",
    "AuditEntry",
    "IntegrationEvent",
    "ConsumerOffset",
    "IdempotencyKey",
    "ReadVersion",
    "ReadVersionMark",
]
