"""Issue 24's billing rules for notes: the text a member note was drafted with (signing it needs
more), a late entry's reason on group and member notes, and the window after a session within
which its notes are signed on time (a payer's rule may set one; the facility's applies otherwise).

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
    op.add_column("member_notes", sa.Column("late_entry_reason", sa.Text(), nullable=True))
    op.add_column("group_notes", sa.Column("late_entry_reason", sa.Text(), nullable=True))
    op.add_column("payer_documentation_rules", sa.Column("late_entry_hours", sa.Integer(), nullable=True))
    op.add_column("facilities", sa.Column("note_late_entry_hours", sa.Integer(), nullable=False, server_default="72"))


def downgrade() -> None:
    op.drop_column("facilities", "note_late_entry_hours")
    op.drop_column("payer_documentation_rules", "late_entry_hours")
    op.drop_column("group_notes", "late_entry_reason")
    op.drop_column("member_notes", "late_entry_reason")
    op.drop_column("member_notes", "prefilled_text")
