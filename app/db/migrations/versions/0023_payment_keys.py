"""A payment is posted once: an 835 the clearinghouse sends again in a new envelope (another ISA13, another file
hash) names the same claim payments, found by their identity (payer, TRN02, CLP01, CLP02, CLP07 and amounts) on
the lines they posted, and the same PLB adjustments by theirs. Rows posted before have no key.

Revision ID: 0023_payment_keys
Revises: 0022_roster_entries
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_payment_keys"
down_revision = "0022_roster_entries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("remittance_lines", sa.Column("payment_key", sa.String(64), nullable=True))
    op.add_column("remittance_lines", sa.Column("line_number", sa.Integer(), nullable=True))
    op.create_index("uq_remittance_lines_payment", "remittance_lines", ["payment_key", "line_number"], unique=True)
    op.add_column("provider_adjustments", sa.Column("adjustment_key", sa.String(64), nullable=True))
    op.create_unique_constraint("uq_provider_adjustments_adjustment_key", "provider_adjustments", ["adjustment_key"])


def downgrade() -> None:
    op.drop_constraint("uq_provider_adjustments_adjustment_key", "provider_adjustments", type_="unique")
    op.drop_column("provider_adjustments", "adjustment_key")
    op.drop_index("uq_remittance_lines_payment", table_name="remittance_lines")
    op.drop_column("remittance_lines", "line_number")
    op.drop_column("remittance_lines", "payment_key")
