"""tourism_places: AI游衡阳's places (spots, venues, hotels, food, products)

Revision ID: 0006_tourism_places
Revises: 0005_rate_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haoban.db

revision = "0006_tourism_places"
down_revision = "0005_rate_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tourism_places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=150), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("accessibility", sa.Text(), nullable=True),
        sa.Column("photos", sa.Text(), nullable=False),
        sa.Column("guide", sa.Text(), nullable=True),
        sa.Column("guide_en", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_tourism_places_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_places")),
        sa.UniqueConstraint("code", name=op.f("uq_tourism_places_code")),
    )
    with op.batch_alter_table("tourism_places", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tourism_places_district_id"), ["district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tourism_places_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tourism_places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tourism_places_kind"))
        batch_op.drop_index(batch_op.f("ix_tourism_places_district_id"))

    op.drop_table("tourism_places")
