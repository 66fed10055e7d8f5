"""The outbox's own tables: tasks and one attempts row per run."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
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
    """Timezone-aware UTC datetimes in and out, whatever the database stores."""

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
    # Claiming reads due tasks of one state in run_at order.
    Index("ix_outbox_tasks_state_run_at", "state", "run_at"),
    Index("ix_outbox_tasks_kind_state", "kind", "state"),
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
    Index("ix_outbox_attempts_task_id", "task_id", "number"),
)
