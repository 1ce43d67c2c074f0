"""Limits shared by every process: attempt counters (the pairing-code guess limit per caller and per
facility), counted atomically in PostgreSQL instead of in each process's memory.

Revision ID: 0019_shared_limits
Revises: 0014_claim_lifecycle
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_shared_limits"
down_revision = "0014_claim_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_attempt_counters")),
    )
    op.create_index("ix_attempt_counters_window_start", "attempt_counters", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_attempt_counters_window_start", table_name="attempt_counters")
    op.drop_table("attempt_counters")
