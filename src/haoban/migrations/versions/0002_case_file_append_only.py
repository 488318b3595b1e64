"""case file is append-only: the database refuses UPDATE and DELETE on order_events

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from haoban.migrations import append_only

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "order_events is append-only (case file)"


def upgrade() -> None:
    append_only.create("order_events", MESSAGE)


def downgrade() -> None:
    append_only.drop("order_events")
