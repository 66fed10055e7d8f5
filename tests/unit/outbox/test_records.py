"""Records built from rows; task ids read from text; the wake-up hub."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from outbox import Attempt, AttemptOutcome, AuditEntry, Task, TaskState, task_id_from_text
from outbox.wakeup import WakeupHub

STAMP = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_task_is_built_from_its_row_with_the_payload_parsed() -> None:
    task = Task.from_row(
        {
            "id": 7,
            "kind": "submit",
            "payload": '{"amount":"10.00","tx":"t1"}',
            "dedupe_key": "submit:t1",
            "state": "pending",
            "attempts": 0,
            "max_attempts": 10,
            "run_at": STAMP,
            "lease_owner": None,
            "lease_expires_at": None,
            "last_error": None,
            "created_at": STAMP,
            "updated_at": STAMP,
        }
    )
    assert task.payload == {"amount": "10.00", "tx": "t1"}
    assert task.state is TaskState.PENDING
    assert task.evolve(state=TaskState.DEAD).state is TaskState.DEAD
    assert task.state is TaskState.PENDING


def test_attempt_and_audit_rows() -> None:
    attempt = Attempt.from_row(
        {
            "id": 1,
            "task_id": 7,
            "number": 2,
            "started_at": STAMP,
            "finished_at": None,
            "outcome": None,
            "error_class": None,
            "error_message": None,
            "duration_ms": None,
        }
    )
    assert attempt.outcome is None
    finished = Attempt.from_row({**vars(attempt), "outcome": "deferred"})
    assert finished.outcome is AttemptOutcome.DEFERRED
    entry = AuditEntry.from_row(
        {
            "id": 3,
            "at": STAMP,
            "actor": "ops",
            "action": "replay_matching",
            "task_id": None,
            "reason": "gateway back",
            "detail": '{"count": 3}',
        }
    )
    assert entry.task_id is None


async def test_the_hub_wakes_every_subscriber_until_it_unsubscribes() -> None:
    hub = WakeupHub()
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("listener bug")

    hub.subscribe(lambda: calls.append("a"))
    hub.subscribe(broken)
    second = lambda: calls.append("b")  # noqa: E731
    hub.subscribe(second)
    hub.notify()
    hub.unsubscribe(second)
    hub.unsubscribe(second)
    hub.notify()
    assert calls == ["a", "b", "a"]


async def test_the_hub_wakes_a_loop_from_another_thread() -> None:
    hub = WakeupHub()
    woken = asyncio.Event()
    hub.subscribe(woken.set)
    thread = threading.Thread(target=hub.notify)
    thread.start()
    thread.join()
    await asyncio.wait_for(woken.wait(), timeout=2)


@pytest.mark.parametrize("state", list(TaskState))
def test_states_are_their_stored_names(state: TaskState) -> None:
    assert TaskState(state.value) is state


@pytest.mark.parametrize(
    ("text", "task_id"),
    [("1", 1), ("42", 42), (str(2**63 - 1), 2**63 - 1), (str(2**63), None),
     ("9999999999999999999", None), ("0", None), ("007", None), ("-1", None), ("+1", None),
     (" 1", None), ("", None), ("\u0663", None), ("1e3", None)],
)  # fmt: skip
def test_task_ids_from_text_are_plain_digits_within_bigint(text: str, task_id: int | None) -> None:
    assert task_id_from_text(text) == task_id
