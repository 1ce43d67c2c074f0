"""The billing sweep's index matches its question (billed_at IS NULL), so it no longer scans.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_group_sessions_due", table_name="group_sessions")
    op.create_index(
        "ix_group_sessions_due",
        "group_sessions",
        ["ends_at"],
        postgresql_where="billed_at IS NULL AND cancelled_at IS NULL",
    )


def downgrade() -> None:
    op.drop_index("ix_group_sessions_due", table_name="group_sessions")
    op.create_index(
        "ix_group_sessions_due",
        "group_sessions",
        ["ends_at"],
        postgresql_where="locked_at IS NULL AND cancelled_at IS NULL",
    )
