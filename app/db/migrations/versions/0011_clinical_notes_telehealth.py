"""Clinical documentation (issue 19): group notes, member notes, addenda, each payer's
documentation rule (signed note, minimum minutes, co-sign states, telehealth coding); roster rows
record arrival, departure and how the member joined; sessions a modality; charges a place of service.

Revision ID: 0019
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payer_documentation_rules",
        sa.Column("payer_id", sa.UUID(), nullable=False),
        sa.Column("signed_note", sa.String(length=12), nullable=False),
        sa.Column("minimum_minutes", sa.Integer(), nullable=True),
        sa.Column("cosign_states", postgresql.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column("telehealth", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "minimum_minutes IS NULL OR minimum_minutes >= 1",
            name=op.f("ck_payer_documentation_rules_minimum_positive"),
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_payer_documentation_rules_payer_id_payers")),
        sa.PrimaryKeyConstraint("payer_id", name=op.f("pk_payer_documentation_rules")),
    )
    op.create_table(
        "group_notes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("interventions", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("group_dynamics", sa.Text(), nullable=True),
        sa.Column("free_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cosigned_by", sa.UUID(), nullable=True),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["staff.id"], name=op.f("fk_group_notes_author_id_staff")),
        sa.ForeignKeyConstraint(["cosigned_by"], ["staff.id"], name=op.f("fk_group_notes_cosigned_by_staff")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["group_sessions.id"], name=op.f("fk_group_notes_session_id_group_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_notes")),
        sa.UniqueConstraint("session_id", name=op.f("uq_group_notes_session_id")),
    )
    op.create_table(
        "member_notes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("group_note_id", sa.UUID(), nullable=False),
        sa.Column("roster_entry_id", sa.UUID(), nullable=False),
        sa.Column("patient_id", sa.UUID(), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=False),
        sa.Column("participation", sa.String(length=16), nullable=True),
        sa.Column("response_to_interventions", sa.Text(), nullable=True),
        sa.Column("progress_toward_goals", sa.Text(), nullable=True),
        sa.Column("risk_flags", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cosigned_by", sa.UUID(), nullable=True),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["staff.id"], name=op.f("fk_member_notes_author_id_staff")),
        sa.ForeignKeyConstraint(["cosigned_by"], ["staff.id"], name=op.f("fk_member_notes_cosigned_by_staff")),
        sa.ForeignKeyConstraint(
            ["group_note_id"], ["group_notes.id"], name=op.f("fk_member_notes_group_note_id_group_notes")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_member_notes_patient_id_patients")),
        sa.ForeignKeyConstraint(
            ["roster_entry_id"],
            ["session_participants.id"],
            name=op.f("fk_member_notes_roster_entry_id_session_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["group_sessions.id"], name=op.f("fk_member_notes_session_id_group_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_notes")),
        sa.UniqueConstraint("roster_entry_id", name=op.f("uq_member_notes_roster_entry_id")),
    )
    op.create_index(op.f("ix_member_notes_patient_id"), "member_notes", ["patient_id"], unique=False)
    op.create_index("ix_member_notes_session", "member_notes", ["session_id"], unique=False)
    op.create_table(
        "note_addenda",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("group_note_id", sa.UUID(), nullable=True),
        sa.Column("member_note_id", sa.UUID(), nullable=True),
        sa.Column("author_id", sa.UUID(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(group_note_id IS NULL) <> (member_note_id IS NULL)", name=op.f("ck_note_addenda_one_note")
        ),
        sa.ForeignKeyConstraint(["author_id"], ["staff.id"], name=op.f("fk_note_addenda_author_id_staff")),
        sa.ForeignKeyConstraint(
            ["group_note_id"], ["group_notes.id"], name=op.f("fk_note_addenda_group_note_id_group_notes")
        ),
        sa.ForeignKeyConstraint(
            ["member_note_id"], ["member_notes.id"], name=op.f("fk_note_addenda_member_note_id_member_notes")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["group_sessions.id"], name=op.f("fk_note_addenda_session_id_group_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_addenda")),
    )
    op.create_index("ix_note_addenda_group_note", "note_addenda", ["group_note_id"], unique=False)
    op.create_index("ix_note_addenda_member_note", "note_addenda", ["member_note_id"], unique=False)
    op.add_column("charges", sa.Column("place_of_service", sa.String(length=2), server_default="11", nullable=False))
    op.add_column(
        "group_sessions", sa.Column("modality", sa.String(length=20), server_default="IN_PERSON", nullable=False)
    )
    op.add_column("session_participants", sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("session_participants", sa.Column("departed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("session_participants", sa.Column("modality", sa.String(length=20), nullable=True))
    op.add_column(
        "session_participants", sa.Column("patient_at_home", sa.Boolean(), server_default="true", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("session_participants", "patient_at_home")
    op.drop_column("session_participants", "modality")
    op.drop_column("session_participants", "departed_at")
    op.drop_column("session_participants", "arrived_at")
    op.drop_column("group_sessions", "modality")
    op.drop_column("charges", "place_of_service")
    op.drop_index("ix_note_addenda_member_note", table_name="note_addenda")
    op.drop_index("ix_note_addenda_group_note", table_name="note_addenda")
    op.drop_table("note_addenda")
    op.drop_index("ix_member_notes_session", table_name="member_notes")
    op.drop_index(op.f("ix_member_notes_patient_id"), table_name="member_notes")
    op.drop_table("member_notes")
    op.drop_table("group_notes")
    op.drop_table("payer_documentation_rules")
