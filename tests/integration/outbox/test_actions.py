"""Operator actions: replay, run now, discard, bulk replay, lists, details and stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, update

from outbox import (
    InvalidFilter,
    PermanentError,
    Task,
    TaskFilter,
    TaskNotFound,
    TaskState,
    TaskStateConflict,
    discard,
    get_task,
    list_tasks,
    outbox_stats,
    replay,
    replay_matching,
    run_now,
)
from outbox.schema import tasks
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.conftest import MakePool
from tests.integration.outbox.support import (
    MARKER,
    add,
    add_many,
    after_a_claim_cycle,
    load,
    mark,
    wait_for_state,
    wait_until,
)


async def force(db: SqliteOutboxDatabase, task_id: int, **values: object) -> None:
    """Put a task in a given state directly, as if it had got there by itself."""

    def work(conn: Connection) -> None:
        conn.execute(update(tasks).where(tasks.c.id == task_id).values(**values))

    await db.write(work)


async def dead_task(db: SqliteOutboxDatabase, kind: str = "pay", error: str = "boom") -> int:
    task_id = await add(db, kind)
    await force(db, task_id, state="dead", attempts=10, last_error=error)
    return task_id


async def test_replaying_a_dead_task_runs_it_again_with_fresh_attempts(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    runs: list[int] = []

    async def handle(task: Task) -> None:
        runs.append(task.attempts)

    task_id = await dead_task(db)
    await make_pool({"pay": handle, MARKER: mark}).start()
    await after_a_claim_cycle(db)
    assert runs == []

    replayed = await replay(db, task_id, actor="ops:alice", reason="gateway fixed")
    assert replayed.state is TaskState.PENDING
    assert replayed.attempts == 0

    done = await wait_for_state(db, task_id, TaskState.DONE)
    assert runs == [1]
    assert done.attempts == 1
    detail = await get_task(db.read_engine, task_id)
    assert [(e.actor, e.action, e.reason) for e in detail.audit] == [
        ("ops:alice", "replay", "gateway fixed")
    ]


@pytest.mark.parametrize("state", ["running", "done"])
async def test_replaying_a_running_or_done_task_is_refused(
    db: SqliteOutboxDatabase, state: str
) -> None:
    task_id = await add(db, "pay")
    await force(db, task_id, state=state)

    with pytest.raises(TaskStateConflict, match=f"it is {state}") as refused:
        await replay(db, task_id, actor="ops:alice", reason="again")

    assert refused.value.task_id == task_id
    assert (await load(db, task_id)).state == state
    assert (await get_task(db.read_engine, task_id)).audit == ()


async def test_actions_on_a_missing_task_raise_task_not_found(db: SqliteOutboxDatabase) -> None:
    with pytest.raises(TaskNotFound):
        await replay(db, 404, actor="ops", reason="r")
    with pytest.raises(TaskNotFound):
        await run_now(db, 404, actor="ops", reason="r")
    with pytest.raises(TaskNotFound):
        await discard(db, 404, actor="ops", reason="r")
    with pytest.raises(TaskNotFound):
        await get_task(db.read_engine, 404)


async def test_run_now_makes_a_scheduled_task_due_at_once(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    async def handle(task: Task) -> None:
        return None

    await make_pool({"later": handle, MARKER: mark}).start()
    task_id = await add(db, "later", run_at=datetime.now(UTC) + timedelta(hours=1))
    await after_a_claim_cycle(db)
    assert (await load(db, task_id)).state is TaskState.PENDING

    await run_now(db, task_id, actor="ops:bob", reason="customer waiting")

    await wait_for_state(db, task_id, TaskState.DONE, timeout_s=2)
    done_id = await add(db, "later")
    await wait_for_state(db, done_id, TaskState.DONE)
    with pytest.raises(TaskStateConflict):
        await run_now(db, done_id, actor="ops:bob", reason="again")


async def test_replay_of_a_scheduled_task_runs_it_now(db: SqliteOutboxDatabase) -> None:
    task_id = await add(db, "later", run_at=datetime.now(UTC) + timedelta(hours=1))

    replayed = await replay(db, task_id, actor="ops", reason="now please")

    assert replayed.state is TaskState.PENDING
    assert replayed.run_at <= datetime.now(UTC)
    assert (await load(db, task_id)).run_at == replayed.run_at


async def test_discard_closes_a_dead_task_without_running_it(db: SqliteOutboxDatabase) -> None:
    task_id = await dead_task(db, error="ValueError: bad iban")

    closed = await discard(db, task_id, actor="ops:carol", reason="refunded by hand")

    assert closed.state is TaskState.DONE
    detail = await get_task(db.read_engine, task_id)
    assert detail.task.state is TaskState.DONE
    assert detail.task.last_error == "ValueError: bad iban"
    assert [(e.action, e.reason) for e in detail.audit] == [("discard", "refunded by hand")]
    assert (await outbox_stats(db.read_engine)).counts[TaskState.DONE] == 1
    with pytest.raises(TaskStateConflict):
        await discard(db, task_id, actor="ops:carol", reason="twice")
    with pytest.raises(ValueError, match="reason"):
        await discard(db, await dead_task(db), actor="ops:carol", reason=" ")


async def test_bulk_replay_takes_exactly_the_filtered_set_and_counts_it(
    db: SqliteOutboxDatabase,
) -> None:
    gateway_a = [await dead_task(db, "submit", "GatewayDown: a") for _ in range(3)]
    gateway_b = [await dead_task(db, "submit", "GatewayDown: b") for _ in range(2)]
    other_kind = await dead_task(db, "notify", "GatewayDown: a")
    pending = await add(db, "submit")

    count = await replay_matching(
        db,
        TaskFilter(state=TaskState.DEAD, kind="submit", error_contains="GatewayDown: a"),
        actor="ops:dave",
        reason="gateway A is back",
    )

    assert count == 3
    for task_id in gateway_a:
        task = await load(db, task_id)
        assert task.state is TaskState.PENDING
        assert task.attempts == 0
        assert [e.action for e in (await get_task(db.read_engine, task_id)).audit] == ["replay"]
    for task_id in [*gateway_b, other_kind]:
        assert (await load(db, task_id)).state is TaskState.DEAD
    assert (await load(db, pending)).attempts == 0
    assert await replay_matching(db, TaskFilter(kind="nothing"), actor="ops", reason="r") == 0


async def test_bulk_replay_refuses_running_or_done_filters(db: SqliteOutboxDatabase) -> None:
    for state in (TaskState.RUNNING, TaskState.DONE):
        with pytest.raises(InvalidFilter):
            await replay_matching(db, TaskFilter(state=state), actor="ops", reason="r")


async def test_bulk_replay_filters_on_the_dedupe_key_prefix(db: SqliteOutboxDatabase) -> None:
    ids = []
    for n, gateway in enumerate(["gateway_a", "gateway_b", "gateway_a_x"]):
        task_id = await add(db, "submit", dedupe_key=f"submit:{gateway}:{n}")
        await force(db, task_id, state="dead")
        ids.append(task_id)

    count = await replay_matching(
        db,
        TaskFilter(dedupe_key_prefix="submit:gateway_a:"),
        actor="ops",
        reason="retry gateway A",
    )

    assert count == 1
    assert [(await load(db, i)).state for i in ids] == ["pending", "dead", "dead"]


async def test_get_task_shows_attempts_with_their_errors(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    async def handle(task: Task) -> None:
        if task.attempts == 1:
            raise TimeoutError("gateway took 30 s")
        raise PermanentError("declined")

    await make_pool({"pay": handle}).start()
    task_id = await add(db, "pay")
    await wait_for_state(db, task_id, TaskState.DEAD)

    detail = await get_task(db.read_engine, task_id)
    assert [(a.number, a.outcome, a.error_class, a.error_message) for a in detail.attempts] == [
        (1, "retry", "TimeoutError", "gateway took 30 s"),
        (2, "dead", "outbox.exceptions.PermanentError", "declined"),
    ]
    for attempt in detail.attempts:
        assert attempt.finished_at is not None
        assert attempt.started_at <= attempt.finished_at
        assert attempt.duration_ms is not None
        assert attempt.duration_ms >= 0


async def test_lists_page_newest_first_under_every_filter(db: SqliteOutboxDatabase) -> None:
    pays = [await add(db, "pay") for _ in range(5)]
    notes = [await add(db, "notify") for _ in range(3)]
    for task_id in pays[:3]:
        await force(db, task_id, state="dead")

    async def walk(**filters: object) -> list[int]:
        seen: list[int] = []
        cursor = None
        while True:
            page = await list_tasks(db.read_engine, limit=2, cursor=cursor, **filters)  # type: ignore[arg-type]
            assert len(page.items) <= 2
            seen.extend(task.id for task in page.items)
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor

    assert await walk() == sorted(pays + notes, reverse=True)
    assert await walk(state=TaskState.DEAD) == sorted(pays[:3], reverse=True)
    assert await walk(kind="pay") == sorted(pays, reverse=True)
    assert await walk(kind="pay", state=TaskState.PENDING) == sorted(pays[3:], reverse=True)
    assert await walk(kind="notify", state=TaskState.DEAD) == []


@pytest.mark.parametrize(
    ("limit", "cursor"), [(0, None), (501, None), (10, "abc"), (10, "-1"), (10, "0")]
)
async def test_lists_refuse_bad_limits_and_cursors(
    db: SqliteOutboxDatabase, limit: int, cursor: str | None
) -> None:
    with pytest.raises(InvalidFilter):
        await list_tasks(db.read_engine, limit=limit, cursor=cursor)


async def test_stats_count_states_and_measure_backlog_and_throughput(
    db: SqliteOutboxDatabase, make_pool: MakePool
) -> None:
    async def handle(task: Task) -> None:
        return None

    await add_many(db, "fast", 40)
    await make_pool({"fast": handle}).start()
    stale = await add(db, "slow", run_at=datetime.now(UTC) - timedelta(seconds=30))
    await add(db, "slow", run_at=datetime.now(UTC) + timedelta(hours=1))
    await dead_task(db, "slow")
    await force(db, await add(db, "slow"), state="running")

    async def drained() -> bool:
        return (await outbox_stats(db.read_engine)).counts[TaskState.DONE] == 40

    await wait_until(drained, what="the fast tasks to be done")
    stats = await outbox_stats(db.read_engine)

    assert stats.counts == {
        TaskState.PENDING: 2,
        TaskState.RUNNING: 1,
        TaskState.DONE: 40,
        TaskState.DEAD: 1,
    }
    # Due work only: the stale pending task and the running one; the one an hour ahead apart.
    assert stats.backlog == 2
    assert stats.scheduled == 1
    assert stats.oldest_due_age_s is not None
    assert 29 <= stats.oldest_due_age_s < 60
    assert stats.done_last_window == 40
    assert stats.done_per_s == pytest.approx(40 / 60)
    assert (await load(db, stale)).state is TaskState.PENDING
