"""applications: bundle definitions (versioned uploads), applications, department tasks, case file,
materials, deliveries; the case file is append-only

Revision ID: 0009_applications
Revises: 0008_benefits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime

revision = "0009_applications"
down_revision = "0008_benefits"
branch_labels = None
depends_on = None

MESSAGE = "application_events is append-only (case file)"


def upgrade() -> None:
    op.create_table(
        "application_code_counters",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_application_code_counters")),
    )
    op.create_table(
        "bundle_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("process_bpmn", sa.LargeBinary(), nullable=False),
        sa.Column("form_schema", sa.LargeBinary(), nullable=False),
        sa.Column("mapping", sa.LargeBinary(), nullable=False),
        sa.Column("meta", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_definitions")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_bundle_definitions_code")),
    )
    op.create_index(op.f("ix_bundle_definitions_code"), "bundle_definitions", ["code"], unique=False)
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("bundle_code", sa.String(length=64), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("applicant_name", sa.String(length=100), nullable=False),
        sa.Column("applicant_phone", sa.String(length=32), nullable=False),
        sa.Column("applicant_id_number", sa.String(length=18), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_name", sa.String(length=100), nullable=False),
        sa.Column("green_channel", sa.String(length=24), nullable=True),
        sa.Column("submitted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("supervision_level", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["bundle_definitions.id"],
            name=op.f("fk_applications_definition_id_bundle_definitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("code", name=op.f("uq_applications_code")),
    )
    op.create_index(
        op.f("ix_applications_applicant_id_number"), "applications", ["applicant_id_number"], unique=False
    )
    op.create_index(
        "ix_applications_bundle_submitted", "applications", ["bundle_code", "submitted_at"], unique=False
    )
    op.create_index(op.f("ix_applications_definition_id"), "applications", ["definition_id"], unique=False)
    op.create_index(op.f("ix_applications_status"), "applications", ["status"], unique=False)
    op.create_index(
        "ix_applications_status_next_due", "applications", ["status", "next_due_at"], unique=False
    )
    op.create_table(
        "application_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("tracking_no", sa.String(length=40), nullable=True),
        sa.Column("licence_codes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("handed_over_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_deliveries_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_deliveries")),
    )
    op.create_index(
        op.f("ix_application_deliveries_application_id"),
        "application_deliveries",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
        sa.UniqueConstraint("application_id", "seq", name=op.f("uq_application_events_application_id")),
    )
    op.create_index(
        op.f("ix_application_events_application_id"), "application_events", ["application_id"], unique=False
    )
    op.create_table(
        "application_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("reused", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_materials_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_materials")),
    )
    op.create_index(
        "ix_application_materials_app_key", "application_materials", ["application_id", "key"], unique=False
    )
    op.create_index(
        op.f("ix_application_materials_sha256"), "application_materials", ["sha256"], unique=False
    )
    op.create_table(
        "application_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("green_channel", sa.Boolean(), nullable=False),
        sa.Column("ready_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("warn_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("alert", sa.String(length=10), nullable=True),
        sa.Column("accepted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(length=100), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tolerated_material", sa.String(length=64), nullable=True),
        sa.Column("tolerated_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("tolerated_alert", sa.String(length=10), nullable=True),
        sa.Column("supervision_level", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_tasks_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_application_tasks_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_tasks")),
        sa.UniqueConstraint("application_id", "task_id", name=op.f("uq_application_tasks_application_id")),
    )
    op.create_index(
        op.f("ix_application_tasks_application_id"), "application_tasks", ["application_id"], unique=False
    )
    op.create_index(
        "ix_application_tasks_dept_status", "application_tasks", ["department_id", "status"], unique=False
    )
    op.create_index(
        "ix_application_tasks_status_warn", "application_tasks", ["status", "warn_at"], unique=False
    )
    op.create_index(
        op.f("ix_application_tasks_tolerated_due_at"), "application_tasks", ["tolerated_due_at"], unique=False
    )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER application_events_no_{verb.lower()} BEFORE {verb} ON application_events "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION application_events_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER application_events_append_only BEFORE UPDATE OR DELETE ON application_events "
            "FOR EACH ROW EXECUTE FUNCTION application_events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS application_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS application_events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS application_events_append_only ON application_events")
        op.execute("DROP FUNCTION IF EXISTS application_events_append_only()")
    op.drop_index(op.f("ix_application_tasks_tolerated_due_at"), table_name="application_tasks")
    op.drop_index("ix_application_tasks_status_warn", table_name="application_tasks")
    op.drop_index("ix_application_tasks_dept_status", table_name="application_tasks")
    op.drop_index(op.f("ix_application_tasks_application_id"), table_name="application_tasks")
    op.drop_table("application_tasks")
    op.drop_index(op.f("ix_application_materials_sha256"), table_name="application_materials")
    op.drop_index("ix_application_materials_app_key", table_name="application_materials")
    op.drop_table("application_materials")
    op.drop_index(op.f("ix_application_events_application_id"), table_name="application_events")
    op.drop_table("application_events")
    op.drop_index(op.f("ix_application_deliveries_application_id"), table_name="application_deliveries")
    op.drop_table("application_deliveries")
    op.drop_index("ix_applications_status_next_due", table_name="applications")
    op.drop_index(op.f("ix_applications_status"), table_name="applications")
    op.drop_index(op.f("ix_applications_definition_id"), table_name="applications")
    op.drop_index("ix_applications_bundle_submitted", table_name="applications")
    op.drop_index(op.f("ix_applications_applicant_id_number"), table_name="applications")
    op.drop_table("applications")
    op.drop_index(op.f("ix_bundle_definitions_code"), table_name="bundle_definitions")
    op.drop_table("bundle_definitions")
    op.drop_table("application_code_counters")
