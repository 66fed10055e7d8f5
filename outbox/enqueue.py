"""Enqueue a task inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from outbox import wakeup
from outbox.exceptions import InvalidTask
from outbox.prepared import Prepared
from outbox.schema import tasks
from outbox.tasks import TaskState
from outbox.writer import call_after_commit

DEFAULT_MAX_ATTEMPTS = 10
MAX_KIND_CHARS = 64
MAX_DEDUPE_KEY_CHARS = 255
MAX_RESOURCE_CHARS = 64

_COLUMNS = (
    "kind",
    "payload",
    "dedupe_key",
    "state",
    "attempts",
    "max_attempts",
    "run_at",
    "created_at",
    "updated_at",
    "resource",
)
_INSERT = Prepared(insert(tasks).returning(tasks.c.id), _COLUMNS)
# ON CONFLICT DO NOTHING keeps a concurrent duplicate (PostgreSQL, several
# processes) from aborting the caller's transaction with a unique violation.
_INSERT_ONCE = {
    name: Prepared(
        dialect_insert(tasks)
        .on_conflict_do_nothing(index_elements=[tasks.c.dedupe_key])
        .returning(tasks.c.id),
        _COLUMNS,
    )
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def enqueue(
    conn: Connection,
    kind: str,
    payload: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
    resource: str | None = None,
) -> int:
    """Add a pending task in the transaction ``conn`` has open; never commits.

    With a ``dedupe_key`` already taken, adds nothing and returns the existing
    task's id (whatever its state). Returns the task id. Once the transaction
    commits, idle pools in this process are woken at once (through the
    writer's after-commit callbacks).

    ``resource`` names what the task works on (lists and bulk replays filter
    on it with an index).

    Raises RuntimeError outside a transaction, InvalidTask for an empty or too
    long kind, dedupe key or resource, ``max_attempts < 1`` or a naive ``run_at``, and
    TypeError/ValueError when ``payload`` is not JSON-serialisable.
    """
    if not conn.in_transaction():
        raise RuntimeError("enqueue() must run inside the caller's open transaction")
    _check(kind, dedupe_key, run_at, max_attempts)
    if resource is not None and not 0 < len(resource) <= MAX_RESOURCE_CHARS:
        raise InvalidTask(f"resource must be 1 to {MAX_RESOURCE_CHARS} characters")
    stamp = now or datetime.now(UTC)
    row = {
        "kind": kind,
        "payload": json.dumps(payload, separators=(",", ":"), sort_keys=True),
        "dedupe_key": dedupe_key,
        "state": TaskState.PENDING.value,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": run_at or stamp,
        "created_at": stamp,
        "updated_at": stamp,
        "resource": resource,
    }
    task_id = _insert(conn, row) if dedupe_key is None else _insert_once(conn, row, dedupe_key)
    call_after_commit(conn, wakeup.notify)
    return task_id


def _check(kind: str, dedupe_key: str | None, run_at: datetime | None, max_attempts: int) -> None:
    if not 0 < len(kind) <= MAX_KIND_CHARS:
        raise InvalidTask(f"kind must be 1 to {MAX_KIND_CHARS} characters")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= MAX_DEDUPE_KEY_CHARS:
        raise InvalidTask(f"dedupe_key must be 1 to {MAX_DEDUPE_KEY_CHARS} characters")
    if max_attempts < 1:
        raise InvalidTask(f"max_attempts must be >= 1, got {max_attempts}")
    if run_at is not None and run_at.tzinfo is None:
        raise InvalidTask("run_at must be an aware datetime")


def _insert(conn: Connection, row: dict[str, Any]) -> int:
    return int(_INSERT.returning_one(conn, row))


def _insert_once(conn: Connection, row: dict[str, Any], dedupe_key: str) -> int:
    insert_once = _INSERT_ONCE.get(conn.dialect.name)
    if insert_once is not None:
        inserted = insert_once.returning_one(conn, row)
        if inserted is not None:
            return int(inserted)
    existing = _existing(conn, dedupe_key)
    return existing if existing is not None else _insert(conn, row)


def _existing(conn: Connection, dedupe_key: str) -> int | None:
    found = conn.execute(
        select(tasks.c.id).where(tasks.c.dedupe_key == dedupe_key)
    ).scalar_one_or_none()
    return None if found is None else int(found)
