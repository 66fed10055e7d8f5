"""reconciliation: the runs against the gateways' settlement reports, and every line reconciled

Revision ID: 0008
Revises: 0007

A line is booked at most once, ever: ``(gateway, line_key)`` is unique.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from outbox.schema import BigId

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("report_date", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("new_breaks", sa.Integer(), nullable=False),
        sa.Column("open_breaks", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reconciliation_runs_gateway_id", "reconciliation_runs", ["gateway", "id"])
    op.create_table(
        "reconciliation_lines",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("line_key", sa.String(length=160), nullable=False),
        sa.Column("gateway_reference", sa.String(length=128), nullable=True),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=True),
        sa.Column("fee_minor", sa.BigInteger(), nullable=True),
        sa.Column("net_minor", sa.BigInteger(), nullable=True),
        sa.Column("value_date", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("break_kind", sa.String(length=32), nullable=True),
        sa.Column("report_says", sa.Text(), nullable=False),
        sa.Column("paycon_says", sa.Text(), nullable=False),
        sa.Column("suspense_minor", sa.BigInteger(), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_run_id", BigId, nullable=False),
        sa.Column("last_run_id", BigId, nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["first_run_id"], ["reconciliation_runs.id"]),
        sa.ForeignKeyConstraint(["last_run_id"], ["reconciliation_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gateway", "line_key", name="uq_reconciliation_lines_gateway_key"),
    )
    op.create_index("ix_reconciliation_lines_state_id", "reconciliation_lines", ["state", "id"])
    op.create_index(
        "ix_reconciliation_lines_transaction_id", "reconciliation_lines", ["transaction_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_reconciliation_lines_transaction_id", table_name="reconciliation_lines")
    op.drop_index("ix_reconciliation_lines_state_id", table_name="reconciliation_lines")
    op.drop_table("reconciliation_lines")
    op.drop_index("ix_reconciliation_runs_gateway_id", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
