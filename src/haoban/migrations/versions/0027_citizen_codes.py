"""citizen_codes: one-time codes texted for "my appeals" (keyed hashes of the phone and the code only)

Revision ID: 0027_citizen_codes
Revises: 0026_calendar_schedule_revisions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0027_citizen_codes"
down_revision = "0026_calendar_schedule_revisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_codes")),
    )
    op.create_index("ix_citizen_codes_phone_created", "citizen_codes", ["phone_hash", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_citizen_codes_phone_created", table_name="citizen_codes")
    op.drop_table("citizen_codes")
