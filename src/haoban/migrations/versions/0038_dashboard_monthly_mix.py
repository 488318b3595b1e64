"""dashboard: the category / channel mix per calendar month

A year's dashboard added up 518 categories x 364 days of daily mix rows (552 ms p50 at 10 million
orders, bench/scale10m.py); per month it is ~12 rows a category. Filled by the roll-up job
(``haoban.analytics.rollups``) from the daily rows, for every month whose days are all built.

Revision ID: 0038_dashboard_monthly_mix
Revises: 0037_orders_handle_sweep_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haoban.db

revision = "0038_dashboard_monthly_mix"
down_revision = "0037_orders_handle_sweep_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("built_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_dashboard_months")),
    )
    op.create_table(
        "dashboard_monthly_mix",
        sa.Column("district_key", sa.Integer(), nullable=False),
        sa.Column("department_key", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "district_key", "department_key", "kind", "month", "key", name=op.f("pk_dashboard_monthly_mix")
        ),
    )
    op.create_index("ix_dashboard_monthly_mix_month", "dashboard_monthly_mix", ["month"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_monthly_mix_month", table_name="dashboard_monthly_mix")
    op.drop_table("dashboard_monthly_mix")
    op.drop_table("dashboard_months")
