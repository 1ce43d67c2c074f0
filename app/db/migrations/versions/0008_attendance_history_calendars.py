"""Attendance history, absence alerts and calendar feeds (issue 20): the consecutive-absence
thresholds per group type (seeded: IOP and PHP 2, every other type 3), the enrollments they flag,
calendar feed tokens (hashes only), each occurrence's RFC 5545 SEQUENCE, and an index for a
facilitator's feed.

Revision ID: 0020
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "absence_thresholds",
        sa.Column("group_type", sa.String(length=32), nullable=False),
        sa.Column("consecutive_absences", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "consecutive_absences >= 1", name=op.f("ck_absence_thresholds_consecutive_absences_positive")
        ),
        sa.PrimaryKeyConstraint("group_type", name=op.f("pk_absence_thresholds")),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("facility_id", sa.UUID(), nullable=False),
        sa.Column("group_id", sa.UUID(), nullable=True),
        sa.Column("staff_id", sa.UUID(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(group_id IS NULL) <> (staff_id IS NULL)", name=op.f("ck_calendar_feeds_one_subject")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_calendar_feeds_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_definitions.id"], name=op.f("fk_calendar_feeds_group_id_group_definitions")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_calendar_feeds_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_index("ix_calendar_feeds_facility", "calendar_feeds", ["facility_id"], unique=False)
    op.create_table(
        "absence_alerts",
        sa.Column("enrollment_id", sa.UUID(), nullable=False),
        sa.Column("group_id", sa.UUID(), nullable=False),
        sa.Column("patient_id", sa.UUID(), nullable=False),
        sa.Column("facility_id", sa.UUID(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("session_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_absence_alerts_enrollment_id_enrollments")
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_absence_alerts_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_definitions.id"], name=op.f("fk_absence_alerts_group_id_group_definitions")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_absence_alerts_patient_id_patients")),
        sa.PrimaryKeyConstraint("enrollment_id", name=op.f("pk_absence_alerts")),
    )
    op.create_index("ix_absence_alerts_facility_since", "absence_alerts", ["facility_id", "since"], unique=False)
    op.add_column("group_occurrences", sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "ix_group_occurrences_facilitator_starts", "group_occurrences", ["facilitator_id", "starts_at"], unique=False
    )
    op.bulk_insert(
        sa.table(
            "absence_thresholds", sa.column("group_type", sa.String), sa.column("consecutive_absences", sa.Integer)
        ),
        [
            {"group_type": group_type, "consecutive_absences": 2 if group_type in ("IOP", "PHP") else 3}
            for group_type in ("THERAPY", "PSYCHOEDUCATION", "SKILLS_TRAINING", "SUPPORT", "IOP", "PHP", "OTHER")
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_group_occurrences_facilitator_starts", table_name="group_occurrences")
    op.drop_column("group_occurrences", "sequence")
    op.drop_index("ix_absence_alerts_facility_since", table_name="absence_alerts")
    op.drop_table("absence_alerts")
    op.drop_index("ix_calendar_feeds_facility", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    op.drop_table("absence_thresholds")
