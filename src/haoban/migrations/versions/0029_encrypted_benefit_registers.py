"""benefit registers' ID numbers encrypted at rest: residents (and their guardian), births (child,
mother, father) and insurance hold AES-GCM ciphertext under the data key, keyed and joined by blind indexes

Revision ID: 0029_encrypted_benefit_registers
Revises: 0028_federation

Like 0025: each ID-number column widens to hold ``enc1:<key id>:…``; the unique key moves from the
number to its blind index (``id_index``, ``child_index``), and a resident's guardian is joined through
``guardian_index``. Nothing references these tables, so SQLite rebuilds them (batch mode). Existing rows
are encrypted in chunks. Downgrade decrypts everything back (it needs the same key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from haoban.security.crypto import BLIND_INDEX_LENGTH, ENCRYPTED_LENGTH, DataCipher, cipher_of

revision = "0029_encrypted_benefit_registers"
down_revision = "0028_federation"
branch_labels = None
depends_on = None

PLAIN_LENGTH = 18
CHUNK = 2000
# (table, ((ID-number column, its blind-index column or None, is the table's unique key), …))
REGISTERS: tuple[tuple[str, tuple[tuple[str, str | None, bool], ...]], ...] = (
    (
        "benefit_residents",
        (("id_number", "id_index", True), ("guardian_id_number", "guardian_index", False)),
    ),
    (
        "benefit_births",
        (
            ("child_id_number", "child_index", True),
            ("mother_id_number", None, False),
            ("father_id_number", None, False),
        ),
    ),
    ("benefit_insurance", (("id_number", "id_index", True),)),
)


def _rewrite(table: str, columns: list[str], convert: Callable[[Any], dict[str, Any]]) -> None:
    """Rewrite every row of ``table``: ``convert(row)`` gives the new values of its columns."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last ORDER BY id LIMIT {CHUNK}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        values = [{"id": r[0], **convert(r)} for r in rows]
        sets = ", ".join(f"{k} = :{k}" for k in values[0] if k != "id")
        bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE id = :id"), values)
        last = rows[-1][0]


def _encrypt_row(
    cipher: DataCipher, spec: tuple[tuple[str, str | None, bool], ...]
) -> Callable[[Any], dict[str, Any]]:
    def convert(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, (col, ix, _) in enumerate(spec, start=1):
            plain = row[i]
            out[col] = None if plain is None else cipher.encrypt(plain)
            if ix is not None:
                out[ix] = cipher.maybe_index(plain)
        return out

    return convert


def _decrypt_row(
    cipher: DataCipher, spec: tuple[tuple[str, str | None, bool], ...]
) -> Callable[[Any], dict[str, Any]]:
    def convert(row: Any) -> dict[str, Any]:
        return {
            col: None if row[i] is None else cipher.decrypt(row[i])
            for i, (col, _, _) in enumerate(spec, start=1)
        }

    return convert


def upgrade() -> None:
    cipher = cipher_of(op.get_bind().dialect)
    for table, spec in REGISTERS:
        with op.batch_alter_table(table) as batch:
            for col, ix, unique in spec:
                if unique:
                    batch.drop_constraint(f"uq_{table}_{col}", type_="unique")
                batch.alter_column(
                    col,
                    type_=sa.String(ENCRYPTED_LENGTH),
                    existing_type=sa.String(PLAIN_LENGTH),
                    existing_nullable=not unique,
                )
                if ix is not None:
                    batch.add_column(sa.Column(ix, sa.String(BLIND_INDEX_LENGTH), nullable=True))
        _rewrite(table, [c for c, _, _ in spec], _encrypt_row(cipher, spec))
        with op.batch_alter_table(table) as batch:
            for _, ix, unique in spec:
                if ix is not None and unique:
                    batch.alter_column(
                        ix,
                        existing_type=sa.String(BLIND_INDEX_LENGTH),
                        existing_nullable=True,
                        nullable=False,
                    )
                    batch.create_unique_constraint(f"uq_{table}_{ix}", [ix])


def downgrade() -> None:
    cipher = cipher_of(op.get_bind().dialect)
    for table, spec in REGISTERS:
        _rewrite(table, [c for c, _, _ in spec], _decrypt_row(cipher, spec))
        with op.batch_alter_table(table) as batch:
            for col, ix, unique in spec:
                if ix is not None:
                    if unique:
                        batch.drop_constraint(f"uq_{table}_{ix}", type_="unique")
                    batch.drop_column(ix)
                batch.alter_column(
                    col,
                    type_=sa.String(PLAIN_LENGTH),
                    existing_type=sa.String(ENCRYPTED_LENGTH),
                    existing_nullable=not unique,
                )
                if unique:
                    batch.create_unique_constraint(f"uq_{table}_{col}", [col])
