"""orders: (district, status, category) with the list's keys (receipt time, id) in place of 0039's
three-column index

A numbered page of a staff list (``queries.page_orders``: the first 1,000 orders of a list) reads its
ids first, then its rows. For a list filtered by district (with status and category) this index holds
every column the ids need, so PostgreSQL reads them from index entries only and sorts the matching
ones; through the receipt-time index it walked backwards and filtered each row on the table (10 M
orders, bench/scale10m.py: ~700,000 rows read for page 50 of a district + category + closed list,
p99 297 ms on pages 2-50). The three leading columns are 0039's index, whose look-ups (the capped
count, a district's orders) this one serves, so that one goes: the intake still writes one index here.

``IF NOT EXISTS`` / ``IF EXISTS``: on a large database the index may be built beforehand without
blocking writes (``CREATE INDEX CONCURRENTLY``, same name and columns), then this migration only drops
the old one.

Revision ID: 0042_orders_district_list_index
Revises: 0041_orders_sweep_due_indexes
"""

from __future__ import annotations

from alembic import op

revision = "0042_orders_district_list_index"
down_revision = "0041_orders_sweep_due_indexes"
branch_labels = None
depends_on = None

NAME = "ix_orders_district_status_category_received"
COLUMNS = ["district_id", "status", "category_id", "received_at", "id"]


def upgrade() -> None:
    op.create_index(NAME, "orders", COLUMNS, unique=False, if_not_exists=True)
    op.drop_index("ix_orders_district_status_category", table_name="orders", if_exists=True)


def downgrade() -> None:
    op.create_index(
        "ix_orders_district_status_category", "orders", ["district_id", "status", "category_id"], unique=False
    )
    op.drop_index(NAME, table_name="orders")
