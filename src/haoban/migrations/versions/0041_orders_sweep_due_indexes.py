"""orders: the deadline sweep reads only the orders that are due, per clock and per alert

Each sweep period asks, per clock (handling, signing), for the orders whose warning time has passed
and that were not warned yet, or that were warned and whose deadline has passed. Through
``ix_orders_handle_sweep`` (every handling order by warning time, 0037) PostgreSQL read the table row
of each handling order already warned or overdue to drop it: 23,700 rows for the handling clock and
all 65,000 for the signing clock, ~35,000 pages each, 0.5 s a clock at 10 million orders
(bench/scale10m.py). These partial indexes hold only the orders of one state each: not warned yet (by
warning time) and warned (by deadline); ``sla.alerts.due`` asks for the two separately. (The sweep
no longer reads ``ix_orders_handle_sweep``; it stays for the other reads of the handling orders.)

Revision ID: 0041_orders_sweep_due_indexes
Revises: 0040_fewer_create_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041_orders_sweep_due_indexes"
down_revision = "0040_fewer_create_indexes"
branch_labels = None
depends_on = None

# haoban.orders.workflow.HANDLING_STATUSES (a test keeps the two equal).
HANDLING = ("dispatched", "return_requested", "signed", "replied")
HANDLING_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in HANDLING))
# name → (column, predicate): haoban.orders.models.SWEEP_INDEXES (a test keeps the two equal).
INDEXES = {
    "ix_orders_handle_due": ("handle_warn_at", f"{HANDLING_SQL} AND handle_alert IS NULL"),
    "ix_orders_handle_late": ("handle_deadline", f"{HANDLING_SQL} AND handle_alert = 'warning'"),
    "ix_orders_sign_due": ("sign_warn_at", "status = 'dispatched' AND sign_alert IS NULL"),
    "ix_orders_sign_late": ("sign_deadline", "status = 'dispatched' AND sign_alert = 'warning'"),
}


def upgrade() -> None:
    for name, (column, predicate) in INDEXES.items():
        where = sa.text(predicate)
        op.create_index(name, "orders", [column], postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="orders")
