"""Clinic fidelity (issue 16): when billing found an ended session's preview blocked (awaiting
finalization).

Revision ID: 0016
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('group_sessions', sa.Column('awaiting_finalization_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('group_sessions', 'awaiting_finalization_at')
