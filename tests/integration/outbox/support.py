"""Helpers for the outbox tests: enqueue through the real writer, wait for states."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from outbox import PoolConfig, RetryPolicy, Task, TaskState, enqueue, get_task
from outbox.schema import attempts, tasks
from outbox.testing import SqliteOutboxDatabase

# Short everything, so a test waits milliseconds where production waits seconds.
FAST = PoolConfig(
    workers=4,
    lease_s=2.0,
    poll_interval_s=0.05,
    batch_size=16,
    grace_s=1.0,
    retention_s=None,
    retry=RetryPolicy(base_s=0.01, max_s=0.05),
)


async def add(
    db: SqliteOutboxDatabase,
    kind: str,
    payload: Mapping[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 10,
) -> int:
    """Enqueue one task in its own committed unit of work."""

    def work(conn: Connection) -> int:
        return enqueue(
            conn,
            kind,
            payload or {},
            dedupe_key=dedupe_key,
            run_at=run_at,
            max_attempts=max_attempts,
        )

    return await db.write(work)


async def add_many(
    db: SqliteOutboxDatabase, kind: str, count: int, *, chunk: int = 2000
) -> list[int]:
    """Enqueue ``count`` tasks ``{"n": i}``, ``chunk`` per commit; returns their ids."""
    ids: list[int] = []
    for start in range(0, count, chunk):
        numbers = range(start, min(count, start + chunk))

        def work(conn: Connection, numbers: range = numbers) -> list[int]:
            return [enqueue(conn, kind, {"n": n}) for n in numbers]

        ids.extend(await db.write(work))
    return ids


async def load(db: SqliteOutboxDatabase, task_id: int) -> Task:
    return (await get_task(db.read_engine, task_id)).task


async def state_counts(db: SqliteOutboxDatabase) -> Counter[str]:
    """Tasks per state, counted straight from the table."""
    async with db.read() as conn:
        rows = await conn.execute(select(tasks.c.state, func.count()).group_by(tasks.c.state))
        return Counter({state: count for state, count in rows})


async def attempt_outcomes(db: SqliteOutboxDatabase, task_id: int) -> list[str]:
    """The task's attempt outcomes, oldest first."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(attempts.c.outcome).where(attempts.c.task_id == task_id).order_by(attempts.c.id)
        )
        return [outcome for (outcome,) in rows]


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``check`` every 10 ms until it is true; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_for_state(
    db: SqliteOutboxDatabase, task_id: int, state: TaskState, *, timeout_s: float = 10.0
) -> Task:
    async def reached() -> bool:
        return (await load(db, task_id)).state is state

    await wait_until(reached, timeout_s=timeout_s, what=f"task {task_id} to be {state}")
    return await load(db, task_id)


async def wait_all_done(db: SqliteOutboxDatabase, *, timeout_s: float = 30.0) -> None:
    async def drained() -> bool:
        counts = await state_counts(db)
        return counts["pending"] == 0 and counts["running"] == 0

    await wait_until(drained, timeout_s=timeout_s, what="every task to finish")


# A kind every pool that checks "nothing else happened" also handles, doing nothing.
MARKER = "marker"


async def mark(task: Task) -> None:
    """The handler of ``MARKER`` tasks."""


async def after_a_claim_cycle(db: SqliteOutboxDatabase) -> None:
    """Enqueue a ``MARKER`` task and wait until it is done: the pool (which must handle
    ``MARKER``) has then claimed since now, and its claims took every task due before the
    marker that it would ever take. What did not happen by then did not happen for lack of
    waiting."""
    marker = await add(db, MARKER)
    await wait_for_state(db, marker, TaskState.DONE)
