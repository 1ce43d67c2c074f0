"""Per-group sequence for live group updates.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("group_definitions", sa.Column("update_sequence", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("group_definitions", "update_sequence")
