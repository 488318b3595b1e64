"""orders, order_events: drop two secondary indexes every create paid for and no read needs

Each create writes its order row and two case-file events; every secondary index is one more B-tree
insert (and its WAL) per row, on the intake's one hot path (issue 15 item 4: WAL of a create on
PostgreSQL was 55 % B-tree records, 32 entries per order). These two answer nothing another index
does not answer as well (EXPLAIN of the read paths on both databases, 300,000 orders: same plans
through the index named below, same buffers):

- ``ix_order_events_order_id`` (order_id): the unique ``uq_order_events_order_id`` (order_id, seq)
  leads with the same column and is what a case file's read (by order, in seq order) uses anyway;
  it also serves the foreign key's checks.
- ``ix_orders_handle_warn_at`` (handle_warn_at): every read of the handling warning time filters on
  the handling statuses, which the partial ``ix_orders_handle_sweep`` (0037) holds; through the plain
  index PostgreSQL walked every order ever received (see 0037).

``ix_orders_status`` stays although two composite indexes lead with status: without it SQLite's
planner chose worse plans (the board's per-department deadlines through ix_orders_lead_department_id,
24 ms -> 1.7 s at 300,000 orders; a replied-orders page by a full scan).

Revision ID: 0040_fewer_create_indexes
Revises: 0039_orders_list_indexes
"""

from __future__ import annotations

from alembic import op

revision = "0040_fewer_create_indexes"
down_revision = "0039_orders_list_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_order_events_order_id", table_name="order_events")
    op.drop_index("ix_orders_handle_warn_at", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_handle_warn_at", "orders", ["handle_warn_at"], unique=False)
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"], unique=False)
