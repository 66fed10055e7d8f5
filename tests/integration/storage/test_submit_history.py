"""What a submit task's runs prove about whether its gateway ever received the payment,
and what migration 0006 makes of runs stored before attempts said so."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, insert, select, text

from gateways import GatewayBreakerOpen, GatewayNotReached
from outbox import attempts, enqueue, tasks
from outbox.retry import ErrorInfo
from paycon.storage.migrate import alembic_config, upgrade_to_head
from paycon.storage.outbox_reads import submit_never_ran_past

_ids = itertools.count()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'history.db'}")
    with engine.begin() as conn:
        upgrade_to_head(conn)
    yield engine
    engine.dispose()


def submit_task_with_runs(engine: Engine, runs: list[tuple[str | None, bool | None]]) -> str:
    """A submit task bound for gateway_a with one attempts row per (outcome, touched)."""
    transaction_id = f"tx_{next(_ids)}"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        task_id = enqueue(
            conn, "submit", {"transaction_id": transaction_id},
            dedupe_key=f"submit:gateway_a:{transaction_id}", now=now,
        )  # fmt: skip
        for number, (outcome, touched) in enumerate(runs, start=1):
            conn.execute(
                insert(attempts).values(
                    task_id=task_id, number=number, started_at=now, finished_at=now,
                    outcome=outcome, touched=touched,
                )
            )  # fmt: skip
    return transaction_id


@pytest.mark.parametrize(
    ("runs", "never_sent"),
    [
        ([], True),
        ([("deferred", False)], True),
        ([("retry", False), ("dead", False)], True),
        ([("deferred", False), ("retry", None)], False),
        ([("retry", True)], False),
        ([("lost", None)], False),
        ([("released", None)], False),
        ([("done", None)], False),
        ([("done", True)], False),
        ([(None, None)], False),
    ],
    ids=["no-run", "deferred", "not-reached", "then-may-have", "reached", "lost", "released",
         "done", "done-reached", "unfinished"],
)  # fmt: skip
def test_only_runs_that_stopped_before_sending_prove_it_never_arrived(
    engine: Engine, runs: list[tuple[str | None, bool | None]], never_sent: bool
) -> None:
    transaction_id = submit_task_with_runs(engine, runs)
    with engine.connect() as conn:
        assert submit_never_ran_past(conn, transaction_id, "gateway_a") is never_sent
        # Another gateway's task is another history: none here, so nothing is proven.
        assert not submit_never_ran_past(conn, transaction_id, "gateway_b")


def test_migration_0007_reads_old_runs_as_paycon_read_them(tmp_path: Path) -> None:
    """Before 0007, a run provably never reached its gateway when it was deferred, or
    retried or dead with a "not reached" error; a task's gateway was in its dedupe key."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    not_reached = [
        GatewayNotReached("refused", gateway="gateway_a", operation="submit"),
        GatewayBreakerOpen(
            "open", gateway="gateway_a", operation="submit", retry_at=datetime.now(UTC)
        ),
    ]
    names = [ErrorInfo.of(error).class_name for error in not_reached]
    runs = [
        ("deferred", "outbox.Deferred", False),
        ("retry", names[0], False),
        ("dead", names[1], False),
        ("retry", "paycon.domain.errors.NotFinalYet", None),
        ("lost", "outbox.LeaseExpired", None),
        ("done", None, None),
    ]
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0006")
            stamp = "2026-01-01 00:00:00.000000"
            for key in ("submit:gateway_b:tx_1", "status_check:gateway_a:tx_1", "notify:tx_1"):
                conn.execute(
                    text(
                        "INSERT INTO outbox_tasks (kind, payload, dedupe_key, state, attempts,"
                        " max_attempts, run_at, created_at, updated_at)"
                        " VALUES (:kind, '{}', :key, 'pending', 0, 5, :at, :at, :at)"
                    ),
                    {"kind": key.split(":")[0], "key": key, "at": stamp},
                )
            for number, (outcome, error_class, _) in enumerate(runs, start=1):
                conn.execute(
                    text(
                        "INSERT INTO outbox_attempts (task_id, number, started_at, outcome,"
                        " error_class) VALUES (1, :number, :at, :outcome, :error_class)"
                    ),
                    {"number": number, "at": stamp, "outcome": outcome, "error_class": error_class},
                )
            command.upgrade(alembic_config(conn), "head")
        with engine.connect() as conn:
            resources = conn.execute(select(tasks.c.resource).order_by(tasks.c.id)).scalars()
            touched = conn.execute(select(attempts.c.touched).order_by(attempts.c.id)).scalars()
            assert list(resources) == ["gateway_b", "gateway_a", None]
            assert list(touched) == [expected for _, _, expected in runs]
    finally:
        engine.dispose()
