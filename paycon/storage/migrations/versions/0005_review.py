"""review: payments held for a person; callbacks keep the amount they stated

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_HELD = sa.text("review_reason IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("review_detail", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("review_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_transactions_review_id",
            ["id"],
            unique=False,
            sqlite_where=_HELD,
            postgresql_where=_HELD,
        )
    with op.batch_alter_table("callback_inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callback_inbox", schema=None) as batch_op:
        batch_op.drop_column("currency")
        batch_op.drop_column("amount")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_review_id")
        batch_op.drop_column("review_since")
        batch_op.drop_column("review_detail")
        batch_op.drop_column("review_reason")
