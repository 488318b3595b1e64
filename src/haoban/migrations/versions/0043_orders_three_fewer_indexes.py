"""orders: three index entries fewer per create (two warning-time indexes no read needs, and the
master index holding only the merged orders)

Each create writes one entry into every index on orders (issue 15: index inserts were 17 % of the
intake writer's PostgreSQL CPU). Since 0041 the sweep reads the warning times through the partial
``ix_orders_*_due`` indexes only, so:

- ``ix_orders_handle_sweep`` (handle_warn_at over the handling orders, 0037): no query reads it; the
  handling clock's sweep reads ``ix_orders_handle_due``, the board's counts ``ix_orders_handling`` or
  ``ix_orders_status_lead``.
- ``ix_orders_sign_warn_at`` (sign_warn_at, every order): the signing clock's sweep reads
  ``ix_orders_sign_due``.
- ``ix_orders_master_id`` held an entry for every order, though only merged ones have a master; it now
  holds those only. Every read by master (a master's merged orders, how many joined it, the count of
  merged orders) compares master_id, which implies it is not null, on both databases.

tests/db/test_orders_index_plans.py EXPLAINs each of those reads on SQLite and PostgreSQL.

Revision ID: 0043_orders_three_fewer_indexes
Revises: 0042_orders_district_list_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0043_orders_three_fewer_indexes"
down_revision = "0042_orders_district_list_index"
branch_labels = None
depends_on = None

# haoban.orders.workflow.HANDLING_STATUSES (a test keeps the two equal), for the downgrade.
HANDLING = ("dispatched", "return_requested", "signed", "replied")
MERGED = "master_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_orders_handle_sweep", table_name="orders")
    op.drop_index("ix_orders_sign_warn_at", table_name="orders")
    op.drop_index("ix_orders_master_id", table_name="orders")
    where = sa.text(MERGED)
    op.create_index(
        "ix_orders_master_id", "orders", ["master_id"], postgresql_where=where, sqlite_where=where
    )


def downgrade() -> None:
    op.drop_index("ix_orders_master_id", table_name="orders")
    op.create_index("ix_orders_master_id", "orders", ["master_id"], unique=False)
    op.create_index("ix_orders_sign_warn_at", "orders", ["sign_warn_at"], unique=False)
    where = sa.text("status IN ({})".format(", ".join(f"'{s}'" for s in HANDLING)))
    op.create_index(
        "ix_orders_handle_sweep", "orders", ["handle_warn_at"], postgresql_where=where, sqlite_where=where
    )
