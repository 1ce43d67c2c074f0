"""Index sessions by start alone: the list page of an all-facility caller filters by time only.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_group_sessions_starts", "group_sessions", ["starts_at"])


def downgrade() -> None:
    op.drop_index("ix_group_sessions_starts", table_name="group_sessions")
