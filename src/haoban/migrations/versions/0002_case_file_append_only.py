"""case file is append-only: the database refuses UPDATE and DELETE on order_events

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "order_events is append-only (case file)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER order_events_no_{verb.lower()} BEFORE {verb} ON order_events "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION order_events_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events "
            "FOR EACH ROW EXECUTE FUNCTION order_events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS order_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS order_events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS order_events_append_only ON order_events")
        op.execute("DROP FUNCTION IF EXISTS order_events_append_only()")
