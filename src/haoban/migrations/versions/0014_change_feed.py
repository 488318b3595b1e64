"""change feed: on PostgreSQL, NOTIFY haoban_changes when case-file events or knowledge articles commit

Revision ID: 0014_change_feed
Revises: 0013_auth_security
"""

from __future__ import annotations

from alembic import op

revision = "0014_change_feed"
down_revision = "0013_auth_security"
branch_labels = None
depends_on = None

# One notification per statement (not per row), and PostgreSQL folds identical ones within a
# transaction: a batch of 200 orders wakes the other processes once, when it commits.
FUNCTION = """
CREATE OR REPLACE FUNCTION haoban_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('haoban_changes', TG_TABLE_NAME);
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the followers look every second
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER haoban_order_events_changed AFTER INSERT ON order_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION haoban_notify_change()"
    )
    op.execute(
        "CREATE TRIGGER haoban_knowledge_changed AFTER INSERT OR UPDATE OR DELETE ON knowledge_articles "
        "FOR EACH STATEMENT EXECUTE FUNCTION haoban_notify_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS haoban_knowledge_changed ON knowledge_articles")
    op.execute("DROP TRIGGER IF EXISTS haoban_order_events_changed ON order_events")
    op.execute("DROP FUNCTION IF EXISTS haoban_notify_change()")
