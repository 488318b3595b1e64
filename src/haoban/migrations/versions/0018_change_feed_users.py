"""change feed: NOTIFY haoban_changes when accounts change (revoked tokens, disabled accounts, roles)

Revision ID: 0018_change_feed_users
Revises: 0017_casework_reform
"""

from __future__ import annotations

from alembic import op

revision = "0018_change_feed_users"
down_revision = "0017_casework_reform"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: one machine; the account cache's short TTL bounds the delay
    # Every process then drops its cached accounts at once: a token revoked through one process is
    # refused by every other within the follower's wake-up, not the cache's TTL.
    op.execute(
        "CREATE TRIGGER haoban_users_changed AFTER UPDATE OR DELETE ON users "
        "FOR EACH STATEMENT EXECUTE FUNCTION haoban_notify_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS haoban_users_changed ON users")
