"""What a submit task's runs prove about whether its gateway ever received the payment."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert

from gateways import GatewayBreakerOpen, GatewayNotReached
from outbox import attempts, enqueue
from outbox.retry import ErrorInfo
from paycon.storage.migrate import upgrade_to_head
from paycon.storage.outbox_reads import submit_never_ran_past
from paycon.usecases.delivery import NOT_REACHED_ERRORS as NOT_REACHED

_ids = itertools.count()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'history.db'}")
    with engine.begin() as conn:
        upgrade_to_head(conn)
    yield engine
    engine.dispose()


def submit_task_with_runs(engine: Engine, runs: list[tuple[str | None, str | None]]) -> str:
    """A submit task bound for gateway_a with one attempts row per (outcome, error class)."""
    transaction_id = f"tx_{next(_ids)}"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        task_id = enqueue(
            conn, "submit", {"transaction_id": transaction_id},
            dedupe_key=f"submit:gateway_a:{transaction_id}", now=now,
        )  # fmt: skip
        for number, (outcome, error_class) in enumerate(runs, start=1):
            conn.execute(
                insert(attempts).values(
                    task_id=task_id, number=number, started_at=now, finished_at=now,
                    outcome=outcome, error_class=error_class,
                )
            )  # fmt: skip
    return transaction_id


@pytest.mark.parametrize(
    ("runs", "never_sent"),
    [
        ([], True),
        ([("deferred", "outbox.Deferred")], True),
        ([("retry", "gateways.errors.GatewayNotReached"),
          ("dead", "gateways.errors.GatewayBreakerOpen")], True),
        ([("deferred", "outbox.Deferred"), ("retry", "paycon.domain.errors.NotFinalYet")], False),
        ([("retry", "gateways.errors.GatewayTransient")], False),
        ([("retry", None)], False),
        ([("lost", "outbox.LeaseExpired")], False),
        ([("released", None)], False),
        ([("done", None)], False),
        ([(None, None)], False),
    ],
    ids=["no-run", "deferred", "not-reached", "then-ambiguous", "transient", "retry-unknown",
         "lost", "released", "done", "unfinished"],
)  # fmt: skip
def test_only_runs_that_stopped_before_sending_prove_it_never_arrived(
    engine: Engine, runs: list[tuple[str | None, str | None]], never_sent: bool
) -> None:
    transaction_id = submit_task_with_runs(engine, runs)
    with engine.connect() as conn:
        assert (
            submit_never_ran_past(conn, transaction_id, "gateway_a", not_reached=NOT_REACHED)
            is never_sent
        )
        # Another gateway's task is another history: none here, so nothing is proven.
        assert not submit_never_ran_past(conn, transaction_id, "gateway_b", not_reached=NOT_REACHED)


def test_the_not_reached_names_are_those_attempts_store() -> None:
    errors = [
        GatewayNotReached("refused", gateway="gateway_a", operation="submit"),
        GatewayBreakerOpen(
            "open", gateway="gateway_a", operation="submit", retry_at=datetime.now(UTC)
        ),
    ]
    assert {ErrorInfo.of(error).class_name for error in errors} == NOT_REACHED
