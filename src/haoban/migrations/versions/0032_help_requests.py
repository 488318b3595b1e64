"""applications: 请工作人员帮我办 — citizens' call-back requests for 帮代办, and what happened to them

Revision ID: 0032_help_requests
Revises: 0031_order_events_at_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0032_help_requests"
down_revision = "0031_order_events_at_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("need", sa.Text(), nullable=False),
        sa.Column("preferred_time", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by_name", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
        sa.UniqueConstraint("code", name=op.f("uq_help_requests_code")),
    )
    op.create_index(
        "ix_help_requests_status_created", "help_requests", ["status", "created_at"], unique=False
    )
    op.create_table(
        "help_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["help_requests.id"], name=op.f("fk_help_request_events_request_id_help_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_request_events")),
    )
    op.create_index(
        op.f("ix_help_request_events_request_id"), "help_request_events", ["request_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_help_request_events_request_id"), table_name="help_request_events")
    op.drop_table("help_request_events")
    op.drop_index("ix_help_requests_status_created", table_name="help_requests")
    op.drop_table("help_requests")
