"""outbox: each task's resource (paycon: its gateway) and whether each run touched it

Revision ID: 0007
Revises: 0006

Existing rows are filled as paycon read them before: a submit or status-check
task's gateway from its dedupe key (``submit:<gateway>:<tx>``,
``status_check:<gateway>:<tx>``); a run provably did not reach its gateway
when it was deferred, or retried or dead with a "not reached" error.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TASKS = sa.table(
    "outbox_tasks",
    sa.column("kind", sa.String),
    sa.column("dedupe_key", sa.String),
    sa.column("resource", sa.String),
)
_ATTEMPTS = sa.table(
    "outbox_attempts",
    sa.column("outcome", sa.String),
    sa.column("error_class", sa.String),
    sa.column("touched", sa.Boolean),
)
# The kinds whose dedupe key is ``<kind>:<gateway>:<transaction id>``.
_GATEWAY_KINDS = ("submit", "status_check")
# The error classes a run that never reached its gateway was stored with.
_NOT_REACHED = ("gateways.errors.GatewayNotReached", "gateways.errors.GatewayBreakerOpen")


def upgrade() -> None:
    op.add_column("outbox_tasks", sa.Column("resource", sa.String(length=64), nullable=True))
    op.add_column("outbox_attempts", sa.Column("touched", sa.Boolean(), nullable=True))
    _fill_resources()
    op.execute(
        sa.update(_ATTEMPTS)
        .where(
            sa.or_(
                _ATTEMPTS.c.outcome == "deferred",
                sa.and_(
                    _ATTEMPTS.c.outcome.in_(["retry", "dead"]),
                    _ATTEMPTS.c.error_class.in_(_NOT_REACHED),
                ),
            )
        )
        .values(touched=sa.false())
    )
    op.create_index(
        "ix_outbox_tasks_resource_state_id", "outbox_tasks", ["resource", "state", "id"]
    )


def _fill_resources() -> None:
    """The gateway between the first and the second colon of the dedupe key."""
    key = _TASKS.c.dedupe_key
    if op.get_bind().dialect.name == "postgresql":
        gateway: sa.ColumnElement[str] = sa.func.split_part(key, ":", 2)
    else:
        rest = sa.func.substr(key, sa.func.length(_TASKS.c.kind) + 2)
        gateway = sa.func.substr(rest, 1, sa.func.instr(rest, ":") - 1)
    op.execute(
        sa.update(_TASKS)
        .where(
            _TASKS.c.kind.in_(_GATEWAY_KINDS),
            key.like(_TASKS.c.kind + sa.literal(":%:%")),
        )
        .values(resource=gateway)
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_tasks_resource_state_id", table_name="outbox_tasks")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a copied table would cascade its
    # deletion to the attempts.
    op.drop_column("outbox_attempts", "touched")
    op.drop_column("outbox_tasks", "resource")
