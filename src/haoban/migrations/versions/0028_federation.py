"""federation: partners, agreements, the signed-message outbox and inbox, nonces, refusals, cross-region cases

Revision ID: 0028_federation
Revises: 0027_citizen_codes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haoban.db

revision = "0028_federation"
down_revision = "0027_citizen_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("sender", sa.String(length=12), nullable=False),
        sa.Column("case_key", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("received_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_inbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_federation_inbox_message_id")),
    )
    with op.batch_alter_table("federation_inbox", schema=None) as batch_op:
        batch_op.create_index("ix_federation_inbox_sender_case", ["sender", "case_key", "seq"], unique=False)

    op.create_table(
        "federation_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=12), nullable=False),
        sa.Column("seen_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_federation_nonces")),
    )
    with op.batch_alter_table("federation_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_nonces_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "federation_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_partners")),
        sa.UniqueConstraint("region", name=op.f("uq_federation_partners_region")),
    )
    op.create_table(
        "federation_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=12), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_refusals")),
    )
    with op.batch_alter_table("federation_refusals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_refusals_at"), ["at"], unique=False)

    op.create_table(
        "federation_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("modes", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_agreements_partner_id_federation_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_agreements")),
    )
    with op.batch_alter_table("federation_agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_agreements_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "federation_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_key", sa.String(length=80), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("local_ref", sa.String(length=40), nullable=True),
        sa.Column("remote_ref", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("created_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_cases_partner_id_federation_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_cases")),
        sa.UniqueConstraint("case_key", "partner_id", name=op.f("uq_federation_cases_case_key")),
    )
    with op.batch_alter_table("federation_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_cases_local_ref"), ["local_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_federation_cases_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "federation_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("case_key", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=80), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", haoban.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_outbox_partner_id_federation_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_federation_outbox_message_id")),
        sa.UniqueConstraint("partner_id", "case_key", "seq", name=op.f("uq_federation_outbox_partner_id")),
    )
    with op.batch_alter_table("federation_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_outbox_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index("ix_federation_outbox_status_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "federation_case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("side", sa.String(length=12), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["federation_cases.id"],
            name=op.f("fk_federation_case_events_case_id_federation_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_case_events")),
    )
    with op.batch_alter_table("federation_case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_case_events_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("federation_case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_case_events_case_id"))

    op.drop_table("federation_case_events")
    with op.batch_alter_table("federation_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_outbox_status_due")
        batch_op.drop_index(batch_op.f("ix_federation_outbox_partner_id"))

    op.drop_table("federation_outbox")
    with op.batch_alter_table("federation_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_cases_partner_id"))
        batch_op.drop_index(batch_op.f("ix_federation_cases_local_ref"))

    op.drop_table("federation_cases")
    with op.batch_alter_table("federation_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_agreements_partner_id"))

    op.drop_table("federation_agreements")
    with op.batch_alter_table("federation_refusals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_refusals_at"))

    op.drop_table("federation_refusals")
    op.drop_table("federation_partners")
    with op.batch_alter_table("federation_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_nonces_seen_at"))

    op.drop_table("federation_nonces")
    with op.batch_alter_table("federation_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_inbox_sender_case")

    op.drop_table("federation_inbox")
