"""Claiming never hands one task to two live workers, and a commit wakes an idle pool."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from pathlib import Path

from outbox import Handler, Pool, Task, wakeup
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.conftest import MakePool, database
from tests.integration.outbox.support import (
    FAST,
    MARKER,
    add,
    add_many,
    after_a_claim_cycle,
    mark,
    state_counts,
    wait_all_done,
)


async def test_eight_workers_run_each_of_20000_tasks_exactly_once(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    ids = await add_many(db, "noop", 20_000)
    seen: Counter[int] = Counter()

    async def handle(task: Task) -> None:
        seen[task.id] += 1

    await make_pool({"noop": handle}, workers=8, batch_size=128, lease_s=30).start()
    await wait_all_done(db, timeout_s=60)

    assert set(seen) == set(ids)
    assert seen.most_common(1)[0][1] == 1
    assert await state_counts(db) == Counter(done=20_000)


async def test_two_processes_sharing_the_file_never_run_a_task_twice(tmp_path: Path) -> None:
    """Two SqliteOutboxDatabase objects are two writer connections, as two processes would have;
    SQLite's write lock serialises their claims."""
    first, second = database(tmp_path / "shared.db"), database(tmp_path / "shared.db")
    await first.open()
    await second.open()
    seen: Counter[int] = Counter()
    by_pool: Counter[str] = Counter()

    def handler(name: str) -> Handler:
        async def handle(task: Task) -> None:
            seen[task.id] += 1
            by_pool[name] += 1
            await asyncio.sleep(0)

        return handle

    config = dataclasses.replace(FAST, workers=4, batch_size=32, lease_s=30)
    pools = [
        Pool(first, config, handlers={"noop": handler("first")}),
        Pool(second, config, handlers={"noop": handler("second")}),
    ]
    try:
        for pool in pools:
            await pool.start()
        ids = await add_many(first, "noop", 4000, chunk=100)
        await wait_all_done(first, timeout_s=60)
    finally:
        for pool in pools:
            await pool.stop()
        await first.close()
        await second.close()

    assert set(seen) == set(ids)
    assert seen.most_common(1)[0][1] == 1
    assert by_pool["first"] > 0
    assert by_pool["second"] > 0


async def test_a_commit_that_enqueues_wakes_an_idle_pool(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    """Each task is enqueued once the pool waits on its poll and the task before it is done;
    every commit signals the pools of the process, and all 30 tasks start. How soon after
    the commit (what a lost wake-up would show, as half a poll) is measured by
    ``python -m bench`` (commit-to-start latency, against huey's), not asserted here."""
    started: list[int] = []
    waiters: dict[int, asyncio.Future[None]] = {}
    signals: list[int] = []

    async def handle(task: Task) -> None:
        started.append(task.payload["n"])
        waiters[task.payload["n"]].set_result(None)

    def heard() -> None:
        signals.append(len(started))

    await make_pool({"ping": handle, MARKER: mark}, poll_interval_s=1.0).start()
    await after_a_claim_cycle(db)  # the pool found nothing more: it now waits on its poll
    wakeup.hub.subscribe(heard)
    try:
        loop = asyncio.get_running_loop()
        for n in range(30):
            waiters[n] = loop.create_future()
            await add(db, "ping", {"n": n})
            await asyncio.wait_for(waiters[n], timeout=5)
    finally:
        wakeup.hub.unsubscribe(heard)

    assert started == list(range(30))
    assert signals == list(range(30))  # one signal per commit, each before its task started
