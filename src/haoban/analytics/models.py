"""The dashboard's index on ``orders`` (no tables of its own).

Every dashboard figure filters orders by ``received_at`` and reads a handful of columns. This index
holds all of them, so the figures are read from the index alone (an index-only scan) rather than from
the wide order rows with their texts. Declared here, with the analytics domain that needs it;
created by migration 0004.
"""

from __future__ import annotations

from sqlalchemy import Index

from haoban.orders.models import Order

DASHBOARD_COLUMNS = (
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
)

dashboard_index = Index("ix_orders_dashboard", *(getattr(Order, c) for c in DASHBOARD_COLUMNS))
