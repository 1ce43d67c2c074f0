"""Eligibility, prior authorizations and program billing (issue 29): each 270/271 check, a payer's
coverage rule, prior authorizations with what each charge drew from them, per-diem programs, and charges and
claims marked per diem (a session's own line and its day's per-diem line each once per member).

Revision ID: 0018_eligibility_authorizations
Revises: 0017_payer_answers
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018_eligibility_authorizations"
down_revision = "0017_payer_answers"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "eligibility_checks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("patient_id", sa.UUID(), nullable=False),
        sa.Column("payer_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.String(length=80), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("plan_name", sa.String(length=60), nullable=True),
        sa.Column("coverage_from", sa.Date(), nullable=True),
        sa.Column("coverage_to", sa.Date(), nullable=True),
        sa.Column("cost_sharing", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rejection", sa.String(length=300), nullable=True),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("inquiry", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_eligibility_checks_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_eligibility_checks_payer_id_payers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_checks")),
    )
    op.create_index("ix_eligibility_checks_patient_date", "eligibility_checks", ["patient_id", "service_date"])
    op.create_table(
        "payer_coverage_rules",
        sa.Column("payer_id", sa.UUID(), nullable=False),
        sa.Column("eligibility_required", sa.Boolean(), nullable=False),
        sa.Column("authorization_required", sa.Boolean(), nullable=False),
        sa.Column("expiring_days", sa.Integer(), nullable=False),
        sa.Column("expiring_units", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint(
            "expiring_days >= 0 AND expiring_units >= 0", name=op.f("ck_payer_coverage_rules_thresholds_non_negative")
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_payer_coverage_rules_payer_id_payers")),
        sa.PrimaryKeyConstraint("payer_id", name=op.f("pk_payer_coverage_rules")),
    )
    op.create_table(
        "prior_authorizations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("patient_id", sa.UUID(), nullable=False),
        sa.Column("payer_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(length=50), nullable=False),
        sa.Column("service_codes", postgresql.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("program", sa.String(length=32), nullable=True),
        sa.Column("unit_kind", sa.String(length=8), nullable=False),
        sa.Column("authorized", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("expiring_announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("authorized >= 1", name=op.f("ck_prior_authorizations_authorized_positive")),
        sa.CheckConstraint(
            "used >= 0 AND used <= authorized", name=op.f("ck_prior_authorizations_used_within_authorized")
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_prior_authorizations_date_range")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prior_authorizations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_prior_authorizations_payer_id_payers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_authorizations")),
    )
    op.create_index("ix_prior_authorizations_patient", "prior_authorizations", ["patient_id"])
    op.create_table(
        "authorization_uses",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("authorization_id", sa.UUID(), nullable=False),
        sa.Column("charge_id", sa.UUID(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["prior_authorizations.id"],
            name=op.f("fk_authorization_uses_authorization_id_prior_authorizations"),
        ),
        sa.ForeignKeyConstraint(["charge_id"], ["charges.id"], name=op.f("fk_authorization_uses_charge_id_charges")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_uses")),
    )
    op.create_index("ix_authorization_uses_authorization", "authorization_uses", ["authorization_id"])
    op.create_index(
        "uq_authorization_uses_live_charge",
        "authorization_uses",
        ["charge_id"],
        unique=True,
        postgresql_where=sa.text("returned_at IS NULL"),
    )
    op.create_table(
        "payer_programs",
        sa.Column("payer_id", sa.UUID(), nullable=False),
        sa.Column("program", sa.String(length=32), nullable=False),
        sa.Column("procedure_code", sa.String(length=10), nullable=False),
        sa.Column("modifiers", postgresql.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column("rate", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("minimum_hours", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("sessions_bill_too", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("minimum_hours > 0", name=op.f("ck_payer_programs_minimum_positive")),
        sa.CheckConstraint("rate >= 0", name=op.f("ck_payer_programs_rate_non_negative")),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_payer_programs_payer_id_payers")),
        sa.PrimaryKeyConstraint("payer_id", "program", name=op.f("pk_payer_programs")),
    )
    # Per-diem lines beside a session's own: the one-active-charge and one-open-claim rules hold per kind.
    op.add_column("charges", sa.Column("per_diem", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("claims", sa.Column("per_diem", sa.Boolean(), server_default="false", nullable=False))
    op.drop_index("uq_charges_active_member", table_name="charges")
    op.create_index(
        "uq_charges_active_member",
        "charges",
        ["session_id", "patient_id", "per_diem"],
        unique=True,
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.create_index(
        "uq_charges_active_per_diem_day",
        "charges",
        ["patient_id", "service_date"],
        unique=True,
        postgresql_where=sa.text("status = 'ACTIVE' AND per_diem"),
    )
    op.drop_index("uq_claims_open_member", table_name="claims")
    op.create_index(
        "uq_claims_open_member",
        "claims",
        ["session_id", "patient_id", "per_diem"],
        unique=True,
        postgresql_where=sa.text("status IN ('DRAFT', 'SUBMITTED') AND frequency <> 'VOID'"),
    )


def downgrade() -> None:
    op.drop_index("uq_claims_open_member", table_name="claims")
    op.create_index(
        "uq_claims_open_member",
        "claims",
        ["session_id", "patient_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('DRAFT', 'SUBMITTED') AND frequency <> 'VOID'"),
    )
    op.drop_index("uq_charges_active_per_diem_day", table_name="charges")
    op.drop_index("uq_charges_active_member", table_name="charges")
    op.create_index(
        "uq_charges_active_member",
        "charges",
        ["session_id", "patient_id"],
        unique=True,
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.drop_column("claims", "per_diem")
    op.drop_column("charges", "per_diem")
    op.drop_table("payer_programs")
    op.drop_index("uq_authorization_uses_live_charge", table_name="authorization_uses")
    op.drop_index("ix_authorization_uses_authorization", table_name="authorization_uses")
    op.drop_table("authorization_uses")
    op.drop_index("ix_prior_authorizations_patient", table_name="prior_authorizations")
    op.drop_table("prior_authorizations")
    op.drop_table("payer_coverage_rules")
    op.drop_index("ix_eligibility_checks_patient_date", table_name="eligibility_checks")
    op.drop_table("eligibility_checks")
