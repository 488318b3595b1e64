"""reply_templates and their history: the reply templates per category move from a YAML file into the
database (edited on the admin page, with history and restore), seeded from that file

Revision ID: 0036_reply_templates
Revises: 0035_encrypted_federation_bodies
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
import yaml
from alembic import op

from haoban.db import UTCDateTime

revision = "0036_reply_templates"
down_revision = "0035_encrypted_federation_bodies"
branch_labels = None
depends_on = None


def _seed() -> list[dict[str, object]]:
    text = resources.files("haoban.orders").joinpath("reply_templates.yaml").read_text(encoding="utf-8")
    rows = []
    for category, items in (yaml.safe_load(text) or {}).items():
        for item in items or []:
            rows.append(
                {
                    "category": None if category == "_default" else str(category),
                    "title": str(item["title"]),
                    "body": str(item["body"]),
                }
            )
    return rows


def upgrade() -> None:
    templates = op.create_table(
        "reply_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=300), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_templates")),
    )
    op.create_index("ix_reply_templates_category", "reply_templates", ["category"])
    revisions = op.create_table(
        "reply_template_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_template_revisions")),
    )
    op.create_index("ix_reply_template_revisions_template_id", "reply_template_revisions", ["template_id"])
    now = datetime.now(UTC)
    rows = [{"id": i, **row, "revision": 1, "updated_at": now} for i, row in enumerate(_seed(), start=1)]
    if not rows:
        return
    op.bulk_insert(templates, rows)
    op.bulk_insert(
        revisions,
        [
            {
                "template_id": r["id"],
                "revision": 1,
                "change": "create",
                "snapshot": json.dumps({**r, "updated_at": now.isoformat()}, ensure_ascii=False),
                "actor": "migration",
                "at": now,
            }
            for r in rows
        ],
    )
    if op.get_bind().dialect.name == "postgresql":  # the ids were given: move the sequence past them
        op.execute(
            "SELECT setval(pg_get_serial_sequence('reply_templates', 'id'), "
            "(SELECT max(id) FROM reply_templates))"
        )


def downgrade() -> None:
    op.drop_index("ix_reply_template_revisions_template_id", table_name="reply_template_revisions")
    op.drop_table("reply_template_revisions")
    op.drop_index("ix_reply_templates_category", table_name="reply_templates")
    op.drop_table("reply_templates")
