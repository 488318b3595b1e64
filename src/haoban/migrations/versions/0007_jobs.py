"""jobs: job_failures (both databases); on PostgreSQL procrastinate's queue schema (pinned SQL)

Revision ID: 0007_jobs
Revises: 0006_tourism_places
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0007_jobs"
down_revision = "0006_tourism_places"
branch_labels = None
depends_on = None

# procrastinate's schema as released with the pinned version; a later procrastinate release that
# changes it ships SQL migrations, which a later revision applies from its own copy.
PROCRASTINATE_SQL = Path(__file__).resolve().parents[1] / "sql" / "procrastinate-3.10.0.sql"


def upgrade() -> None:
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("runner", sa.String(length=16), nullable=False),
        sa.Column("task", sa.String(length=128), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failures")),
    )
    op.create_index(op.f("ix_job_failures_task"), "job_failures", ["task"], unique=False)
    op.create_index(op.f("ix_job_failures_job_id"), "job_failures", ["job_id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        exists = bind.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar()
        if exists is None:
            bind.exec_driver_sql(PROCRASTINATE_SQL.read_text(encoding="utf-8").replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in (
            "procrastinate_events",
            "procrastinate_periodic_defers",
            "procrastinate_jobs",
            "procrastinate_workers",
        ):
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
        bind.exec_driver_sql(
            "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
            "procrastinate_job_status CASCADE"
        )
    op.drop_index(op.f("ix_job_failures_job_id"), table_name="job_failures")
    op.drop_index(op.f("ix_job_failures_task"), table_name="job_failures")
    op.drop_table("job_failures")
