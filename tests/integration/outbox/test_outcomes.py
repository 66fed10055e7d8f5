"""What becomes of a task after its handler runs: done, retry, defer, dead."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text, update

from outbox import (
    Defer,
    Done,
    PermanentError,
    ResourceUnavailable,
    RetryPolicy,
    Task,
    TaskState,
)
from outbox.schema import tasks
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.conftest import MakePool
from tests.integration.outbox.support import (
    MARKER,
    add,
    after_a_claim_cycle,
    attempt_outcomes,
    load,
    mark,
    wait_for_state,
    wait_until,
)


async def receipts(db: SqliteOutboxDatabase) -> list[tuple[int, str]]:
    async with db.read() as conn:
        rows = await conn.execute(text("SELECT task_id, note FROM receipts ORDER BY task_id"))
        return [(int(task_id), str(note)) for task_id, note in rows]


@pytest.fixture
async def receipts_table(db: SqliteOutboxDatabase) -> None:
    """A domain table the handlers write to."""

    def create(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE receipts (task_id INTEGER PRIMARY KEY, note TEXT)"))

    await db.write(create)


def receipt(task: Task, note: str) -> Done:
    def writes(conn: Connection) -> None:
        conn.execute(
            text("INSERT INTO receipts (task_id, note) VALUES (:id, :note)"),
            {"id": task.id, "note": note},
        )

    return Done(writes=writes)


async def test_a_task_runs_once_with_its_payload_and_is_done(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    seen: list[Task] = []

    async def handle(task: Task) -> None:
        seen.append(task)

    await make_pool({"greet": handle}).start()
    task_id = await add(db, "greet", {"name": "Ada"})

    done = await wait_for_state(db, task_id, TaskState.DONE)
    assert [(t.id, t.payload) for t in seen] == [(task_id, {"name": "Ada"})]
    assert seen[0].state is TaskState.RUNNING
    assert seen[0].attempts == 1
    assert done.attempts == 1
    assert done.lease_owner is None
    assert done.lease_expires_at is None
    assert await attempt_outcomes(db, task_id) == ["done"]


@pytest.mark.usefixtures("receipts_table")
async def test_done_commits_the_handlers_writes_with_the_completion(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    async def handle(task: Task) -> Done:
        return receipt(task, "paid")

    await make_pool({"pay": handle}).start()
    task_id = await add(db, "pay")

    await wait_for_state(db, task_id, TaskState.DONE)
    assert await receipts(db) == [(task_id, "paid")]


@pytest.mark.usefixtures("receipts_table")
async def test_writes_that_fail_keep_nothing_and_the_task_is_retried(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    runs = 0

    async def handle(task: Task) -> Done:
        nonlocal runs
        runs += 1
        first = runs == 1

        def writes(conn: Connection) -> None:
            conn.execute(
                text("INSERT INTO receipts (task_id, note) VALUES (:id, :note)"),
                {"id": task.id, "note": f"run {runs}"},
            )
            if first:
                raise RuntimeError("ledger constraint violated")

        return Done(writes=writes)

    pool = make_pool({"pay": handle})
    await pool.start()
    task_id = await add(db, "pay")

    done = await wait_for_state(db, task_id, TaskState.DONE)
    assert await receipts(db) == [(task_id, "run 2")]
    assert await attempt_outcomes(db, task_id) == ["retry", "done"]

    # The pool counts what was recorded: the first run's writes failed, so it is a retry.
    async def settled() -> bool:
        return pool.snapshot().held == 0

    await wait_until(settled, what="the last completion")
    assert pool.snapshot().outcomes == {"retry": 1, "done": 1}
    assert done.attempts == 2
    assert done.last_error is not None
    assert "ledger constraint violated" in done.last_error


@pytest.mark.usefixtures("receipts_table")
async def test_a_completion_that_fails_leaves_no_domain_write(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    """The lease is taken away inside the same transaction, after the domain write:
    the completion finds no lease, so the domain write must go too."""

    ran = asyncio.Event()

    async def handle(task: Task) -> Done:
        inner = receipt(task, "paid").writes
        assert inner is not None

        def writes(conn: Connection) -> None:
            inner(conn)
            conn.execute(
                update(tasks).where(tasks.c.id == task.id).values(lease_owner="someone-else")
            )

        ran.set()
        return Done(writes=writes)

    pool = make_pool({"pay": handle})
    await pool.start()
    task_id = await add(db, "pay")
    await asyncio.wait_for(ran.wait(), timeout=5)

    async def settled() -> bool:
        return pool.snapshot().held == 0

    await wait_until(settled, what="the completion to be committed")
    assert await receipts(db) == []
    # The steal was rolled back with the receipt: the lease is still the pool's,
    # and it will expire and run again (at least once), not be marked done.
    task = await load(db, task_id)
    assert task.state is TaskState.RUNNING
    assert task.lease_owner == pool.owner
    assert await attempt_outcomes(db, task_id) == []


async def test_a_failing_handler_is_retried_with_backoff_until_it_succeeds(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    runs: list[datetime] = []

    async def handle(task: Task) -> None:
        runs.append(datetime.now(UTC))
        if len(runs) < 3:
            raise ConnectionError(f"gateway timeout {len(runs)}")

    await make_pool({"call": handle}, retry=RetryPolicy(base_s=0.05, max_s=0.2)).start()
    task_id = await add(db, "call")

    done = await wait_for_state(db, task_id, TaskState.DONE)
    assert await attempt_outcomes(db, task_id) == ["retry", "retry", "done"]
    assert done.attempts == 3
    assert done.last_error == "ConnectionError: gateway timeout 2"
    gaps_s = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(runs)]
    assert all(gap >= 0.05 for gap in gaps_s), gaps_s


async def test_exhausted_attempts_make_the_task_dead_with_its_last_error(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    runs = 0

    async def handle(task: Task) -> None:
        nonlocal runs
        runs += 1
        raise ValueError(f"bad answer {runs}")

    await make_pool({"call": handle, MARKER: mark}).start()
    task_id = await add(db, "call", max_attempts=3)

    dead = await wait_for_state(db, task_id, TaskState.DEAD)
    await after_a_claim_cycle(db)
    assert runs == 3
    assert dead.attempts == 3
    assert dead.last_error == "ValueError: bad answer 3 (gave up after 3 attempts)"
    assert await attempt_outcomes(db, task_id) == ["retry", "retry", "dead"]


async def test_a_permanent_error_makes_the_task_dead_at_once(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    runs = 0

    async def handle(task: Task) -> None:
        nonlocal runs
        runs += 1
        raise PermanentError("declined: unknown currency")

    await make_pool({"call": handle, MARKER: mark}).start()
    task_id = await add(db, "call", max_attempts=5)

    dead = await wait_for_state(db, task_id, TaskState.DEAD)
    await after_a_claim_cycle(db)
    assert runs == 1
    assert dead.attempts == 1
    assert dead.last_error == "outbox.exceptions.PermanentError: declined: unknown currency"
    assert await attempt_outcomes(db, task_id) == ["dead"]


async def test_defer_waits_for_the_resource_without_using_attempts(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    """Five deferrals of a task allowed only two attempts, then it succeeds."""
    runs: list[datetime] = []

    async def handle(task: Task) -> Defer | None:
        runs.append(datetime.now(UTC))
        if len(runs) <= 3:
            return Defer("gateway_a", datetime.now(UTC) + timedelta(seconds=0.05), "breaker open")
        if len(runs) <= 5:
            until = datetime.now(UTC) + timedelta(seconds=0.05)
            raise ResourceUnavailable("gateway_a", until, "breaker open")
        return None

    await make_pool({"call": handle}).start()
    task_id = await add(db, "call", max_attempts=2)

    done = await wait_for_state(db, task_id, TaskState.DONE)
    assert len(runs) == 6
    assert done.attempts == 1
    assert await attempt_outcomes(db, task_id) == ["deferred"] * 5 + ["done"]
    gaps_s = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(runs)]
    assert all(gap >= 0.05 for gap in gaps_s), gaps_s


async def test_a_task_scheduled_later_waits_for_its_time(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    started: list[datetime] = []

    async def handle(task: Task) -> None:
        started.append(datetime.now(UTC))

    await make_pool({"later": handle}, poll_interval_s=1.0).start()
    run_at = datetime.now(UTC) + timedelta(seconds=0.3)
    task_id = await add(db, "later", run_at=run_at)

    await wait_for_state(db, task_id, TaskState.DONE)
    # Not before it was due (how soon after is a latency, not asserted in a test).
    assert run_at <= started[0]


async def test_tasks_of_kinds_without_a_handler_are_left_for_others(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    async def handle(task: Task) -> None:
        return None

    await make_pool({"mine": handle, MARKER: mark}).start()
    theirs = await add(db, "theirs")
    mine = await add(db, "mine")

    await wait_for_state(db, mine, TaskState.DONE)
    await after_a_claim_cycle(db)
    other = await load(db, theirs)
    assert other.state is TaskState.PENDING
    assert other.attempts == 0


async def test_a_dedupe_key_enqueues_once(db: SqliteOutboxDatabase, make_pool: MakePool) -> None:
    runs: list[int] = []

    async def handle(task: Task) -> None:
        runs.append(task.id)

    first = await add(db, "pay", {"tx": 1}, dedupe_key="pay:tx1")
    second = await add(db, "pay", {"tx": 1}, dedupe_key="pay:tx1")
    assert first == second
    await make_pool({"pay": handle, MARKER: mark}).start()
    await wait_for_state(db, first, TaskState.DONE)
    third = await add(db, "pay", {"tx": 1}, dedupe_key="pay:tx1")
    await after_a_claim_cycle(db)
    assert third == first
    assert runs == [first]
