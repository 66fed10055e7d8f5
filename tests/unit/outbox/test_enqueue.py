"""enqueue joins the caller's transaction, dedupes, and asks to wake the pools."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from outbox import InvalidTask, enqueue, tasks, wakeup
from outbox.writer import AFTER_COMMIT


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tasks)).scalar_one())


def test_enqueue_writes_a_pending_task_in_the_callers_transaction(engine: Engine) -> None:
    run_at = datetime.now(UTC) + timedelta(minutes=5)
    with engine.begin() as conn:
        task_id = enqueue(conn, "submit", {"b": 1, "a": [1, 2]}, run_at=run_at, max_attempts=3)
        row = conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().one()
    assert row["state"] == "pending"
    assert row["attempts"] == 0
    assert row["max_attempts"] == 3
    assert row["run_at"] == run_at
    assert json.loads(row["payload"]) == {"a": [1, 2], "b": 1}


def test_a_rolled_back_transaction_leaves_no_task(engine: Engine) -> None:
    with engine.connect() as conn:
        transaction = conn.begin()
        enqueue(conn, "submit", {})
        transaction.rollback()
    assert count(engine) == 0


def test_the_same_dedupe_key_returns_the_first_task(engine: Engine) -> None:
    with engine.begin() as conn:
        first = enqueue(conn, "submit", {"n": 1}, dedupe_key="submit:t1")
    with engine.begin() as conn:
        again = enqueue(conn, "submit", {"n": 2}, dedupe_key="submit:t1")
        other = enqueue(conn, "submit", {"n": 3}, dedupe_key="submit:t2")
    assert again == first
    assert other != first
    assert count(engine) == 2


def test_enqueue_asks_once_per_transaction_to_wake_the_pools(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.info[AFTER_COMMIT] = []
        for n in range(3):
            enqueue(conn, "submit", {"n": n})
        assert conn.info[AFTER_COMMIT] == [wakeup.notify]


def test_enqueue_outside_a_transaction_is_refused(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(RuntimeError, match="transaction"):
        enqueue(conn, "submit", {})


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": ""},
        {"kind": "k" * 65},
        {"dedupe_key": ""},
        {"max_attempts": 0},
        {"run_at": datetime(2030, 1, 1)},
    ],
)
def test_bad_tasks_are_refused(engine: Engine, bad: dict[str, object]) -> None:
    arguments: dict[str, object] = {"kind": "submit", **bad}
    kind = arguments.pop("kind")
    with engine.begin() as conn, pytest.raises(InvalidTask):
        enqueue(conn, str(kind), {}, **arguments)  # type: ignore[arg-type]
