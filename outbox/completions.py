"""Recording how runs ended: each task's next state, one attempts row per run, and
the done counter, in one write for a whole batch of completions.

Every function takes an open ``Connection`` inside the writer's transaction
and never commits.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, bindparam, update

from outbox.claims import chunks
from outbox.counters import DONE_COUNTER, add_to_counter
from outbox.exceptions import LeaseLost
from outbox.history import INSERT_ATTEMPTS, attempt_row
from outbox.retry import (
    Decision,
    DeferUntil,
    ErrorInfo,
    MarkDead,
    MarkDone,
    RetryLater,
    RetryPolicy,
)
from outbox.runs import Completion, CompletionReport, Release, outcome_of, utcnow
from outbox.schema import UtcDateTime, tasks
from outbox.tasks import AttemptOutcome, Task, TaskState

log = logging.getLogger(__name__)

_FINISH = (
    update(tasks)
    .where(
        tasks.c.id == bindparam("b_id"),
        tasks.c.lease_owner == bindparam("b_owner"),
        tasks.c.state == TaskState.RUNNING.value,
    )
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        run_at=bindparam("b_run_at", type_=UtcDateTime),
        last_error=bindparam("b_last_error"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now", type_=UtcDateTime),
    )
)


def complete(
    conn: Connection,
    *,
    owner: str,
    completions: Sequence[Completion],
    policy: RetryPolicy,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> CompletionReport:
    """Record how each run ended: task state, one attempts row, done counter.

    Only tasks still ``running`` under ``owner``'s lease are touched; the
    others (their lease expired and someone else took them) are reported in
    ``lost``. A ``MarkDone`` with writes runs them and the task's completion
    in one savepoint: if the writes raise, neither is kept and the policy
    decides what the error means (usually a retry); if the completion finds
    the lease gone, the writes are rolled back too.
    """
    now = now or utcnow()
    plain = [c for c in completions if isinstance(c.decision, MarkDone) and not c.decision.writes]
    marked = _mark_done(conn, owner, [c.task.id for c in plain], now)
    kept: list[tuple[Completion, Decision | Release]] = []
    lost: list[int] = []
    for completion in plain:
        if completion.task.id in marked:
            kept.append((completion, completion.decision))
        else:
            lost.append(completion.task.id)
    for completion in completions:
        if isinstance(completion.decision, MarkDone) and not completion.decision.writes:
            continue
        decision = _finish_one(conn, owner, completion, policy, now, rng)
        if decision is None:
            lost.append(completion.task.id)
        else:
            kept.append((completion, decision))
    rows = [
        _attempt_row_for(completion, decision, now)
        for completion, decision in kept
        if not isinstance(decision, Release) or decision.started
    ]
    if rows:
        INSERT_ATTEMPTS.many(conn, rows)
    done = sum(1 for _, decision in kept if isinstance(decision, MarkDone))
    add_to_counter(conn, DONE_COUNTER, done)
    if lost:
        log.warning(
            "outbox completions dropped: the lease was lost",
            extra={"task_ids": lost, "owner": owner},
        )
    outcomes = Counter(outcome_of(decision).value for _, decision in kept)
    return CompletionReport(done=done, lost=tuple(lost), outcomes=dict(outcomes))


_MARK_DONE = (
    update(tasks)
    .where(
        tasks.c.id.in_(bindparam("ids", expanding=True)),
        tasks.c.lease_owner == bindparam("owner", type_=String),
        tasks.c.state == TaskState.RUNNING.value,
    )
    .values(
        state=TaskState.DONE.value,
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("done_at", type_=UtcDateTime),
    )
    .returning(tasks.c.id)
)


def _mark_done(conn: Connection, owner: str, task_ids: list[int], now: datetime) -> set[int]:
    """The common case, one statement per chunk rather than one per task;
    returns the ids that were still held and are now done."""
    marked: set[int] = set()
    for chunk in chunks(task_ids):
        params = {"ids": chunk, "owner": owner, "done_at": now}
        marked.update(conn.execute(_MARK_DONE, params).scalars())
    return marked


def _finish_one(
    conn: Connection,
    owner: str,
    completion: Completion,
    policy: RetryPolicy,
    now: datetime,
    rng: random.Random | None,
) -> Decision | Release | None:
    """Apply one non-trivial outcome; returns what was recorded, None if the lease was lost."""
    decision = completion.decision
    if isinstance(decision, MarkDone) and decision.writes is not None:
        try:
            failure = _done_with_writes(conn, owner, completion, decision.writes, policy, now, rng)
        except LeaseLost:
            return None
        if failure is None:
            return decision
        decision = failure
    finish = _finish_params(owner, completion.task, decision, now)
    return decision if conn.execute(_FINISH, finish).rowcount == 1 else None


def _done_with_writes(
    conn: Connection,
    owner: str,
    completion: Completion,
    writes: Callable[[Connection], object],
    policy: RetryPolicy,
    now: datetime,
    rng: random.Random | None,
) -> Decision | None:
    """Run the handler's writes and the completion in one savepoint.

    Returns None when both committed, or the policy's decision about the
    writes' error (nothing of them kept). Raises LeaseLost (nothing kept).
    """
    savepoint = conn.begin_nested()
    try:
        writes(conn)
        finish = _finish_params(owner, completion.task, MarkDone(), now)
        if conn.execute(_FINISH, finish).rowcount != 1:
            raise LeaseLost(completion.task.id)
    except LeaseLost:
        savepoint.rollback()
        raise
    except Exception as exc:
        savepoint.rollback()
        log.warning(
            "outbox handler writes failed; rolled back",
            extra={"task_id": completion.task.id, "error": ErrorInfo.of(exc).summary},
        )
        # The run touched (or not) what the handler said, whatever its writes did.
        return dataclasses.replace(
            policy.decide(
                exc,
                attempts=completion.task.attempts,
                max_attempts=completion.task.max_attempts,
                rng=rng,
            ),
            touched=_touched(completion.decision),
        )
    savepoint.commit()
    return None


def _touched(decision: Decision | Release) -> bool | None:
    return None if isinstance(decision, Release) else decision.touched


def _finish_params(
    owner: str, task: Task, decision: Decision | Release, now: datetime
) -> dict[str, Any]:
    state, attempts_after, run_at, last_error = _next_state(task, decision, now)
    return {
        "b_id": task.id,
        "b_owner": owner,
        "b_state": state.value,
        "b_attempts": attempts_after,
        "b_run_at": run_at,
        "b_last_error": last_error,
        "b_now": now,
    }


def _next_state(
    task: Task, decision: Decision | Release, now: datetime
) -> tuple[TaskState, int, datetime, str | None]:
    """(state, attempts, run_at, last_error) the task moves to."""
    match decision:
        case MarkDone():
            return TaskState.DONE, task.attempts, task.run_at, task.last_error
        case RetryLater(delay_s=delay_s, error=error):
            return TaskState.PENDING, task.attempts, now + timedelta(seconds=delay_s), error.summary
        case DeferUntil(until=until):
            return TaskState.PENDING, task.attempts - 1, until, task.last_error
        case MarkDead(error=error, exhausted=exhausted):
            note = f" (gave up after {task.attempts} attempts)" if exhausted else ""
            return TaskState.DEAD, task.attempts, task.run_at, error.summary + note
        case Release():
            return TaskState.PENDING, task.attempts - 1, task.run_at, task.last_error
    raise TypeError(f"unknown decision {decision!r}")  # pragma: no cover


def _attempt_row_for(
    completion: Completion, decision: Decision | Release, now: datetime
) -> dict[str, Any]:
    error: ErrorInfo | None = None
    match decision:
        case MarkDone():
            outcome = AttemptOutcome.DONE
        case RetryLater(error=error) | MarkDead(error=error):
            outcome = (
                AttemptOutcome.RETRY if isinstance(decision, RetryLater) else AttemptOutcome.DEAD
            )
        case DeferUntil(until=until, resource=resource, reason=reason):
            outcome = AttemptOutcome.DEFERRED
            detail = f": {reason}" if reason else ""
            error = ErrorInfo("outbox.Deferred", f"{resource} unavailable until {until}{detail}")
        case Release():
            outcome = AttemptOutcome.RELEASED
    return attempt_row(
        task_id=completion.task.id,
        number=completion.task.attempts,
        started_at=completion.started_at,
        finished_at=now,
        outcome=outcome,
        error=error,
        duration_ms=completion.duration_ms,
        touched=_touched(decision),
    )
