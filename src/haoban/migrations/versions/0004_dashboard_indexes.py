"""dashboard: a covering index on orders for the city dashboard's figures

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Keep in step with haoban.analytics.models.DASHBOARD_COLUMNS.
COLUMNS = [
    "received_at",
    "status",
    "dispatched_at",
    "replied_at",
    "handle_deadline",
    "callback_result",
    "redo_count",
    "dispatch_source",
    "category_id",
    "district_id",
    "channel",
    "lead_department_id",
]


def upgrade() -> None:
    op.create_index("ix_orders_dashboard", "orders", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_orders_dashboard", table_name="orders")
