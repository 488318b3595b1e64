"""jobs: on PostgreSQL, never defer a periodic run for a period older than one already deferred

procrastinate keeps only the newest (task, period) row in ``procrastinate_periodic_defers`` and
relies on its unique key to defer each period once. A worker that lags (a loaded machine, a long
pause) then defers a period whose row a faster worker has already deleted, and that period runs
twice. This trigger refuses such a row, so the period's deferral is a no-op for the late worker.
An advisory lock per task serialises the check with the insert and procrastinate's clean-up.

Revision ID: 0024_periodic_defer_not_older
Revises: 0023_open311_clients
"""

from __future__ import annotations

from alembic import op

revision = "0024_periodic_defer_not_older"
down_revision = "0023_open311_clients"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION haoban_periodic_defer_not_older() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('haoban.periodic:' || NEW.task_name));
    IF EXISTS (
        SELECT 1 FROM procrastinate_periodic_defers d
        WHERE d.task_name = NEW.task_name
          AND d.periodic_id = NEW.periodic_id
          AND d.defer_timestamp >= NEW.defer_timestamp
    ) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(FUNCTION)
    bind.exec_driver_sql(
        "CREATE TRIGGER haoban_periodic_defer_not_older BEFORE INSERT ON procrastinate_periodic_defers "
        "FOR EACH ROW EXECUTE FUNCTION haoban_periodic_defer_not_older()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(
        "DROP TRIGGER IF EXISTS haoban_periodic_defer_not_older ON procrastinate_periodic_defers"
    )
    bind.exec_driver_sql("DROP FUNCTION IF EXISTS haoban_periodic_defer_not_older()")
