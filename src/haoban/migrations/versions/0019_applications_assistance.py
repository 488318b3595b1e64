"""applications: 帮代办 — who applied for whom with what consent, 陪同办; one-time consent codes

Revision ID: 0019_applications_assistance
Revises: 0018_change_feed_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0019_applications_assistance"
down_revision = "0018_change_feed_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_codes")),
    )
    op.create_index("ix_consent_codes_phone_created", "consent_codes", ["phone", "created_at"], unique=False)
    op.create_table(
        "application_assistance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=True),
        sa.Column("helper_name", sa.String(length=100), nullable=False),
        sa.Column("helper_role", sa.String(length=20), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("person_phone", sa.String(length=32), nullable=False),
        sa.Column("green_group", sa.String(length=24), nullable=True),
        sa.Column("consent_method", sa.String(length=16), nullable=True),
        sa.Column("consent_ref", sa.String(length=80), nullable=True),
        sa.Column("consent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_assistance_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_assistance")),
    )
    op.create_index(
        op.f("ix_application_assistance_application_id"),
        "application_assistance",
        ["application_id"],
        unique=False,
    )
    op.create_index(
        "ix_application_assistance_helper", "application_assistance", ["helper_id", "kind"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_application_assistance_helper", table_name="application_assistance")
    op.drop_index(op.f("ix_application_assistance_application_id"), table_name="application_assistance")
    op.drop_table("application_assistance")
    op.drop_index("ix_consent_codes_phone_created", table_name="consent_codes")
    op.drop_table("consent_codes")
