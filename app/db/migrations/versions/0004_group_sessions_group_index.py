"""Index a group's sessions by start, for roster updates from enrollment events.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_group_sessions_group_starts", "group_sessions", ["group_id", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_group_sessions_group_starts", table_name="group_sessions")
