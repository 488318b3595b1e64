"""licences encrypted at rest: the holder's ID number, the licence's number (an ID card's is an ID
number) and the payload (result fields, e.g. a newborn's ID number) hold AES-GCM ciphertext under the
data key; the holder and the number are found by blind indexes (``holder_index``, ``number_index``)

Revision ID: 0033_encrypted_licences
Revises: 0032_help_requests

The unique (item, number) moves to (item, number_index). SQLite rebuilds the table (batch mode); since
``licence_uses`` references it and dropping a referenced table would fail, its rows are set aside for
the rebuild and put back. The licence's hash covers the clear values and is unchanged. Downgrade
decrypts everything back (it needs the same key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

from haoban.security.crypto import BLIND_INDEX_LENGTH, ENCRYPTED_LENGTH, DataCipher, cipher_of

revision = "0033_encrypted_licences"
down_revision = "0032_help_requests"
branch_labels = None
depends_on = None

CHUNK = 1000
HOLDER_LENGTH, NUMBER_LENGTH = 40, 64
UNIQUE = "uq_licences_item_id"  # (item_id, number) before, (item_id, number_index) after


@contextmanager
def _uses_set_aside() -> Iterator[None]:
    """On SQLite, empty ``licence_uses`` while ``licences`` is rebuilt, then restore it as it was."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    uses = sa.table(
        "licence_uses",
        *(sa.column(c) for c in ("id", "licence_id", "item_code", "material", "ref", "at")),
    )
    rows = [dict(r._mapping) for r in bind.execute(sa.select(uses))]
    bind.execute(sa.delete(uses))
    yield
    if rows:
        bind.execute(sa.insert(uses), rows)


def _rewrite(convert: Callable[[Any], dict[str, Any]]) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, holder_id, number, payload FROM licences WHERE id > :last ORDER BY id "
                f"LIMIT {CHUNK}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        values = [{"id": r[0], **convert(r)} for r in rows]
        sets = ", ".join(f"{k} = :{k}" for k in values[0] if k != "id")
        bind.execute(sa.text(f"UPDATE licences SET {sets} WHERE id = :id"), values)
        last = rows[-1][0]


def _encrypt(cipher: DataCipher) -> Callable[[Any], dict[str, Any]]:
    def convert(r: Any) -> dict[str, Any]:
        return {
            "holder_id": cipher.encrypt(r[1]),
            "holder_index": cipher.blind_index(r[1]),
            "number": cipher.encrypt(r[2]),
            "number_index": cipher.blind_index(r[2]),
            "payload": cipher.encrypt(r[3]),
        }

    return convert


def _decrypt(cipher: DataCipher) -> Callable[[Any], dict[str, Any]]:
    def convert(r: Any) -> dict[str, Any]:
        return {
            "holder_id": cipher.decrypt(r[1]),
            "number": cipher.decrypt(r[2]),
            "payload": cipher.decrypt(r[3]),
        }

    return convert


def upgrade() -> None:
    cipher = cipher_of(op.get_bind().dialect)
    with _uses_set_aside():
        with op.batch_alter_table("licences") as batch:
            batch.drop_constraint(UNIQUE, type_="unique")
            batch.drop_index("ix_licences_holder_id")
            for col, length in (("holder_id", HOLDER_LENGTH), ("number", NUMBER_LENGTH)):
                batch.alter_column(
                    col,
                    type_=sa.String(ENCRYPTED_LENGTH),
                    existing_type=sa.String(length),
                    existing_nullable=False,
                )
            batch.add_column(sa.Column("holder_index", sa.String(BLIND_INDEX_LENGTH), nullable=True))
            batch.add_column(sa.Column("number_index", sa.String(BLIND_INDEX_LENGTH), nullable=True))
        _rewrite(_encrypt(cipher))
        with op.batch_alter_table("licences") as batch:
            for col in ("holder_index", "number_index"):
                batch.alter_column(
                    col, existing_type=sa.String(BLIND_INDEX_LENGTH), existing_nullable=True, nullable=False
                )
            batch.create_index("ix_licences_holder_index", ["holder_index"])
            batch.create_unique_constraint(UNIQUE, ["item_id", "number_index"])


def downgrade() -> None:
    cipher = cipher_of(op.get_bind().dialect)
    _rewrite(_decrypt(cipher))
    with _uses_set_aside(), op.batch_alter_table("licences") as batch:
        batch.drop_constraint(UNIQUE, type_="unique")
        batch.drop_index("ix_licences_holder_index")
        batch.drop_column("holder_index")
        batch.drop_column("number_index")
        for col, length in (("holder_id", HOLDER_LENGTH), ("number", NUMBER_LENGTH)):
            batch.alter_column(
                col,
                type_=sa.String(length),
                existing_type=sa.String(ENCRYPTED_LENGTH),
                existing_nullable=False,
            )
        batch.create_index("ix_licences_holder_id", ["holder_id"])
        batch.create_unique_constraint(UNIQUE, ["item_id", "number"])
