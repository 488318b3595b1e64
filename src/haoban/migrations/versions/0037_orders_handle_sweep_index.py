"""orders: a partial index of the handling clock's warning time over the orders on that clock

The deadline sweep asks, every period, for orders in a handling state whose warning time has passed,
earliest first. Through the plain ``ix_orders_handle_warn_at`` PostgreSQL walked every order ever
received (closed ones keep their warning time): 18.9 s a period at 10 million orders
(bench/scale10m.py). This index holds only the orders on the clock (~1 % of them).

Revision ID: 0037_orders_handle_sweep_index
Revises: 0036_reply_templates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037_orders_handle_sweep_index"
down_revision = "0036_reply_templates"
branch_labels = None
depends_on = None

# haoban.orders.workflow.HANDLING_STATUSES (a test keeps the two equal).
HANDLING = ("dispatched", "return_requested", "signed", "replied")


def upgrade() -> None:
    where = sa.text("status IN ({})".format(", ".join(f"'{s}'" for s in HANDLING)))
    op.create_index(
        "ix_orders_handle_sweep",
        "orders",
        ["handle_warn_at"],
        unique=False,
        postgresql_where=where,
        sqlite_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_handle_sweep", table_name="orders")
