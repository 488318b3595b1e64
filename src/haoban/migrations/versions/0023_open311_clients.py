"""open311_clients and open311_requests: client apps with hashed api_keys, and the requests they filed

Revision ID: 0023_open311_clients
Revises: 0022_order_attachments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0023_open311_clients"
down_revision = "0022_order_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("key_prefix", sa.String(length=12), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_clients_key_hash")),
    )
    op.create_table(
        "open311_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["open311_clients.id"], name=op.f("fk_open311_requests_client_id_open311_clients")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_open311_requests_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_requests")),
        sa.UniqueConstraint("order_id", name=op.f("uq_open311_requests_order_id")),
        sa.UniqueConstraint("token", name=op.f("uq_open311_requests_token")),
    )
    op.create_index("ix_open311_requests_client_id", "open311_requests", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_open311_requests_client_id", table_name="open311_requests")
    op.drop_table("open311_requests")
    op.drop_table("open311_clients")
