"""Outbox figures for the console, the operator API and metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from outbox.counters import DONE_COUNTER
from outbox.runs import utcnow
from outbox.schema import attempts, counters, tasks
from outbox.tasks import AttemptOutcome, TaskState

THROUGHPUT_WINDOW_S = 60.0


@dataclass(frozen=True)
class OutboxStats:
    """Counts by state, how many pending tasks are scheduled for later, how long the oldest
    due task has waited, recent throughput."""

    at: datetime
    counts: Mapping[TaskState, int]
    oldest_due_age_s: float | None
    done_last_window: int
    window_s: float
    # Pending tasks not due yet (a status check a minute ahead, a retry after backoff).
    scheduled: int = 0

    @property
    def done_per_s(self) -> float:
        return self.done_last_window / self.window_s

    @property
    def backlog(self) -> int:
        """Work that is due and not finished: pending tasks due by now, and running ones.

        Tasks scheduled for later are not backlog (``scheduled``).
        """
        due = self.counts[TaskState.PENDING] - self.scheduled
        return due + self.counts[TaskState.RUNNING]


def _count(state: TaskState) -> ScalarSelect[int]:
    return (
        select(func.count()).select_from(tasks).where(tasks.c.state == state.value)
    ).scalar_subquery()


async def outbox_stats(
    engine: AsyncEngine, *, now: datetime | None = None, window_s: float = THROUGHPUT_WINDOW_S
) -> OutboxStats:
    """Read the figures in one query; every part is an index lookup or a short
    index range, so it stays fast with millions of done tasks (the done count
    is a maintained counter, not a count).

    Raises whatever the database raises (``sqlalchemy.exc.SQLAlchemyError``).
    """
    now = now or utcnow()
    done_counter = select(counters.c.value).where(counters.c.name == DONE_COUNTER).scalar_subquery()
    stmt = select(
        _count(TaskState.PENDING).label("pending"),
        _count(TaskState.RUNNING).label("running"),
        _count(TaskState.DEAD).label("dead"),
        func.coalesce(done_counter, _count(TaskState.DONE)).label("done"),
        select(func.min(tasks.c.run_at))
        .where(tasks.c.state == TaskState.PENDING.value, tasks.c.run_at <= now)
        .scalar_subquery()
        .label("oldest_due"),
        select(func.count())
        .select_from(tasks)
        .where(tasks.c.state == TaskState.PENDING.value, tasks.c.run_at > now)
        .scalar_subquery()
        .label("scheduled"),
        select(func.count())
        .select_from(attempts)
        .where(
            attempts.c.outcome == AttemptOutcome.DONE.value,
            attempts.c.finished_at >= now - timedelta(seconds=window_s),
        )
        .scalar_subquery()
        .label("recent_done"),
    )
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).one()
    oldest: datetime | None = row.oldest_due
    return OutboxStats(
        at=now,
        counts={
            TaskState.PENDING: int(row.pending),
            TaskState.RUNNING: int(row.running),
            TaskState.DONE: int(row.done),
            TaskState.DEAD: int(row.dead),
        },
        oldest_due_age_s=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        done_last_window=int(row.recent_done),
        window_s=window_s,
        scheduled=int(row.scheduled),
    )
