"""Retention prunes old done tasks and their attempts, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select, update

from outbox import Task, TaskState, outbox_stats, prune
from outbox.schema import attempts, tasks
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.conftest import MakePool
from tests.integration.outbox.support import add, add_many, wait_all_done, wait_until

DAY = timedelta(days=1)


async def age(
    db: SqliteOutboxDatabase,
    task_ids: list[int],
    state: str,
    by: timedelta,
    *,
    due_by: timedelta | None = None,
) -> None:
    """Move tasks to ``state`` as if that had happened ``by`` ago (and they had been
    due ``due_by`` ago, by default as long)."""
    now = datetime.now(UTC)

    def work(conn: Connection) -> None:
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(task_ids))
            .values(state=state, run_at=now - (due_by or by), updated_at=now - by)
        )

    await db.write(work)


async def surviving(db: SqliteOutboxDatabase) -> set[int]:
    async with db.read() as conn:
        return set((await conn.execute(select(tasks.c.id))).scalars())


async def attempt_count(db: SqliteOutboxDatabase) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(attempts))).scalar_one())


async def test_prune_deletes_only_done_tasks_older_than_the_retention(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    async def handle(task: Task) -> None:
        return None

    old_done = await add_many(db, "job", 7)
    recent_done = await add_many(db, "job", 2)
    long_due_done_now = await add_many(db, "job", 1)
    pool = make_pool({"job": handle})
    await pool.start()
    await wait_all_done(db)
    await pool.stop()
    old_dead = [await add(db, "other")]
    old_pending = [await add(db, "other")]
    await age(db, old_done, "done", 8 * DAY)
    await age(db, long_due_done_now, "done", timedelta(0), due_by=30 * DAY)
    await age(db, old_dead, "dead", 30 * DAY)
    await age(db, old_pending, "pending", 30 * DAY)
    assert await attempt_count(db) == 10

    deleted = await prune(db, older_than_s=7 * DAY.total_seconds(), batch_size=3)

    assert deleted == 7
    assert await surviving(db) == {*recent_done, *old_dead, *old_pending, *long_due_done_now}
    assert await attempt_count(db) == 3  # the surviving tasks' attempts stay
    stats = await outbox_stats(db.read_engine)
    assert stats.counts[TaskState.DONE] == 3
    assert await prune(db, older_than_s=7 * DAY.total_seconds()) == 0


async def test_the_pool_prunes_on_its_own(db: SqliteOutboxDatabase, make_pool: MakePool) -> None:
    async def handle(task: Task) -> None:
        return None

    await make_pool({"job": handle}, retention_s=0.3, retention_interval_s=0.1).start()
    first = await add(db, "job")

    async def pruned() -> bool:
        return first not in await surviving(db)

    await wait_until(pruned, timeout_s=5, what="the done task to be pruned")
    assert (await outbox_stats(db.read_engine)).counts[TaskState.DONE] == 0
