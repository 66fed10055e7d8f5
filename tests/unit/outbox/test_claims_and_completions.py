"""The pool's units of work on a real (in-memory) SQLite database, with the clock held still."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from outbox import Attempt, TaskState, counters, enqueue, tasks
from outbox.claims import claim, renew_leases
from outbox.completions import complete
from outbox.retry import ErrorInfo, MarkDone, RetryLater, RetryPolicy
from outbox.runs import Completion, Release
from outbox.schema import attempts

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
POLICY = RetryPolicy(base_s=1, max_s=1)


def add(conn: Connection, kind: str = "job", *, due_in_s: float = -1) -> int:
    return enqueue(conn, kind, {}, run_at=NOW + timedelta(seconds=due_in_s), now=NOW)


def outcomes(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(select(attempts.c.task_id, attempts.c.outcome).order_by(attempts.c.id))
    return [(task_id, outcome) for task_id, outcome in rows]


def test_claim_takes_due_tasks_of_its_kinds_oldest_first(engine: Engine) -> None:
    with engine.begin() as conn:
        late = add(conn, due_in_s=-1)
        early = add(conn, due_in_s=-5)
        add(conn, "other", due_in_s=-9)
        future = add(conn, due_in_s=30)
        third = add(conn, due_in_s=-3)
        result = claim(conn, owner="w1", kinds=["job"], limit=2, lease_s=10, now=NOW)
        again = claim(conn, owner="w2", kinds=["job"], limit=5, lease_s=10, now=NOW)

    assert [t.id for t in result.tasks] == [early, third]
    for task in result.tasks:
        assert task.state is TaskState.RUNNING
        assert task.attempts == 1
        assert task.lease_owner == "w1"
        assert task.lease_expires_at == NOW + timedelta(seconds=10)
    assert result.next_due_at is None  # it got all it asked for
    assert [t.id for t in again.tasks] == [late]
    assert again.next_due_at == NOW + timedelta(seconds=30)
    assert future not in {t.id for t in again.tasks}


def test_claim_puts_back_tasks_whose_lease_expired(engine: Engine) -> None:
    with engine.begin() as conn:
        task_id = add(conn)
        claim(conn, owner="dead", kinds=["job"], limit=1, lease_s=5, now=NOW)
        later = NOW + timedelta(seconds=6)
        result = claim(conn, owner="alive", kinds=["job"], limit=1, lease_s=5, now=later)
        history = outcomes(conn)

    assert result.recovered == 1
    (task,) = result.tasks
    assert task.id == task_id
    assert task.lease_owner == "alive"
    assert task.attempts == 2
    assert task.last_error is not None
    assert "lease of dead expired" in task.last_error
    assert history == [(task_id, "lost")]


def test_a_lost_lease_with_no_attempts_left_makes_the_task_dead(engine: Engine) -> None:
    with engine.begin() as conn:
        task_id = enqueue(conn, "job", {}, max_attempts=1, run_at=NOW, now=NOW)
        claim(conn, owner="dead", kinds=["job"], limit=1, lease_s=5, now=NOW)
        later = NOW + timedelta(seconds=6)
        result = claim(conn, owner="alive", kinds=["job"], limit=1, lease_s=5, now=later)
        state = conn.execute(select(tasks.c.state).where(tasks.c.id == task_id)).scalar_one()

    assert (result.recovered, result.buried, result.tasks) == (0, 1, ())
    assert state == "dead"


def test_complete_records_outcomes_only_for_tasks_still_held(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = [add(conn) for _ in range(4)]
        claimed = claim(conn, owner="w1", kinds=["job"], limit=4, lease_s=10, now=NOW).tasks
        stolen = claimed[3]
        conn.execute(update(tasks).where(tasks.c.id == stolen.id).values(lease_owner="w2"))
        error = ErrorInfo("OSError", "refused")
        report = complete(
            conn,
            owner="w1",
            completions=[
                Completion(claimed[0], MarkDone(), NOW, 5),
                Completion(claimed[1], RetryLater(2.0, error), NOW, 5),
                Completion(claimed[2], Release(started=False), NOW, 0),
                Completion(stolen, MarkDone(), NOW, 5),
            ],
            policy=POLICY,
            now=NOW,
        )
        rows = {
            row.id: row for row in conn.execute(select(tasks).where(tasks.c.id.in_(ids))).mappings()
        }
        history = outcomes(conn)
        done_total = conn.execute(select(counters.c.value)).scalar_one()

    assert report.done == 1
    assert report.lost == (stolen.id,)
    assert rows[ids[0]]["state"] == "done"
    assert rows[ids[1]]["state"] == "pending"
    assert rows[ids[1]]["run_at"] == NOW + timedelta(seconds=2)
    assert rows[ids[1]]["last_error"] == "OSError: refused"
    assert rows[ids[2]]["state"] == "pending"
    assert rows[ids[2]]["attempts"] == 0
    assert rows[ids[3]]["state"] == "running"
    assert sorted(history) == [(ids[0], "done"), (ids[1], "retry")]
    assert done_total == 1  # created from a count: this schema had no seeded counter


def test_renewal_extends_only_the_leases_still_held(engine: Engine) -> None:
    with engine.begin() as conn:
        for _ in range(2):
            add(conn)
        held, lost = claim(conn, owner="w1", kinds=["job"], limit=2, lease_s=10, now=NOW).tasks
        conn.execute(update(tasks).where(tasks.c.id == lost.id).values(lease_owner="w2"))
        later = NOW + timedelta(seconds=8)
        still = renew_leases(conn, owner="w1", task_ids=[held.id, lost.id], lease_s=10, now=later)
        expires = conn.execute(
            select(tasks.c.lease_expires_at).where(tasks.c.id == held.id)
        ).scalar_one()

    assert still == {held.id}
    assert expires == later + timedelta(seconds=10)


def test_each_attempt_stores_what_its_run_touched_and_the_report_counts_what_was_recorded(
    engine: Engine,
) -> None:
    def failing_writes(conn: Connection) -> None:
        raise RuntimeError("constraint violated")

    with engine.begin() as conn:
        ids = [add(conn) for _ in range(3)]
        claimed = claim(conn, owner="w1", kinds=["job"], limit=3, lease_s=10, now=NOW).tasks
        error = ErrorInfo("OSError", "refused")
        report = complete(
            conn,
            owner="w1",
            completions=[
                Completion(claimed[0], MarkDone(touched=True), NOW, 5),
                Completion(claimed[1], RetryLater(2.0, error, touched=False), NOW, 5),
                # Its writes fail: a retry, still saying what the run touched.
                Completion(claimed[2], MarkDone(failing_writes, touched=True), NOW, 5),
            ],
            policy=POLICY,
            now=NOW,
        )
        rows = conn.execute(select(attempts.c.task_id, attempts.c.touched))
        stored = {task_id: touched for task_id, touched in rows}
        details = [Attempt.from_row(row) for row in conn.execute(select(attempts)).mappings()]

    assert stored == {ids[0]: True, ids[1]: False, ids[2]: True}
    assert {a.task_id: a.touched for a in details} == stored
    assert report.done == 1
    assert report.outcomes == {"done": 1, "retry": 2}


def test_a_task_names_its_resource_at_enqueue(engine: Engine) -> None:
    with engine.begin() as conn:
        task_id = enqueue(conn, "job", {}, resource="gateway_a", now=NOW)
        plain = add(conn)
        claimed = claim(conn, owner="w1", kinds=["job"], limit=2, lease_s=10, now=NOW).tasks
    assert {task.id: task.resource for task in claimed} == {task_id: "gateway_a", plain: None}
