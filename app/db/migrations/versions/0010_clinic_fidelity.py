"""Clinic fidelity (issue 16): when billing found an ended session's preview blocked (awaiting
finalization); patients' ICD-10-CM diagnoses; an occurrence's own co-facilitator and location and a
session's facilitator (backfilled from their group and occurrence), so group edits reach only
occurrences that have not started.

Revision ID: 0016
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("group_sessions", sa.Column("awaiting_finalization_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "patient_diagnoses",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("patient_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_patient_diagnoses_position_positive")),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name=op.f("ck_patient_diagnoses_effective_range")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_patient_diagnoses_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_diagnoses")),
        sa.UniqueConstraint("patient_id", "position", name="uq_patient_diagnoses_position"),
    )

    op.add_column("group_occurrences", sa.Column("co_facilitator_id", sa.UUID(), nullable=True))
    op.add_column("group_occurrences", sa.Column("location", sa.String(length=200), nullable=True))
    op.create_foreign_key(
        op.f("fk_group_occurrences_co_facilitator_id_staff"),
        "group_occurrences",
        "staff",
        ["co_facilitator_id"],
        ["id"],
    )
    op.add_column("group_sessions", sa.Column("facilitator_id", sa.UUID(), nullable=True))
    op.execute(
        "UPDATE group_occurrences o SET co_facilitator_id = g.co_facilitator_id, location = g.location "
        "FROM group_definitions g WHERE g.id = o.group_id"
    )
    op.execute(
        "UPDATE group_sessions s SET facilitator_id = o.facilitator_id FROM group_occurrences o WHERE o.id = s.occurrence_id"
    )


def downgrade() -> None:
    op.drop_column("group_sessions", "facilitator_id")
    op.drop_constraint(op.f("fk_group_occurrences_co_facilitator_id_staff"), "group_occurrences", type_="foreignkey")
    op.drop_column("group_occurrences", "location")
    op.drop_column("group_occurrences", "co_facilitator_id")
    op.drop_table("patient_diagnoses")
    op.drop_column("group_sessions", "awaiting_finalization_at")
