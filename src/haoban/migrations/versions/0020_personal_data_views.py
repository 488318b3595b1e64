"""personal_data_views: every view of an order's unmasked personal data (who, when, why)

Revision ID: 0020_personal_data_views
Revises: 0019_applications_assistance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0020_personal_data_views"
down_revision = "0019_applications_assistance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_data_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_personal_data_views_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_views")),
    )
    op.create_index("ix_personal_data_views_at", "personal_data_views", ["at"])
    op.create_index("ix_personal_data_views_order_id", "personal_data_views", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_personal_data_views_order_id", table_name="personal_data_views")
    op.drop_index("ix_personal_data_views_at", table_name="personal_data_views")
    op.drop_table("personal_data_views")
