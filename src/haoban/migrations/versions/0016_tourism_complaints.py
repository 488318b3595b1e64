"""tourism_complaints: visitors' complaints from a place's page, linked to their 12345 orders

Revision ID: 0016_tourism_complaints
Revises: 0015_licences
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haoban.db

revision = "0016_tourism_complaints"
down_revision = "0015_licences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tourism_complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("created_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_tourism_complaints_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["tourism_places.id"], name=op.f("fk_tourism_complaints_place_id_tourism_places")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_complaints")),
        sa.UniqueConstraint("order_id", name=op.f("uq_tourism_complaints_order_id")),
    )
    with op.batch_alter_table("tourism_complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tourism_complaints_place_id"), ["place_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tourism_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tourism_complaints_place_id"))

    op.drop_table("tourism_complaints")
