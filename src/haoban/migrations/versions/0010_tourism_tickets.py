"""tourism_tickets: timed-ticket plans, slots, orders, real-name tickets and the payments ledger

Revision ID: 0010_tourism_tickets
Revises: 0009_applications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haoban.db

revision = "0010_tourism_tickets"
down_revision = "0009_applications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tourism_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=False),
        sa.Column("end", sa.String(length=5), nullable=False),
        sa.Column("starts_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["tourism_places.id"], name=op.f("fk_tourism_slots_place_id_tourism_places")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_slots")),
        sa.UniqueConstraint("place_id", "day", "start", name="uq_tourism_slots_place_day_start"),
    )
    with op.batch_alter_table("tourism_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tourism_slots_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_tourism_slots_place_id"), ["place_id"], unique=False)

    op.create_table(
        "tourism_ticket_plans",
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Text(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("refund_rule", sa.Text(), nullable=False),
        sa.Column("book_days_ahead", sa.Integer(), nullable=False),
        sa.Column("max_per_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["tourism_places.id"], name=op.f("fk_tourism_ticket_plans_place_id_tourism_places")
        ),
        sa.PrimaryKeyConstraint("place_id", name=op.f("pk_tourism_ticket_plans")),
    )
    op.create_table(
        "tourism_ticket_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("access_key", sa.String(length=64), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("total_fen", sa.Integer(), nullable=False),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.Column("payer", sa.String(length=20), nullable=False),
        sa.Column("payment_ref", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["tourism_places.id"], name=op.f("fk_tourism_ticket_orders_place_id_tourism_places")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["tourism_slots.id"], name=op.f("fk_tourism_ticket_orders_slot_id_tourism_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_ticket_orders")),
        sa.UniqueConstraint("code", name=op.f("uq_tourism_ticket_orders_code")),
    )
    with op.batch_alter_table("tourism_ticket_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tourism_ticket_orders_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tourism_ticket_orders_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tourism_ticket_orders_slot_id"), ["slot_id"], unique=False)

    op.create_table(
        "tourism_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("payer", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("at", haoban.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["tourism_ticket_orders.id"],
            name=op.f("fk_tourism_payments_order_id_tourism_ticket_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_payments")),
    )
    with op.batch_alter_table("tourism_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tourism_payments_order_id"), ["order_id"], unique=False)

    op.create_table(
        "tourism_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("visitor_name", sa.String(length=50), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("holder_key", sa.String(length=18), nullable=True),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("used_at", haoban.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_gate", sa.String(length=60), nullable=True),
        sa.Column("used_by", sa.String(length=100), nullable=True),
        sa.Column("refunded_at", haoban.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["tourism_ticket_orders.id"],
            name=op.f("fk_tourism_tickets_order_id_tourism_ticket_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["tourism_slots.id"], name=op.f("fk_tourism_tickets_slot_id_tourism_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_tickets")),
        sa.UniqueConstraint("serial", name=op.f("uq_tourism_tickets_serial")),
        sa.UniqueConstraint("slot_id", "holder_key", name="uq_tourism_tickets_slot_holder"),
    )
    with op.batch_alter_table("tourism_tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tourism_tickets_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_tourism_tickets_slot_status", ["slot_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tourism_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tourism_tickets_slot_status")
        batch_op.drop_index(batch_op.f("ix_tourism_tickets_order_id"))

    op.drop_table("tourism_tickets")
    with op.batch_alter_table("tourism_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tourism_payments_order_id"))

    op.drop_table("tourism_payments")
    with op.batch_alter_table("tourism_ticket_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tourism_ticket_orders_slot_id"))
        batch_op.drop_index(batch_op.f("ix_tourism_ticket_orders_place_id"))
        batch_op.drop_index(batch_op.f("ix_tourism_ticket_orders_created_at"))

    op.drop_table("tourism_ticket_orders")
    op.drop_table("tourism_ticket_plans")
    with op.batch_alter_table("tourism_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tourism_slots_place_id"))
        batch_op.drop_index(batch_op.f("ix_tourism_slots_day"))

    op.drop_table("tourism_slots")
