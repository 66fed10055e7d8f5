"""Enqueue a task inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from outbox.schema import tasks

DEFAULT_MAX_ATTEMPTS = 10


def enqueue(
    conn: Connection,
    kind: str,
    payload: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> int:
    """Add a pending task in the transaction ``conn`` has open; never commits.

    With a ``dedupe_key`` already taken, adds nothing and returns the existing
    task's id. Returns the task id.
    """
    if not conn.in_transaction():
        raise RuntimeError("enqueue() must run inside the caller's open transaction")
    if dedupe_key is not None:
        existing = conn.execute(
            select(tasks.c.id).where(tasks.c.dedupe_key == dedupe_key)
        ).scalar_one_or_none()
        if existing is not None:
            return int(existing)
    stamp = now or datetime.now(UTC)
    result = conn.execute(
        insert(tasks),
        {
            "kind": kind,
            "payload": json.dumps(payload, separators=(",", ":"), sort_keys=True),
            "dedupe_key": dedupe_key,
            "state": "pending",
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_at": run_at or stamp,
            "created_at": stamp,
            "updated_at": stamp,
        },
    )
    (task_id,) = result.inserted_primary_key or (None,)
    return int(task_id)
