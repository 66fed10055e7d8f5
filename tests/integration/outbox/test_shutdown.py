"""A clean stop finishes running handlers or gives their tasks back; nothing stays running."""

from __future__ import annotations

import asyncio

import pytest

from outbox import HandlerAlreadyRegistered, Pool, PoolStateError, Task, TaskState
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.conftest import MakePool
from tests.integration.outbox.support import (
    add,
    attempt_outcomes,
    load,
    state_counts,
    wait_for_state,
    wait_until,
)


async def test_stop_lets_a_running_handler_finish_within_the_grace_period(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    started = asyncio.Event()

    async def slow(task: Task) -> None:
        started.set()
        await asyncio.sleep(0.3)

    pool = make_pool({"job": slow})
    await pool.start()
    task_id = await add(db, "job")
    await asyncio.wait_for(started.wait(), timeout=5)
    await pool.stop(grace_s=5)

    task = await load(db, task_id)
    assert task.state is TaskState.DONE
    assert await attempt_outcomes(db, task_id) == ["done"]


async def test_stop_gives_back_a_handler_that_outlives_the_grace_period(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hang(task: Task) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def quick(task: Task) -> None:
        return None

    pool = make_pool({"job": hang})
    await pool.start()
    task_id = await add(db, "job")
    await asyncio.wait_for(started.wait(), timeout=5)
    await pool.stop(grace_s=0.1)

    assert cancelled.is_set()
    released = await load(db, task_id)
    assert released.state is TaskState.PENDING
    assert released.attempts == 0  # the interrupted run does not count
    assert released.lease_owner is None
    assert released.lease_expires_at is None
    assert await attempt_outcomes(db, task_id) == ["released"]

    # Given back, not leased: the next pool takes it at once, long before a lease.
    await make_pool({"job": quick}, lease_s=60).start()
    done = await wait_for_state(db, task_id, TaskState.DONE, timeout_s=2)
    assert done.attempts == 1


async def test_stop_gives_back_claimed_tasks_that_never_started(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    gate = asyncio.Event()

    async def blocked(task: Task) -> None:
        await gate.wait()

    pool = make_pool({"job": blocked}, workers=1, batch_size=8)
    await pool.start()
    ids = [await add(db, "job") for _ in range(5)]

    async def all_claimed() -> bool:
        return (await state_counts(db))["running"] == 5

    await wait_until(all_claimed, what="the pool to claim all five")
    await pool.stop(grace_s=0.1)

    assert await state_counts(db) == {"pending": 5}
    for task_id in ids:
        task = await load(db, task_id)
        assert task.attempts == 0
        assert task.lease_owner is None
    outcomes = [await attempt_outcomes(db, task_id) for task_id in ids]
    assert sorted(outcomes) == [[], [], [], [], ["released"]]


async def test_stop_is_idempotent_and_a_stopped_pool_claims_nothing(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    async def handle(task: Task) -> None:
        return None

    pool = make_pool({"job": handle})
    await pool.start()
    await pool.stop()
    await pool.stop()
    task_id = await add(db, "job")
    await asyncio.sleep(0.2)
    assert (await load(db, task_id)).state is TaskState.PENDING


async def test_concurrent_stops_both_wait_for_the_end(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    started = asyncio.Event()

    async def slow(task: Task) -> None:
        started.set()
        await asyncio.sleep(0.2)

    pool = make_pool({"job": slow})
    await pool.start()
    task_id = await add(db, "job")
    await asyncio.wait_for(started.wait(), timeout=5)
    await asyncio.gather(pool.stop(grace_s=5), pool.stop(grace_s=5))

    assert (await load(db, task_id)).state is TaskState.DONE
    assert pool.snapshot().outcomes == {"done": 1}
    assert pool.snapshot().held == 0


async def test_a_pool_starts_once_with_its_handlers_fixed(db: SqliteOutboxDatabase) -> None:
    async def handle(task: Task) -> None:
        return None

    with pytest.raises(PoolStateError, match="handler"):
        await Pool(db).start()
    pool = Pool(db, handlers={"job": handle})
    with pytest.raises(HandlerAlreadyRegistered):
        pool.register("job", handle)
    await pool.start()
    try:
        with pytest.raises(PoolStateError):
            await pool.start()
        with pytest.raises(PoolStateError):
            pool.register("other", handle)
    finally:
        await pool.stop()
