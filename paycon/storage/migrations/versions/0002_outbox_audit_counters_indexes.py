"""outbox: audit trail, done counter, list and throughput indexes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox_audit", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_audit_task_id", ["task_id", "id"], unique=False)

    op.create_table(
        "outbox_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute(
        "INSERT INTO outbox_counters (name, value) "
        "SELECT 'done', COUNT(*) FROM outbox_tasks WHERE state = 'done'"
    )

    with op.batch_alter_table("outbox_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_tasks_kind_state")
        batch_op.create_index(
            "ix_outbox_tasks_kind_state_id", ["kind", "state", "id"], unique=False
        )
        batch_op.create_index("ix_outbox_tasks_state_id", ["state", "id"], unique=False)

    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_attempts_outcome_finished_at", ["outcome", "finished_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_attempts_outcome_finished_at")

    with op.batch_alter_table("outbox_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_tasks_state_id")
        batch_op.drop_index("ix_outbox_tasks_kind_state_id")
        batch_op.create_index("ix_outbox_tasks_kind_state", ["kind", "state"], unique=False)

    op.drop_table("outbox_counters")
    with op.batch_alter_table("outbox_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_audit_task_id")

    op.drop_table("outbox_audit")
