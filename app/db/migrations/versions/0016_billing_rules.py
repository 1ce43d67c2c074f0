"""Issue 24's billing rules for notes: the text a member note was drafted with (signing it needs
more), a late entry's reason on group and member notes, and the window after a session within
which its notes are signed on time (a payer's rule may set one; the facility's applies otherwise).
Telehealth: where the patient was is attested, never defaulted (existing rows keep what they
hold), and a payer's rule may allow audio-only away from home.

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
    op.add_column(
        "payer_documentation_rules",
        sa.Column("audio_only_away_from_home", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.alter_column(
        "session_participants", "patient_at_home", existing_type=sa.Boolean(), nullable=True, server_default=None
    )


def downgrade() -> None:
    op.execute("UPDATE session_participants SET patient_at_home = true WHERE patient_at_home IS NULL")
    op.alter_column(
        "session_participants", "patient_at_home", existing_type=sa.Boolean(), nullable=False, server_default="true"
    )
    op.drop_column("payer_documentation_rules", "audio_only_away_from_home")
    op.drop_column("facilities", "note_late_entry_hours")
    op.drop_column("payer_documentation_rules", "late_entry_hours")
    op.drop_column("group_notes", "late_entry_reason")
    op.drop_column("member_notes", "late_entry_reason")
    op.drop_column("member_notes", "prefilled_text")
