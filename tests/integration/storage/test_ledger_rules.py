"""The double-entry ledger on real storage (SQLite and PostgreSQL): any sequence of
deposits, withdrawals, completions, failures and reversals keeps every journal
entry at zero, every stored balance equal to its postings, and ``available``
never below zero; the balances are the ones the rules say."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from paycon.domain.errors import InsufficientFunds
from paycon.domain.ids import transaction_ids
from paycon.domain.money import Money
from paycon.domain.review import ReviewReason
from paycon.domain.status import Kind, Status, Transition
from paycon.domain.transactions import Transaction
from paycon.models.transactions import TransactionOut
from paycon.storage.holds import hold_for_review
from paycon.storage.ledger import customer_balance
from paycon.storage.ledger_check import verify
from paycon.storage.payments import Acceptance, accept_payment
from paycon.storage.review import ResolveRequest, resolve_held
from paycon.storage.status_changes import change_status
from tests.integration.storage.engines import ENGINES, Store, store_fixture

_customers = itertools.count()


@pytest.fixture(scope="module", params=ENGINES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    yield from store_fixture(request, tmp_path_factory.mktemp("ledger"))


def accept(conn: Connection, kind: Kind, customer: str, minor: int) -> tuple[str, int]:
    now = datetime.now(UTC)
    tx = Transaction(
        id=transaction_ids.new(), kind=kind, status=Status.PENDING, customer_id=customer,
        money=Money(minor, "EUR"), country="DE", gateway="gateway_a", route=("gateway_a",),
        reference=None, notify_url=None, destination_masked=None, failure_reason=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    shown = TransactionOut.of(tx).model_dump_json()
    acceptance = Acceptance(
        "client", f"key-{tx.id}", "hash", tx, None, "test", max_attempts=10, accepted_answer=shown
    )
    answer = accept_payment(conn, acceptance)
    return tx.id, answer.status


def resolve(conn: Connection, tx_id: str, status: Status) -> Status:
    now = datetime.now(UTC)
    hold_for_review(conn, tx_id, ReviewReason.CONFLICTING_STATUS, "test", actor="t", now=now)
    return resolve_held(
        conn, ResolveRequest(tx_id, status, "decided in a test", "t"), now=now, max_attempts=3
    )


def shown(conn: Connection, customer: str) -> tuple[int, int, int]:
    balance = customer_balance(conn, customer, "EUR")
    return balance.available_minor, balance.held_minor, balance.owed_minor


@dataclass
class Model:
    """The customer's balance as the rules say it must be."""

    available: int = 0
    held: int = 0
    owed: int = 0

    def credit(self, amount: int) -> None:
        repaid = min(amount, self.owed)
        self.owed -= repaid
        self.available += amount - repaid

    def debit(self, amount: int) -> None:
        taken = min(amount, self.available)
        self.available -= taken
        self.owed += amount - taken


steps = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(1, 5000)),
        st.tuples(st.just("withdraw"), st.integers(1, 5000)),
        st.tuples(st.just("settle"), st.sampled_from([Status.COMPLETED, Status.FAILED])),
        st.tuples(st.just("submit"), st.just(0)),
        st.tuples(st.just("reverse"), st.integers(0, 10)),
    ),
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(sequence=steps)
def test_any_sequence_keeps_the_ledger_balanced(
    store: Store, sequence: list[tuple[str, Any]]
) -> None:
    customer = f"prop_{next(_customers)}"
    open_payments: list[tuple[str, Kind, int]] = []
    final: list[tuple[str, Kind, int, Status]] = []
    model = Model()

    def step(conn: Connection, action: str, arg: Any) -> None:
        if action in ("deposit", "withdraw"):
            kind = Kind.DEPOSIT if action == "deposit" else Kind.WITHDRAWAL
            tx_id, answer = accept(conn, kind, customer, arg)
            if kind is Kind.WITHDRAWAL:
                assert (answer == 202) == (model.available >= arg)
                if answer == 202:
                    model.available -= arg
                    model.held += arg
            if answer == 202:
                open_payments.append((tx_id, kind, arg))
        elif action == "reverse":
            if not final:
                return
            tx_id, kind, amount, was = final.pop(arg % len(final))
            decided = Status.FAILED if was is Status.COMPLETED else Status.COMPLETED
            after = resolve(conn, tx_id, decided)
            if was is Status.COMPLETED:
                assert after is Status.REVERSED
                if kind is Kind.DEPOSIT:
                    model.debit(amount)
                else:
                    model.credit(amount)
            else:
                assert after is Status.COMPLETED
                if kind is Kind.DEPOSIT:
                    model.credit(amount)
                else:
                    model.debit(amount)
        elif open_payments:
            tx_id, kind, amount = open_payments[0]
            proposed: Status = Status.SUBMITTED if action == "submit" else arg
            decision = change_status(conn, tx_id, proposed, actor="t", now=datetime.now(UTC))
            if action == "settle":
                assert decision is Transition.APPLY
                open_payments.pop(0)
                final.append((tx_id, kind, amount, proposed))
                if kind is Kind.DEPOSIT and proposed is Status.COMPLETED:
                    model.credit(amount)
                elif kind is Kind.WITHDRAWAL:
                    model.held -= amount
                    if proposed is Status.FAILED:
                        model.credit(amount)

    def step_on(conn: Connection, *, action: str, arg: Any) -> None:
        step(conn, action, arg)

    for action, arg in sequence:
        store.run(functools.partial(step_on, action=action, arg=arg))
        assert store.run(shown_of(customer)) == (model.available, model.held, model.owed)
        assert model.available >= 0
        assert model.held >= 0
        assert model.owed >= 0
        assert not (model.owed and model.available)
    assert store.run(verify) == []


def shown_of(customer: str) -> Any:
    return lambda conn: shown(conn, customer)


def test_a_reversal_larger_than_available_books_the_rest_as_owed_and_the_next_deposit_pays_it(
    store: Store,
) -> None:
    customer = f"owed_{next(_customers)}"

    def deposit(conn: Connection, minor: int) -> str:
        tx_id, _ = accept(conn, Kind.DEPOSIT, customer, minor)
        change_status(conn, tx_id, Status.COMPLETED, actor="t", now=datetime.now(UTC))
        return tx_id

    first = store.run(lambda conn: deposit(conn, 10_000))
    _withdrawal, status = store.run(lambda conn: accept(conn, Kind.WITHDRAWAL, customer, 7_000))
    assert status == 202
    assert store.run(lambda conn: resolve(conn, first, Status.FAILED)) is Status.REVERSED
    assert store.run(shown_of(customer)) == (0, 7_000, 7_000)
    store.run(lambda conn: deposit(conn, 5_000))
    assert store.run(shown_of(customer)) == (0, 7_000, 2_000)
    store.run(lambda conn: deposit(conn, 3_000))
    assert store.run(shown_of(customer)) == (1_000, 7_000, 0)
    # A withdrawal is judged on available alone: what is owed was paid first.
    assert store.run(lambda conn: accept(conn, Kind.WITHDRAWAL, customer, 1_001))[1] == (
        InsufficientFunds.status
    )
    assert store.run(verify) == []
    reasons = store.run(
        lambda conn: [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT p.holder, p.owner, p.name, p.delta_minor FROM postings p "
                    "JOIN journal_entries j ON j.id = p.entry_id "
                    "WHERE j.transaction_id = :t AND j.reason = 'deposit_reversal' ORDER BY p.id"
                ),
                {"t": first},
            )
        ]
    )
    assert sorted(reasons) == [
        ("customer", customer, "available", 3_000),
        ("customer", customer, "owed", 7_000),
        ("gateway", "gateway_a", "clearing", -10_000),
    ]


def test_final_status_is_never_reverted(store: Store) -> None:
    customer = f"prop_{next(_customers)}"

    def work(conn: Connection) -> str:
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
        return tx_id

    tx_id = store.run(work)
    assert store.run(shown_of(customer)) == (100, 0, 0)
    events = store.run(
        lambda conn: [
            row[0]
            for row in conn.execute(
                text("SELECT type FROM transaction_events WHERE transaction_id = :t ORDER BY id"),
                {"t": tx_id},
            )
        ]
    )
    assert events == ["accepted", "completed", "status_conflict", "status_backwards"]


def test_withdrawal_beyond_balance_writes_nothing_but_its_answer(store: Store) -> None:
    customer = f"prop_{next(_customers)}"
    assert store.run(lambda conn: accept(conn, Kind.WITHDRAWAL, customer, 1))[1] == (
        InsufficientFunds.status
    )
    assert store.run(shown_of(customer)) == (0, 0, 0)
    counts = store.run(
        lambda conn: [
            conn.execute(text(sql), {"c": customer}).scalar_one()
            for sql in (
                "SELECT count(*) FROM transactions WHERE customer_id = :c",
                "SELECT count(*) FROM postings WHERE owner = :c",
                "SELECT count(*) FROM ledger_accounts WHERE owner = :c",
            )
        ]
    )
    assert counts == [0, 0, 0]


def test_what_is_owed_in_one_currency_is_not_paid_by_a_deposit_in_another(store: Store) -> None:
    customer = f"owed_fx_{next(_customers)}"

    def pay(conn: Connection, kind: Kind, minor: int, currency: str, *, complete: bool) -> str:
        now = datetime.now(UTC)
        tx = Transaction(
            id=transaction_ids.new(), kind=kind, status=Status.PENDING, customer_id=customer,
            money=Money(minor, currency), country="DE", gateway="gateway_a",
            route=("gateway_a",), reference=None, notify_url=None, destination_masked=None,
            failure_reason=None, created_at=now, updated_at=now,
        )  # fmt: skip
        shown = TransactionOut.of(tx).model_dump_json()
        acceptance = Acceptance("client", f"k-{tx.id}", "h", tx, None, "t", 10, shown)
        answer = accept_payment(conn, acceptance)
        assert answer.status == 202
        if complete:
            change_status(conn, tx.id, Status.COMPLETED, actor="t", now=now)
        return tx.id

    def balance(currency: str) -> tuple[int, int, int]:
        found = store.run(lambda conn: customer_balance(conn, customer, currency))
        return found.available_minor, found.held_minor, found.owed_minor

    usd_deposit = store.run(lambda conn: pay(conn, Kind.DEPOSIT, 5_000, "USD", complete=True))
    store.run(lambda conn: pay(conn, Kind.WITHDRAWAL, 4_000, "USD", complete=False))
    assert store.run(lambda conn: resolve(conn, usd_deposit, Status.FAILED)) is Status.REVERSED
    assert balance("USD") == (0, 4_000, 4_000)
    store.run(lambda conn: pay(conn, Kind.DEPOSIT, 1_000, "EUR", complete=True))
    assert balance("EUR") == (1_000, 0, 0)  # all of it available: nothing is owed in EUR
    assert balance("USD") == (0, 4_000, 4_000)  # still owed, in USD
    assert store.run(verify) == []
