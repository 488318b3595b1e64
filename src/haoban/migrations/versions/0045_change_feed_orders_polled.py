"""change feed: case-file events are no longer announced by NOTIFY; the followers read them every 0.2 s

PostgreSQL serialises the commits of every transaction that sent a ``NOTIFY``: it takes one lock per
database before the commit and keeps it until the commit record is on disk, so that notifications are
queued in commit order. The statement trigger on ``order_events`` made every write of a case file (each
intake batch, each dispatch, reply or merge) such a transaction, so two server processes' commits, and
their fsyncs, went one after the other. pgbench on this machine (PostgreSQL 15, one-row transactions,
``-c 8``): 9,658 commits/s without a NOTIFY, 3,970/s with one. Account and article changes are rare
and must reach every process at once (a revoked token), so they keep their trigger.

Revision ID: 0045_change_feed_orders_polled
Revises: 0044_licences_holder_kind_index
"""

from __future__ import annotations

from alembic import op

revision = "0045_change_feed_orders_polled"
down_revision = "0044_licences_holder_kind_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite never had the trigger
    op.execute("DROP TRIGGER IF EXISTS haoban_order_events_changed ON order_events")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TRIGGER haoban_order_events_changed AFTER INSERT ON order_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION haoban_notify_change()"
    )
