"""dashboard: daily roll-ups, the change marks of order days, the overdue index

Revision ID: 0030_dashboard_rollups
Revises: 0029_encrypted_benefit_registers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haoban.db

revision = "0030_dashboard_rollups"
down_revision = "0029_encrypted_benefit_registers"
branch_labels = None
depends_on = None

COUNTS = [
    "received",
    "dispatched",
    "finished",
    "dispatched_finished",
    "finished_replied",
    "on_time",
    "called_back",
    "satisfied",
    "resolved",
    "auto_dispatched",
    "open",
    "finished_redone",
    "on_time_any",
    "misdispatched",
    "finished_returned",
    "returned_redone",
]


def upgrade() -> None:
    op.create_table(
        "order_day_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_day_marks")),
    )
    op.create_index("ix_order_day_marks_day", "order_day_marks", ["day"])
    op.create_table(
        "dashboard_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("built_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_dashboard_days")),
    )
    op.create_table(
        "dashboard_daily",
        sa.Column("district_key", sa.Integer(), nullable=False),
        sa.Column("department_key", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS),
        sa.PrimaryKeyConstraint("district_key", "department_key", "day", name=op.f("pk_dashboard_daily")),
    )
    op.create_index("ix_dashboard_daily_department_day", "dashboard_daily", ["department_key", "day"])
    op.create_index("ix_dashboard_daily_day", "dashboard_daily", ["day"])
    op.create_table(
        "dashboard_daily_mix",
        sa.Column("district_key", sa.Integer(), nullable=False),
        sa.Column("department_key", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "district_key", "department_key", "kind", "day", "key", name=op.f("pk_dashboard_daily_mix")
        ),
    )
    op.create_index("ix_dashboard_daily_mix_day", "dashboard_daily_mix", ["day"])
    op.create_index(
        "ix_orders_status_deadline",
        "orders",
        ["status", "handle_deadline", "received_at", "district_id", "lead_department_id", "replied_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_orders_status_deadline", table_name="orders")
    op.drop_index("ix_dashboard_daily_mix_day", table_name="dashboard_daily_mix")
    op.drop_table("dashboard_daily_mix")
    op.drop_index("ix_dashboard_daily_day", table_name="dashboard_daily")
    op.drop_index("ix_dashboard_daily_department_day", table_name="dashboard_daily")
    op.drop_table("dashboard_daily")
    op.drop_table("dashboard_days")
    op.drop_index("ix_order_day_marks_day", table_name="order_day_marks")
    op.drop_table("order_day_marks")
