"""Outbox tasks, their attempts and audit trail, and the outbox's figures, as the API
answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from outbox import Attempt, AuditEntry, OutboxStats, Task, TaskDetail
from paycon.domain.masking import mask_payload
from paycon.models.fields import Out, PreciseTime, Time, ms, ms_or_none
from paycon.storage.gateway_switches import OperatorAction


class OutboxCountsOut(Out):
    pending: int
    running: int
    done: int
    dead: int


class OutboxStatsOut(Out):
    """The outbox at a glance."""

    counts: OutboxCountsOut
    backlog: int = Field(description="work due: pending tasks due by now + running ones")
    scheduled: int = Field(
        description="pending tasks not due yet (status checks ahead, retries after backoff)"
    )
    oldest_due_age_s: float | None = Field(description="how long the oldest due task has waited")
    done_per_s: float = Field(description="tasks done per second over the window")
    window_s: float

    @classmethod
    def of(cls, stats: OutboxStats) -> OutboxStatsOut:
        counts = {state.value: count for state, count in stats.counts.items()}
        return cls.model_construct(
            counts=OutboxCountsOut.model_construct(
                pending=counts["pending"],
                running=counts["running"],
                done=counts["done"],
                dead=counts["dead"],
            ),
            backlog=stats.backlog,
            scheduled=stats.scheduled,
            oldest_due_age_s=stats.oldest_due_age_s,
            done_per_s=round(stats.done_per_s, 3),
            window_s=stats.window_s,
        )


class OutboxTaskOut(Out):
    """An outbox task; account data in the payload is masked."""

    id: int
    kind: str
    state: Literal["pending", "running", "done", "dead"]
    attempts: int
    max_attempts: int
    run_at: Time
    dedupe_key: str | None
    lease_owner: str | None
    lease_expires_at: Time | None
    last_error: str | None
    payload: dict[str, Any]
    created_at: Time
    updated_at: Time

    @classmethod
    def of(cls, task: Task) -> OutboxTaskOut:
        return cls.model_construct(**_task_fields(task))


def _task_fields(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind,
        "state": task.state.value,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "run_at": ms(task.run_at),
        "dedupe_key": task.dedupe_key,
        "lease_owner": task.lease_owner,
        "lease_expires_at": ms_or_none(task.lease_expires_at),
        "last_error": task.last_error,
        "payload": mask_payload(dict(task.payload)),
        "created_at": ms(task.created_at),
        "updated_at": ms(task.updated_at),
    }


class OutboxAttemptOut(Out):
    """One run of a task: when, how it ended, the error, how long it took."""

    number: int
    started_at: Time
    finished_at: Time | None
    outcome: str | None
    error_class: str | None
    error_message: str | None
    duration_ms: int | None

    @classmethod
    def of(cls, attempt: Attempt) -> OutboxAttemptOut:
        return cls.model_construct(
            number=attempt.number,
            started_at=ms(attempt.started_at),
            finished_at=ms_or_none(attempt.finished_at),
            outcome=None if attempt.outcome is None else attempt.outcome.value,
            error_class=attempt.error_class,
            error_message=attempt.error_message,
            duration_ms=attempt.duration_ms,
        )


class OutboxAuditOut(Out):
    """One audited operator action: when, who, what and why."""

    at: Time
    actor: str
    action: str
    reason: str
    detail: str | None

    @classmethod
    def of(cls, entry: AuditEntry | OperatorAction) -> OutboxAuditOut:
        """A task's audit entry, or an operator action outside the outbox (in the same shape)."""
        return cls.model_construct(
            at=ms(entry.at),
            actor=entry.actor,
            action=entry.action,
            reason=entry.reason,
            detail=entry.detail,
        )


class OutboxTaskDetailOut(OutboxTaskOut):
    """The task with ``attempts_log`` and ``audit``, both oldest first."""

    attempts_log: list[OutboxAttemptOut]
    audit: list[OutboxAuditOut]

    @classmethod
    def of_detail(cls, detail: TaskDetail) -> OutboxTaskDetailOut:
        return cls.model_construct(
            **_task_fields(detail.task),
            attempts_log=[OutboxAttemptOut.of(a) for a in detail.attempts],
            audit=[OutboxAuditOut.of(e) for e in detail.audit],
        )


class OutboxTaskPageOut(Out):
    items: list[OutboxTaskOut]
    next_cursor: str | None


class TransactionTasksOut(Out):
    """The outbox tasks that carried one transaction, oldest first."""

    items: list[OutboxTaskOut]


class OutboxCountOut(Out):
    """How many tasks a filtered replay would take, counted ``as_of`` then.

    ``as_of`` is exact to the microsecond, as the outbox stores times, so a
    replay given it leaves out tasks changed since: it never takes more than
    ``matching``.
    """

    matching: int = Field(description="tasks a replay with the same filter would take now")
    as_of: PreciseTime = Field(
        description="when they were counted; a replay given it takes at most these tasks"
    )

    @classmethod
    def counted(cls, matching: int, as_of: datetime) -> OutboxCountOut:
        return cls.model_construct(matching=matching, as_of=as_of)


class ReplayCountOut(Out):
    replayed: int
