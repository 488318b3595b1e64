"""licences: (holder_index, kind) in place of the holder's one-column index

``licences.held`` (which of a holder's licences stand in for a bundle's materials; every submission
asks it, before and again inside its write transaction) looks a holder's licences up by kind. Through
the one-column index SQLite read every licence of the holder and filtered them by kind: a holder with
many (the bench's one applicant ends a 10,000-application run holding 40,000) took ~47 ms per question,
on SQLite under the write lock. With the kind in the index it reads only the kinds asked. The holder's
column leads, so this index serves the look-ups by holder alone that the old one served, which goes.

Revision ID: 0044_licences_holder_kind_index
Revises: 0043_orders_three_fewer_indexes
"""

from __future__ import annotations

from alembic import op

revision = "0044_licences_holder_kind_index"
down_revision = "0043_orders_three_fewer_indexes"
branch_labels = None
depends_on = None

NAME = "ix_licences_holder_index_kind"


def upgrade() -> None:
    op.create_index(NAME, "licences", ["holder_index", "kind"], unique=False, if_not_exists=True)
    op.drop_index("ix_licences_holder_index", table_name="licences", if_exists=True)


def downgrade() -> None:
    op.create_index("ix_licences_holder_index", "licences", ["holder_index"], unique=False)
    op.drop_index(NAME, table_name="licences")
