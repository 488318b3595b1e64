"""personal_data_views also records views of an application's unmasked personal data: ``application_id``
(an order's views keep ``order_id``; a view is of one or the other)

Revision ID: 0034_application_data_views
Revises: 0033_encrypted_licences

Nothing references the table, so SQLite rebuilds it (batch mode) to make ``order_id`` nullable.
Downgrade drops the applications' views (the old table cannot hold them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034_application_data_views"
down_revision = "0033_encrypted_licences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("personal_data_views") as batch:
        batch.add_column(sa.Column("application_id", sa.Integer(), nullable=True))
        batch.alter_column("order_id", existing_type=sa.Integer(), existing_nullable=False, nullable=True)
        batch.create_foreign_key(
            "fk_personal_data_views_application_id_applications", "applications", ["application_id"], ["id"]
        )
        batch.create_index("ix_personal_data_views_application_id", ["application_id"])


def downgrade() -> None:
    op.execute("DELETE FROM personal_data_views WHERE order_id IS NULL")
    with op.batch_alter_table("personal_data_views") as batch:
        batch.drop_index("ix_personal_data_views_application_id")
        batch.drop_constraint("fk_personal_data_views_application_id_applications", type_="foreignkey")
        batch.drop_column("application_id")
        batch.alter_column("order_id", existing_type=sa.Integer(), existing_nullable=True, nullable=False)
