"""benefits (免申即享): data sources, DMN policies, grants with an append-only case file, payouts

Revision ID: 0008_benefits
Revises: 0007_jobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haoban.db

revision = "0008_benefits"
down_revision = "0007_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benefit_births",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id_number", sa.String(length=18), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("mother_id_number", sa.String(length=18), nullable=True),
        sa.Column("father_id_number", sa.String(length=18), nullable=True),
        sa.Column("hospital", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_births")),
        sa.UniqueConstraint("child_id_number", name=op.f("uq_benefit_births_child_id_number")),
    )
    op.create_table(
        "benefit_companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("size", sa.String(length=8), nullable=False),
        sa.Column("district", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("contact_name", sa.String(length=60), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("bank_account", sa.String(length=32), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_companies")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_benefit_companies_credit_code")),
    )
    with op.batch_alter_table("benefit_companies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benefit_companies_seq"), ["seq"], unique=False)

    op.create_table(
        "benefit_employment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("insured_start", sa.Integer(), nullable=False),
        sa.Column("layoffs", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_employment")),
        sa.UniqueConstraint("credit_code", "year", name=op.f("uq_benefit_employment_credit_code")),
    )
    op.create_table(
        "benefit_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("policy_code", sa.String(length=60), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("ref_date", sa.Date(), nullable=False),
        sa.Column("rule_row", sa.Integer(), nullable=False),
        sa.Column("rule_label", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("subject_seq", sa.Integer(), nullable=False),
        sa.Column("checked_seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("account", sa.String(length=32), nullable=True),
        sa.Column("created_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", haoban.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", haoban.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_grants")),
        sa.UniqueConstraint("code", name=op.f("uq_benefit_grants_code")),
        sa.UniqueConstraint(
            "policy_code", "subject_kind", "subject_id", "period", name=op.f("uq_benefit_grants_policy_code")
        ),
    )
    with op.batch_alter_table("benefit_grants", schema=None) as batch_op:
        batch_op.create_index("ix_benefit_grants_policy_period", ["policy_code", "period"], unique=False)
        batch_op.create_index(batch_op.f("ix_benefit_grants_status"), ["status"], unique=False)
        batch_op.create_index("ix_benefit_grants_subject", ["subject_kind", "subject_id"], unique=False)

    op.create_table(
        "benefit_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_imports")),
    )
    op.create_table(
        "benefit_insurance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("medical_scheme", sa.String(length=12), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_insurance")),
        sa.UniqueConstraint("id_number", name=op.f("uq_benefit_insurance_id_number")),
    )
    op.create_table(
        "benefit_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("period_unit", sa.String(length=6), nullable=False),
        sa.Column("dmn", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_policies")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_benefit_policies_code")),
    )
    op.create_table(
        "benefit_residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("district", sa.String(length=40), nullable=False),
        sa.Column("hukou_status", sa.String(length=12), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("bank_account", sa.String(length=32), nullable=True),
        sa.Column("guardian_id_number", sa.String(length=18), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_residents")),
        sa.UniqueConstraint("id_number", name=op.f("uq_benefit_residents_id_number")),
    )
    with op.batch_alter_table("benefit_residents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benefit_residents_birth_date"), ["birth_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_benefit_residents_seq"), ["seq"], unique=False)

    op.create_table(
        "benefit_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_code", sa.String(length=60), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("seq_from", sa.Integer(), nullable=False),
        sa.Column("seq_to", sa.Integer(), nullable=False),
        sa.Column("evaluated", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("started_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_runs")),
    )
    with op.batch_alter_table("benefit_runs", schema=None) as batch_op:
        batch_op.create_index("ix_benefit_runs_policy_period", ["policy_code", "period"], unique=False)

    op.create_table(
        "benefit_tax",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("ui_contributions_fen", sa.BigInteger(), nullable=False),
        sa.Column("in_arrears", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_tax")),
        sa.UniqueConstraint("credit_code", "year", name=op.f("uq_benefit_tax_credit_code")),
    )
    op.create_table(
        "benefit_grant_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["benefit_grants.id"], name=op.f("fk_benefit_grant_events_grant_id_benefit_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_grant_events")),
        sa.UniqueConstraint("grant_id", "seq", name=op.f("uq_benefit_grant_events_grant_id")),
    )
    op.create_table(
        "benefit_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("payer", sa.String(length=20), nullable=False),
        sa.Column("paid_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["benefit_grants.id"], name=op.f("fk_benefit_payments_grant_id_benefit_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_payments")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_benefit_payments_grant_id")),
    )
    _append_only()


MESSAGE = "benefit_grant_events is append-only (case file)"


def _append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER benefit_grant_events_no_{verb.lower()} "
                f"BEFORE {verb} ON benefit_grant_events "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION benefit_grant_events_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER benefit_grant_events_append_only BEFORE UPDATE OR DELETE ON benefit_grant_events "
            "FOR EACH ROW EXECUTE FUNCTION benefit_grant_events_append_only()"
        )


def _drop_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS benefit_grant_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS benefit_grant_events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS benefit_grant_events_append_only ON benefit_grant_events")
        op.execute("DROP FUNCTION IF EXISTS benefit_grant_events_append_only()")


def downgrade() -> None:
    _drop_append_only()
    op.drop_table("benefit_payments")
    op.drop_table("benefit_grant_events")
    op.drop_table("benefit_tax")
    with op.batch_alter_table("benefit_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_benefit_runs_policy_period")

    op.drop_table("benefit_runs")
    with op.batch_alter_table("benefit_residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benefit_residents_seq"))
        batch_op.drop_index(batch_op.f("ix_benefit_residents_birth_date"))

    op.drop_table("benefit_residents")
    op.drop_table("benefit_policies")
    op.drop_table("benefit_insurance")
    op.drop_table("benefit_imports")
    with op.batch_alter_table("benefit_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_benefit_grants_subject")
        batch_op.drop_index(batch_op.f("ix_benefit_grants_status"))
        batch_op.drop_index("ix_benefit_grants_policy_period")

    op.drop_table("benefit_grants")
    op.drop_table("benefit_employment")
    with op.batch_alter_table("benefit_companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benefit_companies_seq"))

    op.drop_table("benefit_companies")
    op.drop_table("benefit_births")
