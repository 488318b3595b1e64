"""auth security: token versions and TOTP secrets on users; login throttles and the login audit

Revision ID: 0013_auth_security
Revises: 0012_catalog_items
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0013_auth_security"
down_revision = "0012_catalog_items"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "login_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_login_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
    )
    op.create_index("ix_login_events_at", "login_events", ["at"])
    op.create_index("ix_login_events_username", "login_events", ["username"])


def downgrade() -> None:
    op.drop_index("ix_login_events_username", table_name="login_events")
    op.drop_index("ix_login_events_at", table_name="login_events")
    op.drop_table("login_events")
    op.drop_table("login_throttles")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_secret")
        batch.drop_column("token_version")
