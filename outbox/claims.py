"""Claiming due tasks with a lease, renewing leases, and recovering the tasks of
workers that died (their leases expired).

Every function takes an open ``Connection`` inside the writer's transaction
and never commits. Row locks use ``FOR UPDATE SKIP LOCKED`` where the
database has it (PostgreSQL, several processes claiming at once); SQLite
ignores it and its single writer serialises claims instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, String, bindparam, func, select, update

from outbox.history import INSERT_ATTEMPTS, attempt_row, duration_ms
from outbox.retry import ErrorInfo
from outbox.runs import ClaimResult, utcnow
from outbox.schema import UtcDateTime, tasks
from outbox.tasks import AttemptOutcome, Task, TaskState

log = logging.getLogger(__name__)

# Well below SQLite's bound-parameter limit for IN lists.
ID_CHUNK = 500


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
            attempt_row(
                task_id=row.id,
                number=row.attempts,
                started_at=row.updated_at,
                finished_at=now,
                outcome=AttemptOutcome.LOST,
                error=ErrorInfo("outbox.LeaseExpired", message),
                duration_ms=duration_ms(now - row.updated_at),
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
    INSERT_ATTEMPTS.many(conn, lost_rows)
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
    for chunk in chunks(list(task_ids)):
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


def chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]
