"""Frozen records of what the outbox stores: tasks, attempts, audit entries."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

# Task ids are signed 64-bit integers (BIGINT) in every database the outbox runs on.
MAX_TASK_ID = 2**63 - 1
_TASK_ID_TEXT = re.compile(r"[1-9][0-9]{0,18}")


def task_id_from_text(text: str) -> int | None:
    """The task id ``text`` spells in ASCII digits (no sign, no leading zero), or None
    when it spells none: anything else, 0, or past ``MAX_TASK_ID``."""
    if not _TASK_ID_TEXT.fullmatch(text):
        return None
    task_id = int(text)
    return task_id if task_id <= MAX_TASK_ID else None


class TaskState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class AttemptOutcome(StrEnum):
    """How one run of a task ended; one attempts row each."""

    DONE = "done"
    RETRY = "retry"
    DEFERRED = "deferred"  # a resource was unavailable; the attempt was not counted
    DEAD = "dead"
    LOST = "lost"  # the lease expired: the worker died or stalled
    RELEASED = "released"  # the pool stopped mid-run; the attempt was not counted


@dataclass(frozen=True)
class Task:
    """One outbox task as stored. ``attempts`` counts runs that used up an attempt."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    dedupe_key: str | None
    state: TaskState
    attempts: int
    max_attempts: int
    run_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    resource: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Task:
        """Build from a row of ``outbox_tasks`` (a ``RowMapping``); payload is parsed JSON."""
        return cls(
            id=int(row["id"]),
            kind=row["kind"],
            payload=json.loads(row["payload"]),
            dedupe_key=row["dedupe_key"],
            state=TaskState(row["state"]),
            attempts=int(row["attempts"]),
            max_attempts=int(row["max_attempts"]),
            run_at=row["run_at"],
            lease_owner=row["lease_owner"],
            lease_expires_at=row["lease_expires_at"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            resource=row.get("resource"),
        )

    def evolve(self, **changes: Any) -> Task:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Attempt:
    """One run of a task: when, how it ended, the error if any, and whether it reached
    the task's resource (``touched``: False provably not, True it did, None unknown)."""

    id: int
    task_id: int
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: AttemptOutcome | None
    error_class: str | None
    error_message: str | None
    duration_ms: int | None
    touched: bool | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Attempt:
        """Build from a row of ``outbox_attempts``."""
        outcome = row["outcome"]
        return cls(
            id=int(row["id"]),
            task_id=int(row["task_id"]),
            number=int(row["number"]),
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            outcome=AttemptOutcome(outcome) if outcome is not None else None,
            error_class=row["error_class"],
            error_message=row["error_message"],
            duration_ms=row["duration_ms"],
            touched=_optional_bool(row.get("touched")),
        )


def _optional_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True)
class AuditEntry:
    """An operator's action: who, what, on which task, and why."""

    id: int
    at: datetime
    actor: str
    action: str
    task_id: int | None
    reason: str
    detail: str | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> AuditEntry:
        """Build from a row of ``outbox_audit``."""
        task_id = row["task_id"]
        return cls(
            id=int(row["id"]),
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            task_id=int(task_id) if task_id is not None else None,
            reason=row["reason"],
            detail=row["detail"],
        )


@dataclass(frozen=True)
class TaskDetail:
    """A task with its attempts (oldest first) and its audit trail (oldest first)."""

    task: Task
    attempts: tuple[Attempt, ...]
    audit: tuple[AuditEntry, ...]


@dataclass(frozen=True)
class TaskPage:
    """One page of a task list, newest first; pass ``next_cursor`` for the next page."""

    items: tuple[Task, ...]
    next_cursor: str | None
