"""Claims a clearinghouse accepts: facility and staff taxonomy codes, the facility's clearinghouse submitter id,
and each payer's claim filing indicator (SBR09), receiver id, taxonomy requirement and test mode (ISA15).

Revision ID: 0015_clearinghouse_claims
Revises: 0014_claim_lifecycle
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_clearinghouse_claims"
down_revision = "0014_claim_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("facilities", sa.Column("taxonomy", sa.String(length=10), nullable=True))
    op.add_column("facilities", sa.Column("submitter_id", sa.String(length=15), nullable=True))
    op.add_column("staff", sa.Column("taxonomy", sa.String(length=10), nullable=True))
    op.add_column(
        "payers", sa.Column("claim_filing_indicator", sa.String(length=2), server_default="CI", nullable=False)
    )
    op.add_column("payers", sa.Column("receiver_id", sa.String(length=15), nullable=True))
    op.add_column("payers", sa.Column("taxonomy_required", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("payers", sa.Column("test_mode", sa.Boolean(), server_default="false", nullable=False))


def downgrade() -> None:
    for column in ("test_mode", "taxonomy_required", "receiver_id", "claim_filing_indicator"):
        op.drop_column("payers", column)
    op.drop_column("staff", "taxonomy")
    op.drop_column("facilities", "submitter_id")
    op.drop_column("facilities", "taxonomy")
