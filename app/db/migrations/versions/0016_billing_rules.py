"""Issue 24's billing rules: the text a member note was drafted with (signing it needs more).

Revision ID: 0016_billing_rules
Revises: 0014_claim_lifecycle
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_billing_rules"
down_revision = "0014_claim_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("member_notes", sa.Column("prefilled_text", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("member_notes", "prefilled_text")
