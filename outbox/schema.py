"""The outbox's own tables: tasks, one attempts row per run, the operators' audit
trail and a counter of done tasks.

Kept identical to paycon's migrations (``0001``, ``0002_outbox_*`` and
``0006_outbox_resource_touched``); a test there compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

metadata = MetaData()

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in and out, whatever the database stores.

    On SQLite the value is stored exactly as SQLAlchemy's ``DateTime`` stores it
    (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC, no offset), but converted with the C
    ``isoformat``/``fromisoformat`` instead of SQLAlchemy's Python formatting
    and regular expression: the outbox converts several datetimes per task
    (the README's design notes say what that is worth).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            return _sqlite_datetime
        return super().result_processor(dialect, coltype)


def _sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" without the offset.
    return value.isoformat(" ", "microseconds")[:-6]


def _sqlite_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 26:  # the stored form, the common case
        return datetime.fromisoformat(value + "+00:00")
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


tasks = Table(
    "outbox_tasks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("dedupe_key", String(255), nullable=True, unique=True),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("run_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # What the task works on, set at enqueue (paycon: the gateway), so lists and
    # bulk actions filter on it with an index range.
    Column("resource", String(64), nullable=True),
    # Claiming reads due tasks of one state in run_at order.
    Index("ix_outbox_tasks_state_run_at", "state", "run_at"),
    # Lists page newest first under a state, or a kind and a state.
    Index("ix_outbox_tasks_state_id", "state", "id"),
    Index("ix_outbox_tasks_kind_state_id", "kind", "state", "id"),
    Index("ix_outbox_tasks_resource_state_id", "resource", "state", "id"),
)

attempts = Table(
    "outbox_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "task_id",
        BigId,
        ForeignKey("outbox_tasks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("error_class", String(255), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("duration_ms", Integer, nullable=True),
    # Whether the run reached the task's resource: False provably not, True it did,
    # None unknown (see ``outbox.outcomes``).
    Column("touched", Boolean, nullable=True),
    Index("ix_outbox_attempts_task_id", "task_id", "number"),
    # Throughput over the last minute counts recent done attempts.
    Index("ix_outbox_attempts_outcome_finished_at", "outcome", "finished_at"),
)

# Who did what to which task, and why: replays, run-now, discards.
audit = Table(
    "outbox_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    # No foreign key: the trail outlives tasks that retention prunes.
    Column("task_id", BigId, nullable=True),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=True),
    Index("ix_outbox_audit_task_id", "task_id", "id"),
)

# Running totals that would otherwise need a count over millions of rows.
# Only outbox-internal writes touch them (completions, discards, pruning),
# never a caller's enqueue, so they are not a hot row in payment transactions.
counters = Table(
    "outbox_counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
