"""A claim's life after SUBMITTED: room for the longer statuses (PARTIALLY_PAID) and the payer's claim
control number, which every later void or replacement sends in REF*F8.

Revision ID: 0014_claim_lifecycle
Revises: 0013_webhooks
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_claim_lifecycle"
down_revision = "0013_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("claims", "status", type_=sa.String(length=16), existing_type=sa.String(length=12))
    op.add_column("claims", sa.Column("payer_claim_number", sa.String(length=50), nullable=True))


def downgrade() -> None:
    op.drop_column("claims", "payer_claim_number")
    op.alter_column("claims", "status", type_=sa.String(length=12), existing_type=sa.String(length=16))
