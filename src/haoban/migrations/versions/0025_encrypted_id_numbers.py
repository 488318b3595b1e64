"""personal identifiers encrypted at rest: ID numbers in orders, cases, applications (and their engine
state, which carries the form) and tickets become AES-GCM ciphertext (HAOBAN_DATA_KEY); blind indexes
(HMAC) where they are looked up; the key id checked

Revision ID: 0025_encrypted_id_numbers
Revises: 0024_periodic_defer_not_older

Each ID-number column is replaced by a wider one holding ``enc1:<key id>:…`` (on SQLite without rebuilding
tables that others reference: add, fill, drop, rename). Applications get ``applicant_id_index`` for
the look-up by ID number; a ticket's ``holder_key`` (one live ticket per person per slot) becomes the
blind index. ``data_key_checks`` remembers the key id, so a process with another key refuses to start.
Downgrade decrypts everything back (it needs the same key).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from haoban.db import UTCDateTime, utcnow
from haoban.security.crypto import BLIND_INDEX_LENGTH, ENCRYPTED_LENGTH, cipher_of

revision = "0025_encrypted_id_numbers"
down_revision = "0024_periodic_defer_not_older"
branch_labels = None
depends_on = None

# (table, column) holding an ID number, swapped without a table rebuild.
SWAPPED = (
    ("orders", "citizen_id_number"),
    ("cases", "complainant_id_number"),
    ("applications", "applicant_id_number"),
)
PLAIN_LENGTH = 18


def _swap(table: str, column: str, length: int, convert: Callable[[str], str]) -> None:
    """Replace ``table.column`` by a column of ``length`` holding ``convert(value)``."""
    bind = op.get_bind()
    tmp = f"{column}_swap"
    op.add_column(table, sa.Column(tmp, sa.String(length), nullable=True))
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    update = sa.text(f"UPDATE {table} SET {tmp} = :v WHERE id = :id")
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        bind.execute(update, [{"id": r[0], "v": convert(r[1])} for r in chunk])
    op.drop_column(table, column)
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {tmp} TO {column}")


def _convert_states(convert: Callable[[bytes], bytes]) -> None:
    bind = op.get_bind()
    ids = bind.execute(sa.text("SELECT id FROM applications ORDER BY id")).scalars().all()
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        rows = bind.execute(
            sa.text("SELECT id, state FROM applications WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        ).all()
        bind.execute(
            sa.text("UPDATE applications SET state = :s WHERE id = :id"),
            [{"id": r[0], "s": convert(bytes(r[1]))} for r in rows],
        )


def upgrade() -> None:
    bind = op.get_bind()
    cipher = cipher_of(bind.dialect)
    op.create_table(
        "data_key_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_key_checks")),
    )
    checks = sa.table(
        "data_key_checks", sa.column("id"), sa.column("key_id"), sa.column("created_at", UTCDateTime())
    )
    op.bulk_insert(checks, [{"id": 1, "key_id": cipher.key_id, "created_at": utcnow()}])
    # Applications: the look-up by ID number moves to a blind index.
    op.add_column(
        "applications", sa.Column("applicant_id_index", sa.String(BLIND_INDEX_LENGTH), nullable=True)
    )
    rows = bind.execute(
        sa.text("SELECT id, applicant_id_number FROM applications WHERE applicant_id_number IS NOT NULL")
    ).all()
    if rows:
        bind.execute(
            sa.text("UPDATE applications SET applicant_id_index = :v WHERE id = :id"),
            [{"id": r[0], "v": cipher.blind_index(r[1])} for r in rows],
        )
    op.drop_index("ix_applications_applicant_id_number", table_name="applications")
    op.create_index("ix_applications_applicant_id_index", "applications", ["applicant_id_index"])
    for table, column in SWAPPED:
        _swap(table, column, ENCRYPTED_LENGTH, cipher.encrypt)
    # An application's engine state carries its form (the parents' ID numbers): encrypted whole.
    _convert_states(cipher.encrypt_bytes)
    # Tickets: nothing references the table, so it may be rebuilt on SQLite (its unique constraint).
    rows = bind.execute(sa.text("SELECT id, id_number, holder_key FROM tourism_tickets")).all()
    with op.batch_alter_table("tourism_tickets") as batch:
        batch.alter_column("id_number", type_=sa.String(ENCRYPTED_LENGTH), existing_nullable=False)
        batch.alter_column("holder_key", type_=sa.String(BLIND_INDEX_LENGTH), existing_nullable=True)
    if rows:
        bind.execute(
            sa.text("UPDATE tourism_tickets SET id_number = :n, holder_key = :h WHERE id = :id"),
            [
                {
                    "id": r[0],
                    "n": cipher.encrypt(r[1]),
                    "h": None if r[2] is None else cipher.blind_index(r[2]),
                }
                for r in rows
            ],
        )


def downgrade() -> None:
    bind = op.get_bind()
    cipher = cipher_of(bind.dialect)
    rows = bind.execute(sa.text("SELECT id, id_number, holder_key FROM tourism_tickets")).all()
    plain = [(r[0], cipher.decrypt(r[1]), r[2] is not None) for r in rows]
    if plain:
        bind.execute(
            sa.text("UPDATE tourism_tickets SET id_number = :n, holder_key = :h WHERE id = :id"),
            [{"id": i, "n": n, "h": n if live else None} for i, n, live in plain],
        )
    with op.batch_alter_table("tourism_tickets") as batch:
        batch.alter_column("id_number", type_=sa.String(PLAIN_LENGTH), existing_nullable=False)
        batch.alter_column("holder_key", type_=sa.String(PLAIN_LENGTH), existing_nullable=True)
    for table, column in SWAPPED:
        _swap(table, column, PLAIN_LENGTH, cipher.decrypt)
    _convert_states(cipher.decrypt_bytes)
    op.drop_index("ix_applications_applicant_id_index", table_name="applications")
    op.drop_column("applications", "applicant_id_index")
    op.create_index("ix_applications_applicant_id_number", "applications", ["applicant_id_number"])
    op.drop_table("data_key_checks")
