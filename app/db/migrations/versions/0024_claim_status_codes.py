"""A claim keeps what its last 277CA said (005010X214 STC): the status category of STC01 and every status
composite (STC01, STC10, STC11) with its text, beside the status it moved the claim to.

Revision ID: 0024_claim_status_codes
Revises: 0023_payment_keys
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024_claim_status_codes"
down_revision = "0023_payment_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claims", sa.Column("status_category", sa.String(30), nullable=True))
    op.add_column("claims", sa.Column("status_codes", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("claims", "status_codes")
    op.drop_column("claims", "status_category")
