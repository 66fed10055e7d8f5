"""Balance and ledger rules on real storage: any sequence keeps balances equal to the ledger."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, create_engine, event, text

from paycon.domain.errors import InsufficientFunds
from paycon.domain.money import Money
from paycon.domain.status import Kind, Status, Transition
from paycon.domain.transactions import Transaction
from paycon.ids import transaction_ids
from paycon.storage.migrate import upgrade_to_head
from paycon.storage.payments import Acceptance, accept_payment
from paycon.storage.status_changes import change_status

_customers = itertools.count()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
        dbapi_conn.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    with engine.begin() as conn:
        upgrade_to_head(conn)
    yield engine
    engine.dispose()


def accept(conn: Connection, kind: Kind, customer: str, minor: int) -> tuple[str, int]:
    now = datetime.now(UTC)
    tx = Transaction(
        id=transaction_ids.new(), kind=kind, status=Status.PENDING, customer_id=customer,
        money=Money(minor, "EUR"), country="DE", gateway="gateway_a", route=("gateway_a",),
        reference=None, notify_url=None, destination_masked=None, failure_reason=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    answer = accept_payment(
        conn,
        Acceptance("client", f"key-{tx.id}", "hash", tx, None, "test", max_attempts=10),
    )
    return tx.id, answer.status


def balance_and_ledger(conn: Connection, customer: str) -> tuple[tuple[int, int], tuple[int, int]]:
    row = conn.execute(
        text("SELECT available_minor, held_minor FROM balances WHERE customer_id = :c"),
        {"c": customer},
    ).first()
    sums: dict[str, int] = dict(
        conn.execute(
            text(
                "SELECT bucket, sum(delta_minor) FROM ledger_entries WHERE customer_id = :c "
                "GROUP BY bucket"
            ),
            {"c": customer},
        ).all()
    )
    balance = (row[0], row[1]) if row else (0, 0)
    return balance, (sums.get("available", 0), sums.get("held", 0))


steps = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(1, 5000)),
        st.tuples(st.just("withdraw"), st.integers(1, 5000)),
        st.tuples(st.just("settle"), st.sampled_from([Status.COMPLETED, Status.FAILED])),
        st.tuples(st.just("submit"), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=steps)
def test_balances_always_equal_ledger_sums(engine: Engine, sequence: list[tuple[str, Any]]) -> None:
    customer = f"prop_{next(_customers)}"
    open_payments: list[str] = []
    with engine.connect() as conn:
        for action, arg in sequence:
            with conn.begin():
                if action in ("deposit", "withdraw"):
                    kind = Kind.DEPOSIT if action == "deposit" else Kind.WITHDRAWAL
                    tx_id, status = accept(conn, kind, customer, arg)
                    if status == 202:
                        open_payments.append(tx_id)
                elif open_payments:
                    target = open_payments[0]
                    proposed: Status = Status.SUBMITTED if action == "submit" else arg
                    decision = change_status(
                        conn, target, proposed, actor="t", now=datetime.now(UTC)
                    )
                    if action == "settle":
                        assert decision in (Transition.APPLY, Transition.UNCHANGED)
                        open_payments.pop(0)
                balance, ledger = balance_and_ledger(conn, customer)
                assert balance == ledger
                assert balance[0] >= 0
                assert balance[1] >= 0


def test_final_status_is_never_reverted(engine: Engine) -> None:
    customer = f"prop_{next(_customers)}"
    with engine.connect() as conn, conn.begin():
        tx_id, _ = accept(conn, Kind.DEPOSIT, customer, 100)
        now = datetime.now(UTC)
        assert change_status(conn, tx_id, Status.COMPLETED, actor="t", now=now).applies
        assert change_status(conn, tx_id, Status.FAILED, actor="t", now=now) is Transition.CONFLICT
        assert change_status(conn, tx_id, Status.SUBMITTED, actor="t", now=now) is (
            Transition.BACKWARDS
        )
        assert change_status(conn, tx_id, Status.COMPLETED, actor="t", now=now) is (
            Transition.UNCHANGED
        )
        balance, _ = balance_and_ledger(conn, customer)
        assert balance == (100, 0)
        events = [
            row[0]
            for row in conn.execute(
                text("SELECT type FROM transaction_events WHERE transaction_id = :t ORDER BY id"),
                {"t": tx_id},
            )
        ]
        assert events == ["accepted", "completed", "status_conflict", "status_backwards"]


def test_withdrawal_beyond_balance_writes_nothing_but_its_answer(engine: Engine) -> None:
    customer = f"prop_{next(_customers)}"
    with engine.connect() as conn, conn.begin():
        _, status = accept(conn, Kind.WITHDRAWAL, customer, 1)
        assert status == InsufficientFunds.status
        assert balance_and_ledger(conn, customer) == ((0, 0), (0, 0))
        assert (
            conn.execute(
                text("SELECT count(*) FROM transactions WHERE customer_id = :c"), {"c": customer}
            ).scalar_one()
            == 0
        )
