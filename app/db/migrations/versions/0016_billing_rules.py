"""Issue 24's billing rules for notes: the text a member note was drafted with (signing it needs
more), a late entry's reason on group and member notes, and the window after a session within
which its notes are signed on time (a payer's rule may set one; the facility's applies otherwise).
Telehealth: where the patient was is attested, never defaulted (existing rows keep what they
hold), and a payer's rule may allow audio-only away from home. Charges: the facility's fee schedule
(one price per code and modifiers) and each charge's expected payment (the payer's rate).

Revision ID: 0016_billing_rules
Revises: 0015_clearinghouse_claims
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016_billing_rules"
down_revision = "0015_clearinghouse_claims"
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
    op.create_table(
        "facility_fees",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("facility_id", sa.UUID(), nullable=False),
        sa.Column("procedure_code", sa.String(length=10), nullable=False),
        sa.Column("modifiers", postgresql.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_facility_fees_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_facility_fees_facility_id_facilities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_fees")),
    )
    op.create_index(
        "uq_facility_fees_code", "facility_fees", ["facility_id", "procedure_code", "modifiers"], unique=True
    )
    op.add_column("charges", sa.Column("expected_amount", sa.Numeric(precision=10, scale=2), nullable=True))


def downgrade() -> None:
    op.drop_column("charges", "expected_amount")
    op.drop_index("uq_facility_fees_code", table_name="facility_fees")
    op.drop_table("facility_fees")
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
