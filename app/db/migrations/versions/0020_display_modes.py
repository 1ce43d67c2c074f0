"""A room display's mode: STAFF (as before) or PATIENT_FACING, for screens patients can see (no
billing panel, no member's status).

Revision ID: 0020_display_modes
Revises: 0019_shared_limits
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_display_modes"
down_revision = "0019_shared_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("room_displays", sa.Column("mode", sa.String(length=16), server_default="STAFF", nullable=False))


def downgrade() -> None:
    op.drop_column("room_displays", "mode")
