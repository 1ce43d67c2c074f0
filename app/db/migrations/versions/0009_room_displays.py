"""Room displays (issue 18): paired screens bound to a facility and a location, their pairing codes
and device credential generations; each facility's name format for its displays.

Revision ID: 0018
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "facilities",
        sa.Column(
            "display_name_format", sa.String(length=32), server_default="FIRST_NAME_LAST_INITIAL", nullable=False
        ),
    )
    op.create_table(
        "room_displays",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("pairing_code", sa.String(length=16), nullable=True),
        sa.Column("pairing_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_hash", sa.String(length=64), nullable=True),
        sa.Column("facility_id", sa.UUID(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("paired_by", sa.String(length=200), nullable=True),
        sa.Column("paired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credential_generation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("credential_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_room_displays_facility_id_facilities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_displays")),
        sa.UniqueConstraint("claim_hash", name=op.f("uq_room_displays_claim_hash")),
    )
    op.create_index("ix_room_displays_facility", "room_displays", ["facility_id"], unique=False)
    op.create_index(
        "ix_room_displays_pairing_code",
        "room_displays",
        ["pairing_code"],
        unique=False,
        postgresql_where=sa.text("pairing_code IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_room_displays_pairing_code", table_name="room_displays")
    op.drop_index("ix_room_displays_facility", table_name="room_displays")
    op.drop_table("room_displays")
    op.drop_column("facilities", "display_name_format")
