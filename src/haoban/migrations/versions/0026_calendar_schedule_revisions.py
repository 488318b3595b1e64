"""calendar_schedule_revisions: what a year's official schedule was before each replacement or deletion

Revision ID: 0026_calendar_schedule_revisions
Revises: 0025_encrypted_id_numbers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0026_calendar_schedule_revisions"
down_revision = "0025_encrypted_id_numbers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_schedule_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_schedule_revisions")),
    )
    op.create_index("ix_calendar_schedule_revisions_year", "calendar_schedule_revisions", ["year"])


def downgrade() -> None:
    op.drop_index("ix_calendar_schedule_revisions_year", table_name="calendar_schedule_revisions")
    op.drop_table("calendar_schedule_revisions")
