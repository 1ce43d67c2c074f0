"""One name for a roster row, end to end: the table `session_participants` becomes `roster_entries`, with
its keys and indexes named after it. A rename keeps every row and every reference (member notes).

Revision ID: 0022_roster_entries
Revises: 0021_read_versions
"""

from alembic import op

revision = "0022_roster_entries"
down_revision = "0021_read_versions"
branch_labels = None
depends_on = None

RENAMES = (
    ("CONSTRAINT", "pk_session_participants", "pk_roster_entries"),
    ("CONSTRAINT", "uq_session_participants_patient", "uq_roster_entries_patient"),
    ("CONSTRAINT", "fk_session_participants_patient_id_patients", "fk_roster_entries_patient_id_patients"),
    (
        "CONSTRAINT",
        "fk_session_participants_session_id_group_sessions",
        "fk_roster_entries_session_id_group_sessions",
    ),
    ("INDEX", "ix_session_participants_patient_id", "ix_roster_entries_patient_id"),
)


def _rename(old_table: str, new_table: str, *, undo: bool) -> None:
    op.execute(f"ALTER TABLE {old_table} RENAME TO {new_table}")
    for kind, before, after in RENAMES:
        if undo:
            before, after = after, before
        if kind == "INDEX":
            op.execute(f"ALTER INDEX {before} RENAME TO {after}")
        else:
            op.execute(f"ALTER TABLE {new_table} RENAME CONSTRAINT {before} TO {after}")


def upgrade() -> None:
    _rename("session_participants", "roster_entries", undo=False)
    op.execute(
        "ALTER TABLE member_notes RENAME CONSTRAINT fk_member_notes_roster_entry_id_session_participants "
        "TO fk_member_notes_roster_entry_id_roster_entries"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE member_notes RENAME CONSTRAINT fk_member_notes_roster_entry_id_roster_entries "
        "TO fk_member_notes_roster_entry_id_session_participants"
    )
    _rename("roster_entries", "session_participants", undo=True)
