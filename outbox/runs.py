"""What one run of a task came to, as the worker, the pool, claims and completions pass it.

Values only: a worker reports a ``Completion``; ``claim`` answers a
``ClaimResult``; ``complete`` a ``CompletionReport``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from outbox.retry import Decision, DeferUntil, MarkDead, MarkDone, RetryLater
from outbox.tasks import AttemptOutcome, Task


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Release:
    """Give the task back (the pool is stopping): pending again, attempt not counted.

    ``started``: the handler had begun (and is recorded as a ``released`` attempt).
    """

    started: bool


@dataclass(frozen=True)
class Completion:
    """What a worker reports about one claimed task."""

    task: Task
    decision: Decision | Release
    started_at: datetime
    duration_ms: int


@dataclass(frozen=True)
class ClaimResult:
    """Tasks claimed (oldest due first), leases recovered from dead workers, and,
    when fewer tasks were due than asked for, when the next pending one is due."""

    tasks: tuple[Task, ...]
    recovered: int
    buried: int
    next_due_at: datetime | None


@dataclass(frozen=True)
class CompletionReport:
    """How many tasks were completed as done, which ones this pool no longer held, and
    how the recorded runs ended (attempt outcome → count; a ``Done`` whose writes
    failed counts as what the policy made of the failure, not as done)."""

    done: int
    lost: tuple[int, ...]
    outcomes: Mapping[str, int] = field(default_factory=dict)


def outcome_of(decision: Decision | Release) -> AttemptOutcome:
    """The attempt outcome a decision is recorded as."""
    match decision:
        case MarkDone():
            return AttemptOutcome.DONE
        case RetryLater():
            return AttemptOutcome.RETRY
        case DeferUntil():
            return AttemptOutcome.DEFERRED
        case MarkDead():
            return AttemptOutcome.DEAD
        case Release():
            return AttemptOutcome.RELEASED
    raise TypeError(f"unknown decision {decision!r}")  # pragma: no cover
