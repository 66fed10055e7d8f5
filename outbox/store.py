"""The pool's queries, as units of work: claim, complete, renew leases.

Every function here takes an open ``Connection`` inside the writer's
transaction and never commits. Queries are portable: row locks use
``FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL, several
processes claiming at once); SQLite ignores it and its single writer
serialises claims instead.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, String, bindparam, func, insert, select, update

from outbox.exceptions import LeaseLost
from outbox.prepared import Prepared
from outbox.retry import (
    Decision,
    DeferUntil,
    ErrorInfo,
    MarkDead,
    MarkDone,
    RetryLater,
    RetryPolicy,
)
from outbox.schema import UtcDateTime, attempts, counters, tasks
from outbox.tasks import AttemptOutcome, Task, TaskState

log = logging.getLogger(__name__)

DONE_COUNTER = "done"
# Well below SQLite's bound-parameter limit for IN lists.
_ID_CHUNK = 500


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


# --- claiming ---------------------------------------------------------------


# Built once: constructing a statement costs more than running it on a small batch.
_DUE = (
    select(tasks.c.id)
    .where(
        tasks.c.state == TaskState.PENDING.value,
        tasks.c.run_at <= bindparam("due_by", type_=UtcDateTime),
        tasks.c.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(tasks.c.run_at, tasks.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(tasks)
    .where(tasks.c.id.in_(_DUE.scalar_subquery()))
    .values(
        state=TaskState.RUNNING.value,
        attempts=tasks.c.attempts + 1,
        lease_owner=bindparam("owner", type_=String),
        lease_expires_at=bindparam("expires", type_=UtcDateTime),
        updated_at=bindparam("claimed_at", type_=UtcDateTime),
    )
    .returning(*tasks.c)
)
_NEXT_DUE = select(func.min(tasks.c.run_at)).where(
    tasks.c.state == TaskState.PENDING.value,
    tasks.c.kind.in_(bindparam("kinds", expanding=True)),
)


def claim(
    conn: Connection,
    *,
    owner: str,
    kinds: Sequence[str],
    limit: int,
    lease_s: float,
    recover: bool = True,
    now: datetime | None = None,
) -> ClaimResult:
    """Lease up to ``limit`` due pending tasks of ``kinds`` to ``owner``.

    With ``recover``, first puts back tasks whose lease expired (their worker
    died): each gets a ``lost`` attempt row and becomes pending again, or dead
    if it has no attempts left. A claimed task is ``running``, its attempt
    counted, its lease ``lease_s`` long.
    """
    now = now or utcnow()
    recovered, buried = recover_expired(conn, limit=limit, now=now) if recover else (0, 0)
    rows = conn.execute(
        _CLAIM,
        {
            "due_by": now,
            "kinds": list(kinds),
            "limit": limit,
            "owner": owner,
            "expires": now + timedelta(seconds=lease_s),
            "claimed_at": now,
        },
    ).mappings()
    claimed = sorted(map(Task.from_row, rows), key=lambda task: (task.run_at, task.id))
    next_due_at = None
    if len(claimed) < limit:
        next_due_at = conn.execute(_NEXT_DUE, {"kinds": list(kinds)}).scalar_one_or_none()
    return ClaimResult(tuple(claimed), recovered, buried, next_due_at)


_EXPIRED = (
    select(
        tasks.c.id,
        tasks.c.attempts,
        tasks.c.max_attempts,
        tasks.c.lease_owner,
        tasks.c.updated_at,
    )
    .where(
        tasks.c.state == TaskState.RUNNING.value,
        tasks.c.lease_expires_at <= bindparam("expired_by", type_=UtcDateTime),
    )
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)


def recover_expired(conn: Connection, *, limit: int, now: datetime) -> tuple[int, int]:
    """Put back up to ``limit`` running tasks whose lease expired; returns
    (made pending, made dead because their attempts ran out)."""
    expired = conn.execute(_EXPIRED, {"expired_by": now, "limit": limit}).all()
    if not expired:
        return 0, 0
    lost_rows = []
    revive: list[dict[str, Any]] = []
    for row in expired:
        message = f"lease of {row.lease_owner} expired: the worker died or stalled"
        exhausted = row.attempts >= row.max_attempts
        lost_rows.append(
            _attempt_row(
                task_id=row.id,
                number=row.attempts,
                started_at=row.updated_at,
                finished_at=now,
                outcome=AttemptOutcome.LOST,
                error=ErrorInfo("outbox.LeaseExpired", message),
                duration_ms=_ms(now - row.updated_at),
            )
        )
        revive.append(
            {
                "b_id": row.id,
                "b_state": (TaskState.DEAD if exhausted else TaskState.PENDING).value,
                "b_last_error": f"outbox.LeaseExpired: {message}",
                "b_now": now,
            }
        )
    _INSERT_ATTEMPTS.many(conn, lost_rows)
    conn.execute(
        update(tasks)
        .where(tasks.c.id == bindparam("b_id"), tasks.c.state == TaskState.RUNNING.value)
        .values(
            state=bindparam("b_state"),
            last_error=bindparam("b_last_error"),
            lease_owner=None,
            lease_expires_at=None,
            updated_at=bindparam("b_now", type_=UtcDateTime),
        ),
        revive,
    )
    buried = sum(1 for row in revive if row["b_state"] == TaskState.DEAD.value)
    log.warning(
        "outbox leases expired; tasks put back",
        extra={
            "task_ids": [row.id for row in expired],
            "recovered": len(revive) - buried,
            "dead": buried,
        },
    )
    return len(revive) - buried, buried


def renew_leases(
    conn: Connection,
    *,
    owner: str,
    task_ids: Iterable[int],
    lease_s: float,
    now: datetime | None = None,
) -> set[int]:
    """Extend ``owner``'s leases on ``task_ids``; returns the ids it still held."""
    now = now or utcnow()
    held: set[int] = set()
    for chunk in _chunks(list(task_ids)):
        stmt = (
            update(tasks)
            .where(
                tasks.c.id.in_(chunk),
                tasks.c.lease_owner == owner,
                tasks.c.state == TaskState.RUNNING.value,
            )
            .values(lease_expires_at=now + timedelta(seconds=lease_s))
            .returning(tasks.c.id)
        )
        held.update(int(task_id) for task_id in conn.execute(stmt).scalars())
    return held


# --- completing -------------------------------------------------------------

_INSERT_ATTEMPTS = Prepared(
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
    ),
)

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
            kept.append((completion, MarkDone()))
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
        _INSERT_ATTEMPTS.many(conn, rows)
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
    for chunk in _chunks(task_ids):
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
        return policy.decide(
            exc,
            attempts=completion.task.attempts,
            max_attempts=completion.task.max_attempts,
            rng=rng,
        )
    savepoint.commit()
    return None


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
    return _attempt_row(
        task_id=completion.task.id,
        number=completion.task.attempts,
        started_at=completion.started_at,
        finished_at=now,
        outcome=outcome,
        error=error,
        duration_ms=completion.duration_ms,
    )


def _attempt_row(
    *,
    task_id: int,
    number: int,
    started_at: datetime,
    finished_at: datetime,
    outcome: AttemptOutcome,
    error: ErrorInfo | None,
    duration_ms: int,
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
    }


# --- counters ---------------------------------------------------------------


_ADD_TO_COUNTER = (
    update(counters)
    .where(counters.c.name == bindparam("counter", type_=String))
    .values(value=counters.c.value + bindparam("delta", type_=Integer))
)


def add_to_counter(conn: Connection, name: str, delta: int) -> None:
    """Add ``delta`` to a running total (creating it from a count if missing)."""
    if delta == 0:
        return
    result = conn.execute(_ADD_TO_COUNTER, {"counter": name, "delta": delta})
    if result.rowcount == 0 and name == DONE_COUNTER:
        # A schema made without the migration's seed row: count once.
        total = conn.execute(
            select(func.count()).where(tasks.c.state == TaskState.DONE.value)
        ).scalar_one()
        conn.execute(insert(counters), {"name": name, "value": total})


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]


def _ms(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))
