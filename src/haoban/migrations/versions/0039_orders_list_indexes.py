"""orders: the handling orders' keys in one small index; (district, status, category) in place of the
district's own index

- ``ix_orders_handling``: the orders on the handling clock (~1 % of them) by id, with the columns the
  inbox counts and sorts by. A department's co-handled orders were found by reading every handling
  order of the city from the table (35,000 pages, ~0.4 s at 10 million orders, bench/scale10m.py) to
  match them with the co-handler rows; through this index the match reads index entries only.
- ``ix_orders_district_status_category``: a staff list filtered by district and status or category
  counts its total (up to 10,000, on the first page) through the index of each column: PostgreSQL
  combined two bitmaps and rechecked a lossy heap scan of 72,000 pages, 2.6 s cold. With the three
  columns in one index the capped count reads index entries only. Its leading column serves every
  look-up the district's own index did, so that one goes (the intake pays for every index).

Revision ID: 0039_orders_list_indexes
Revises: 0038_dashboard_monthly_mix
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039_orders_list_indexes"
down_revision = "0038_dashboard_monthly_mix"
branch_labels = None
depends_on = None

# haoban.orders.workflow.HANDLING_STATUSES (a test keeps the two equal).
HANDLING = ("dispatched", "return_requested", "signed", "replied")
HANDLING_KEYS = ["id", "status", "lead_department_id", "handle_deadline", "replied_at", "supervision_level"]


def upgrade() -> None:
    where = sa.text("status IN ({})".format(", ".join(f"'{s}'" for s in HANDLING)))
    op.create_index("ix_orders_handling", "orders", HANDLING_KEYS, postgresql_where=where, sqlite_where=where)
    op.create_index(
        "ix_orders_district_status_category", "orders", ["district_id", "status", "category_id"], unique=False
    )
    op.drop_index("ix_orders_district_id", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_district_id", "orders", ["district_id"], unique=False)
    op.drop_index("ix_orders_district_status_category", table_name="orders")
    op.drop_index("ix_orders_handling", table_name="orders")
