"""A worker that dies loses nothing: its tasks run again once their leases expire."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Connection

from outbox import Pool, Task, TaskState, claims
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.conftest import MakePool, database
from tests.integration.outbox.support import (
    FAST,
    add,
    add_many,
    attempt_outcomes,
    load,
    wait_for_state,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
T = TypeVar("T")


async def test_a_pool_killed_mid_handler_has_its_task_run_again_after_the_lease(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    runs: list[str] = []
    stuck = asyncio.Event()

    async def hang(task: Task) -> None:
        runs.append("first")
        stuck.set()
        await asyncio.Event().wait()

    async def finish(task: Task) -> None:
        runs.append("second")

    first = make_pool({"pay": hang}, lease_s=0.3)
    await first.start()
    task_id = await add(db, "pay")
    await asyncio.wait_for(stuck.wait(), timeout=5)
    await first.abort()  # cancelled without cleanup, as a crash would

    orphan = await load(db, task_id)
    assert orphan.state is TaskState.RUNNING
    assert orphan.lease_owner == first.owner

    await make_pool({"pay": finish}, lease_s=0.3).start()
    done = await wait_for_state(db, task_id, TaskState.DONE, timeout_s=5)
    assert runs == ["first", "second"]
    assert done.attempts == 2
    assert await attempt_outcomes(db, task_id) == ["lost", "done"]


async def test_a_task_that_keeps_killing_its_worker_ends_dead(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    stuck = asyncio.Event()

    async def hang(task: Task) -> None:
        stuck.set()
        await asyncio.Event().wait()

    async def never(task: Task) -> None:
        raise AssertionError("a task out of attempts must not run")

    first = make_pool({"pay": hang}, lease_s=0.2)
    await first.start()
    task_id = await add(db, "pay", max_attempts=1)
    await asyncio.wait_for(stuck.wait(), timeout=5)
    await first.abort()

    await make_pool({"pay": never}, lease_s=0.2).start()
    dead = await wait_for_state(db, task_id, TaskState.DEAD, timeout_s=5)
    assert dead.last_error is not None
    assert "lease" in dead.last_error
    assert await attempt_outcomes(db, task_id) == ["lost"]


async def test_a_long_handler_keeps_its_lease_while_others_look_for_work(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    runs: Counter[str] = Counter()

    async def slow(task: Task) -> None:
        runs["slow"] += 1
        await asyncio.sleep(1.2)  # four leases long

    async def other(task: Task) -> None:
        runs["other"] += 1

    await make_pool({"job": slow}, lease_s=0.3).start()
    task_id = await add(db, "job")
    await asyncio.sleep(0.1)
    await make_pool({"job": other}, lease_s=0.3).start()

    done = await wait_for_state(db, task_id, TaskState.DONE, timeout_s=5)
    assert runs == Counter(slow=1)
    assert done.attempts == 1


async def test_sigkill_of_a_worker_process_loses_no_task(tmp_path: Path) -> None:
    """1,000 tasks; the worker process is SIGKILLed while tasks are in flight; a new
    process finishes: every task done, none running, every id handled at least once."""
    db_path = tmp_path / "crash.db"
    seen_path = tmp_path / "seen.txt"
    setup = database(db_path)
    await setup.open()
    ids = await add_many(setup, "work", 1000)
    await setup.close()

    worker = await _spawn(db_path, seen_path, "run")
    try:
        await _wait_for_lines(seen_path, 200, timeout_s=60)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        await worker.wait()
    at_kill = _states(db_path)
    assert at_kill["running"] > 0, at_kill  # the kill caught tasks mid-flight
    assert at_kill["done"] < 1000

    drainer = await _spawn(db_path, seen_path, "drain")
    try:
        assert await asyncio.wait_for(drainer.wait(), timeout=60) == 0
    finally:
        if drainer.returncode is None:
            os.killpg(drainer.pid, signal.SIGKILL)
            await drainer.wait()

    assert _states(db_path) == Counter(done=1000)
    seen = Counter(int(line) for line in seen_path.read_text().split())
    assert set(seen) == set(ids)


async def _spawn(db_path: Path, seen_path: Path, mode: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.outbox.crash_worker",
        str(db_path),
        str(seen_path),
        mode,
        cwd=REPO_ROOT,
        start_new_session=True,
        stdout=asyncio.subprocess.DEVNULL,
    )


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


async def _wait_for_lines(path: Path, count: int, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _lines(path) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"the worker process handled fewer than {count} tasks in {timeout_s} s")
        await asyncio.sleep(0.005)


def _states(db_path: Path) -> Counter[str]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute("SELECT state, count(*) FROM outbox_tasks GROUP BY state")
        return Counter({state: count for state, count in rows})


class NoRenewals:
    """The database as the pool sees it, except that lease renewals fail (a stalled
    or partitioned process): the boundary faked, not the pool."""

    def __init__(self, db: SqliteOutboxDatabase) -> None:
        self._db = db

    async def write(self, work: Callable[[Connection], T]) -> T:
        if isinstance(work, functools.partial) and work.func is claims.renew_leases:
            raise OSError("database unreachable")
        return await self._db.write(work)


async def test_a_run_whose_lease_expired_is_superseded_not_completed_twice(
    db: SqliteOutboxDatabase,
) -> None:
    runs: list[int] = []
    first_running = asyncio.Event()

    async def handle(task: Task) -> None:
        runs.append(task.attempts)
        if task.attempts == 1:
            first_running.set()
            await asyncio.sleep(1.0)  # outlives its 0.3 s lease, which is not renewed

    config = dataclasses.replace(FAST, lease_s=0.3)
    pool = Pool(NoRenewals(db), config, handlers={"job": handle})
    await pool.start()
    try:
        task_id = await add(db, "job")
        await asyncio.wait_for(first_running.wait(), timeout=5)
        done = await wait_for_state(db, task_id, TaskState.DONE, timeout_s=5)
        await asyncio.sleep(1.0)  # the first run ends now; its outcome must be dropped
    finally:
        await pool.stop()

    assert runs == [1, 2]
    assert done.attempts == 2
    assert await attempt_outcomes(db, task_id) == ["lost", "done"]
    assert (await load(db, task_id)).state is TaskState.DONE
