"""service ratings (好差评 for services): window visits, ratings of applications and visits, rectifications

Revision ID: 0021_service_ratings
Revises: 0020_personal_data_views
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0021_service_ratings"
down_revision = "0020_personal_data_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("item_code", sa.String(length=80), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("clerk_name", sa.String(length=100), nullable=False),
        sa.Column("person_phone", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("visited_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_service_visits_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_visits")),
        sa.UniqueConstraint("code", name=op.f("uq_service_visits_code")),
    )
    op.create_index(
        op.f("ix_service_visits_department_id"), "service_visits", ["department_id"], unique=False
    )
    op.create_index(op.f("ix_service_visits_visited_at"), "service_visits", ["visited_at"], unique=False)
    op.create_table(
        "service_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=12), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("aspects", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("item_code", sa.String(length=80), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("clerk_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_service_ratings_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_service_ratings_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["service_visits.id"], name=op.f("fk_service_ratings_visit_id_service_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_ratings")),
        sa.UniqueConstraint("application_id", name=op.f("uq_service_ratings_application_id")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_service_ratings_visit_id")),
    )
    op.create_index(op.f("ix_service_ratings_created_at"), "service_ratings", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_service_ratings_department_id"), "service_ratings", ["department_id"], unique=False
    )
    op.create_table(
        "service_rectifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("escalate_at", UTCDateTime(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_service_rectifications_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["service_ratings.id"],
            name=op.f("fk_service_rectifications_rating_id_service_ratings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_rectifications")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_service_rectifications_rating_id")),
    )
    op.create_index(
        op.f("ix_service_rectifications_department_id"),
        "service_rectifications",
        ["department_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_service_rectifications_escalate_at"), "service_rectifications", ["escalate_at"], unique=False
    )
    op.create_index(
        op.f("ix_service_rectifications_status"), "service_rectifications", ["status"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_service_rectifications_status"), table_name="service_rectifications")
    op.drop_index(op.f("ix_service_rectifications_escalate_at"), table_name="service_rectifications")
    op.drop_index(op.f("ix_service_rectifications_department_id"), table_name="service_rectifications")
    op.drop_table("service_rectifications")
    op.drop_index(op.f("ix_service_ratings_department_id"), table_name="service_ratings")
    op.drop_index(op.f("ix_service_ratings_created_at"), table_name="service_ratings")
    op.drop_table("service_ratings")
    op.drop_index(op.f("ix_service_visits_visited_at"), table_name="service_visits")
    op.drop_index(op.f("ix_service_visits_department_id"), table_name="service_visits")
    op.drop_table("service_visits")
