"""federation messages encrypted at rest: the bodies of ``federation_outbox`` and ``federation_inbox``
(a filed case carries the applicant's phone and ID number and the form's) become AES-GCM ciphertext
under the data key

Revision ID: 0035_encrypted_federation_bodies
Revises: 0034_application_data_views

The column type stays TEXT; only the values change, a chunk at a time. Downgrade decrypts them back
(it needs the same key).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from haoban.security.crypto import PREFIX, cipher_of

revision = "0035_encrypted_federation_bodies"
down_revision = "0034_application_data_views"
branch_labels = None
depends_on = None

TABLES = ("federation_outbox", "federation_inbox")
CHUNK = 500


def _rewrite(table: str, convert: Callable[[str], str]) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(f"SELECT id, body FROM {table} WHERE id > :last ORDER BY id LIMIT {CHUNK}"),
            {"last": last},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text(f"UPDATE {table} SET body = :b WHERE id = :id"),
            [{"id": r[0], "b": convert(r[1])} for r in rows],
        )
        last = rows[-1][0]


def upgrade() -> None:
    cipher = cipher_of(op.get_bind().dialect)
    for table in TABLES:
        _rewrite(table, lambda b: b if b.startswith(f"{PREFIX}:") else cipher.encrypt(b))


def downgrade() -> None:
    cipher = cipher_of(op.get_bind().dialect)
    for table in TABLES:
        _rewrite(table, cipher.decrypt)
