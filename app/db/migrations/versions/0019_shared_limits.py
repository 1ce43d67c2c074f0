"""Limits shared by every process: attempt counters (the pairing-code guess limit per caller and per
facility), counted atomically in PostgreSQL instead of in each process's memory; and calendar feeds
that expire.

Revision ID: 0019_shared_limits
Revises: 0018_eligibility_authorizations
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_shared_limits"
down_revision = "0018_eligibility_authorizations"
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
    op.add_column("calendar_feeds", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("calendar_feeds", "expires_at")
    op.drop_index("ix_attempt_counters_window_start", table_name="attempt_counters")
    op.drop_table("attempt_counters")
