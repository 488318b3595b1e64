"""order_events indexed by time: Open311 servicerequestupdates reads the case-file events of a window

Revision ID: 0031_order_events_at_index
Revises: 0030_dashboard_rollups
"""

from __future__ import annotations

from alembic import op

revision = "0031_order_events_at_index"
down_revision = "0030_dashboard_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX: order_events is append-only (triggers refuse UPDATE and DELETE), so no batch
    # rebuild of the table on SQLite.
    op.create_index(op.f("ix_order_events_at"), "order_events", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_order_events_at"), table_name="order_events")
