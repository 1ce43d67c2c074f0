"""A sequence for X12 interchange control numbers (ISA13), unique per sender.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE IF NOT EXISTS edi_interchange_seq START 1 MAXVALUE 999999999 CYCLE")


def downgrade() -> None:
    op.execute("DROP SEQUENCE IF EXISTS edi_interchange_seq")
