"""Idempotency keys remember the first caller's scopes and facilities, and keep the first response
encrypted (sealed_response) instead of in plain text; stored plain responses are dropped.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A key lives 24 hours; the plain responses (patient names, MRNs) must not stay on disk.
    op.execute("DELETE FROM idempotency_keys")
    op.drop_column("idempotency_keys", "response")
    op.add_column("idempotency_keys", sa.Column("sealed_response", sa.Text(), nullable=True))
    op.add_column("idempotency_keys", sa.Column("scopes", ARRAY(sa.Text()), server_default="{}", nullable=False))
    op.add_column("idempotency_keys", sa.Column("facilities", ARRAY(sa.Text()), server_default="{}", nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    op.drop_column("idempotency_keys", "facilities")
    op.drop_column("idempotency_keys", "scopes")
    op.drop_column("idempotency_keys", "sealed_response")
    op.add_column("idempotency_keys", sa.Column("response", sa.Text(), nullable=True))
