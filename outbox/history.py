"""The attempts rows: one per run of a task, written by completions and by lease recovery."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from outbox.prepared import Prepared
from outbox.retry import ErrorInfo
from outbox.schema import attempts
from outbox.tasks import AttemptOutcome

INSERT_ATTEMPTS = Prepared(
    insert(attempts),
    (
        "task_id",
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "error_class",
        "error_message",
        "duration_ms",
        "touched",
    ),
)


def attempt_row(
    *,
    task_id: int,
    number: int,
    started_at: datetime,
    finished_at: datetime,
    outcome: AttemptOutcome,
    error: ErrorInfo | None,
    duration_ms: int,
    touched: bool | None = None,
) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "number": number,
        "started_at": started_at,
        "finished_at": finished_at,
        "outcome": outcome.value,
        "error_class": error.class_name if error else None,
        "error_message": error.message if error else None,
        "duration_ms": duration_ms,
        "touched": touched,
    }


def duration_ms(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))
