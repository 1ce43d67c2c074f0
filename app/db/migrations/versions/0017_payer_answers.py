"""The payer's answers, and the daily batches our claims go in: claim batches (one 837P interchange per facility
and payer); imported X12 files (999, 277CA, 835) kept once by content hash, 835 service lines posted
to charges, PLB provider adjustments; a claim's interchange, the payer's reason and when it answered; a payer's
timely-filing limit.

Revision ID: 0017_payer_answers
Revises: 0016_billing_rules
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017_payer_answers"
down_revision = "0016_billing_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claim_batches",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("facility_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("payer_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("control_number", sa.Integer(), nullable=False),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_claim_batches_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_claim_batches_payer_id_payers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_batches")),
        sa.UniqueConstraint("control_number", name=op.f("uq_claim_batches_control_number")),
    )
    op.create_index("ix_claim_batches_facility_created", "claim_batches", ["facility_id", "created_at"])
    op.add_column("claims", sa.Column("interchange_number", sa.Integer(), nullable=True))
    op.add_column("claims", sa.Column("transaction_set_number", sa.String(length=9), nullable=True))
    op.add_column("claims", sa.Column("batch_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.create_foreign_key(op.f("fk_claims_batch_id_claim_batches"), "claims", "claim_batches", ["batch_id"], ["id"])
    op.add_column("claims", sa.Column("payer_reason", sa.Text(), nullable=True))
    op.add_column("claims", sa.Column("denial_carc", sa.String(length=8), nullable=True))
    op.add_column("claims", sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("payers", sa.Column("timely_filing_days", sa.Integer(), server_default="365", nullable=False))
    op.create_table(
        "edi_files",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("control_number", sa.String(length=9), nullable=False),
        sa.Column("sender_id", sa.String(length=15), nullable=False),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_files")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_edi_files_content_hash")),
    )
    op.create_table(
        "remittance_lines",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("edi_file_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("claim_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("charge_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("patient_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("payer_claim_number", sa.String(length=50), nullable=False),
        sa.Column("claim_status_code", sa.String(length=2), nullable=False),
        sa.Column("procedure_code", sa.String(length=10), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("charged", sa.Numeric(12, 2), nullable=False),
        sa.Column("paid", sa.Numeric(12, 2), nullable=False),
        sa.Column("contractual", sa.Numeric(12, 2), nullable=False),
        sa.Column("patient_responsibility", sa.Numeric(12, 2), nullable=False),
        sa.Column("other_adjustments", sa.Numeric(12, 2), nullable=False),
        sa.Column("allowed", sa.Numeric(12, 2), nullable=True),
        sa.Column("expected", sa.Numeric(12, 2), nullable=True),
        sa.Column("underpaid_by", sa.Numeric(12, 2), nullable=False),
        sa.Column("adjustments", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("denial_reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("remarks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["charge_id"], ["charges.id"], name=op.f("fk_remittance_lines_charge_id_charges")),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_remittance_lines_claim_id_claims")),
        sa.ForeignKeyConstraint(
            ["edi_file_id"], ["edi_files.id"], name=op.f("fk_remittance_lines_edi_file_id_edi_files")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_remittance_lines_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittance_lines")),
    )
    op.create_index("ix_remittance_lines_claim", "remittance_lines", ["claim_id"])
    op.create_index("ix_remittance_lines_charge", "remittance_lines", ["charge_id"])
    op.create_index("ix_remittance_lines_patient", "remittance_lines", ["patient_id"])
    op.create_table(
        "provider_adjustments",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("edi_file_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("provider_id", sa.String(length=80), nullable=False),
        sa.Column("fiscal_period_end", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=4), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=50), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["edi_file_id"], ["edi_files.id"], name=op.f("fk_provider_adjustments_edi_file_id_edi_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_adjustments")),
    )
    op.create_index(op.f("ix_provider_adjustments_edi_file_id"), "provider_adjustments", ["edi_file_id"], unique=False)


def downgrade() -> None:
    op.drop_table("provider_adjustments")
    op.drop_table("remittance_lines")
    op.drop_table("edi_files")
    op.drop_column("payers", "timely_filing_days")
    op.drop_column("claims", "answered_at")
    op.drop_column("claims", "denial_carc")
    op.drop_column("claims", "payer_reason")
    op.drop_constraint(op.f("fk_claims_batch_id_claim_batches"), "claims", type_="foreignkey")
    op.drop_column("claims", "batch_id")
    op.drop_column("claims", "transaction_set_number")
    op.drop_column("claims", "interchange_number")
    op.drop_table("claim_batches")
