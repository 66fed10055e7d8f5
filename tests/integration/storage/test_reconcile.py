"""Reconciling settlement reports on real storage (SQLite and PostgreSQL): each matched
line books once, ever; each kind of break is found and held for review; running the
same report again changes nothing; the ledger's invariants hold throughout."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from paycon.domain.ids import transaction_ids
from paycon.domain.money import Money
from paycon.domain.reconcile import BreakKind, LineState, RunSummary
from paycon.domain.settlement_report import LineType, ReportLine
from paycon.domain.status import Kind, Status
from paycon.domain.transactions import Transaction
from paycon.models.transactions import TransactionOut
from paycon.storage.ledger_check import verify
from paycon.storage.payments import Acceptance, accept_payment
from paycon.storage.reconcile import ReconcileRequest, list_breaks, reconcile_report
from paycon.storage.review import ResolveRequest, resolve_held
from paycon.storage.status_changes import change_status
from tests.integration.storage.engines import ENGINES, Store, store_fixture

_names = itertools.count()
FUNDS = 10_000_000


@pytest.fixture(scope="module", params=ENGINES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    yield from store_fixture(request, tmp_path_factory.mktemp("reconcile"))


def pay(conn: Connection, kind: Kind, customer: str, gateway: str, minor: int) -> str:
    now = datetime.now(UTC)
    tx = Transaction(
        id=transaction_ids.new(), kind=kind, status=Status.PENDING, customer_id=customer,
        money=Money(minor, "EUR"), country="DE", gateway=gateway, route=(gateway,),
        reference=None, notify_url=None, destination_masked=None, failure_reason=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    shown = TransactionOut.of(tx).model_dump_json()
    acceptance = Acceptance(
        "client", f"key-{tx.id}", "hash", tx, None, "test", max_attempts=10, accepted_answer=shown
    )
    answer = accept_payment(conn, acceptance)
    assert answer.status == 202
    return tx.id


def complete(conn: Connection, tx_id: str, status: Status = Status.COMPLETED) -> None:
    assert change_status(conn, tx_id, status, actor="t", now=datetime.now(UTC)).applies


def report_line(
    n: int, tx_id: str, kind: LineType, gross: int, fee: int = 0, *, sign: int = 1
) -> ReportLine:
    if kind is LineType.DEPOSIT:
        net = gross - fee
    elif kind is LineType.WITHDRAWAL:
        net = -(gross + fee)
    else:
        net = sign * gross
    return ReportLine(
        n + 2, f"G{n:010d}", tx_id, kind, gross, fee, net, "EUR", datetime.now(UTC).date()
    )


def reconcile(store: Store, gateway: str, lines: list[ReportLine]) -> RunSummary:
    request = ReconcileRequest(
        gateway, datetime.now(UTC).date(), lines, "test", "t",
        datetime.now(UTC) + timedelta(seconds=1),
    )  # fmt: skip
    return store.run(lambda conn: reconcile_report(conn, request, now=datetime.now(UTC)))


def snapshot(conn: Connection, gateway: str) -> dict[str, Any]:
    """What a second run must leave as it was: the ledger, the lines, the review list."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in conn.execute(text(sql), {"g": gateway})]

    return {
        "accounts": rows(
            "SELECT name, currency, balance_minor FROM ledger_accounts "
            "WHERE owner = :g ORDER BY name, currency"
        ),
        "entries": rows("SELECT count(*) FROM journal_entries"),
        "lines": rows(
            "SELECT line_key, state, break_kind, suspense_minor, booked_at IS NULL "
            "FROM reconciliation_lines WHERE gateway = :g ORDER BY line_key"
        ),
        "held": rows(
            "SELECT id, review_reason FROM transactions WHERE gateway = :g "
            "AND review_reason IS NOT NULL ORDER BY id"
        ),
        "events": rows("SELECT count(*) FROM transaction_events"),
    }


def settlements_of(conn: Connection, tx_id: str) -> int:
    return int(
        conn.execute(
            text("SELECT count(*) FROM journal_entries WHERE transaction_id = :t "
                 "AND reason = 'settlement'"),
            {"t": tx_id},
        ).scalar_one()
    )  # fmt: skip


FATES = ("match", "skew", "missing", "not_final", "unknown", "reversal", "failed")
payments = st.lists(
    st.tuples(st.sampled_from(FATES), st.sampled_from([Kind.DEPOSIT, Kind.WITHDRAWAL]),
              st.integers(1, 100_000), st.integers(0, 500)),
    min_size=1, max_size=12,
)  # fmt: skip
EXPECTED_KIND = {
    "skew": BreakKind.AMOUNT_DIFFERS,
    "missing": BreakKind.MISSING_FROM_REPORT,
    "not_final": BreakKind.NOT_FINAL,
    "unknown": BreakKind.UNKNOWN_TRANSACTION,
    "reversal": BreakKind.REVERSAL,
    "failed": BreakKind.STATUS_DIFFERS,
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(plan=payments)
def test_a_report_books_each_matched_line_once_and_finds_each_break(
    store: Store, plan: list[tuple[str, Kind, int, int]]
) -> None:
    n = next(_names)
    gateway, customer = f"gw_{n}", f"rc_{n}"
    store.run(lambda conn: complete(conn, pay(conn, Kind.DEPOSIT, customer, f"fund_{n}", FUNDS)))
    lines: list[ReportLine] = []
    matched: list[str] = []
    expected: Counter[str] = Counter()

    def build(conn: Connection) -> None:
        for fate, kind, amount, fee in plan:
            line_type = LineType(kind.value)
            if fate != "unknown":
                tx_id = pay(conn, kind, customer, gateway, amount)
                if fate == "failed":
                    complete(conn, tx_id, Status.FAILED)
                elif fate != "not_final":
                    complete(conn, tx_id)
            else:
                tx_id = transaction_ids.new()
            if fate != "missing":
                gross = amount + 1 if fate == "skew" else amount
                lines.append(report_line(len(lines), tx_id, line_type, gross, fee))
            if fate == "reversal":
                sign = -1 if kind is Kind.DEPOSIT else 1
                lines.append(report_line(len(lines) - 1, tx_id, LineType.REVERSAL, amount,
                                         sign=sign))  # fmt: skip
            if fate in ("match", "reversal"):
                matched.append(tx_id)
            if fate != "match":
                expected[EXPECTED_KIND[fate].value] += 1

    store.run(build)
    first = reconcile(store, gateway, lines)
    assert first.lines == len(lines)
    assert first.booked == first.matched == len(matched)
    assert first.breaks == dict(sorted(expected.items()))
    assert first.new_breaks == first.open_breaks == sum(expected.values())
    counts = store.run(lambda conn: [settlements_of(conn, t) for t in matched])
    assert counts == [1] * len(matched)
    assert store.run(verify) == []
    held = store.run(lambda conn: snapshot(conn, gateway))["held"]
    # every break about a payment paycon holds on this gateway is on the review list
    holdable = sum(v for k, v in expected.items() if k != BreakKind.UNKNOWN_TRANSACTION.value)
    assert len(held) == holdable
    assert {reason for _, reason in held} <= {"reconciliation_break"}

    before = store.run(lambda conn: snapshot(conn, gateway))
    again = reconcile(store, gateway, lines)
    assert store.run(lambda conn: snapshot(conn, gateway)) == before
    assert (again.booked, again.new_breaks) == (0, 0)
    assert again.matched == first.matched
    assert again.breaks == first.breaks
    assert store.run(verify) == []
    # settled moved by exactly the net of what was booked
    accounts = {name: minor for name, _, minor in before["accounts"]}
    booked = {key for key, _, _, _, unbooked in before["lines"] if not unbooked}
    booked_net = sum(line.net_minor for line in lines if line.key in booked)
    assert accounts.get("settled", 0) == booked_net


def test_a_break_that_booked_nothing_books_once_its_payment_is_resolved(store: Store) -> None:
    n = next(_names)
    gateway, customer = f"gw_{n}", f"rc_{n}"
    tx_id = store.run(lambda conn: pay(conn, Kind.DEPOSIT, customer, gateway, 2_500))
    lines = [report_line(0, tx_id, LineType.DEPOSIT, 2_500, 40)]
    first = reconcile(store, gateway, lines)
    assert (first.booked, first.breaks) == (0, {"not_final": 1})
    assert store.run(lambda conn: settlements_of(conn, tx_id)) == 0
    now = datetime.now(UTC)
    store.run(
        lambda conn: resolve_held(
            conn, ResolveRequest(tx_id, Status.COMPLETED, "the report settles it", "op"),
            now=now, max_attempts=3,
        )
    )  # fmt: skip
    resolved = store.run(
        lambda conn: list_breaks(conn, gateway=gateway, state=LineState.RESOLVED, limit=10)
    )
    assert [(b.kind, b.resolution) for b in resolved] == [("not_final", "the report settles it")]
    second = reconcile(store, gateway, lines)
    assert (second.booked, second.matched, second.open_breaks) == (1, 1, 0)
    assert store.run(lambda conn: settlements_of(conn, tx_id)) == 1
    third = reconcile(store, gateway, lines)
    assert third.booked == 0
    assert store.run(lambda conn: settlements_of(conn, tx_id)) == 1
    assert store.run(verify) == []


def test_a_payment_missing_from_one_report_is_closed_by_a_later_one(store: Store) -> None:
    n = next(_names)
    gateway, customer = f"gw_{n}", f"rc_{n}"
    tx_id = store.run(lambda conn: pay(conn, Kind.DEPOSIT, customer, gateway, 700))
    store.run(lambda conn: complete(conn, tx_id))
    first = reconcile(store, gateway, [])
    assert first.breaks == {"missing_from_report": 1}
    assert reconcile(store, gateway, []).new_breaks == 0  # found once
    later = reconcile(store, gateway, [report_line(0, tx_id, LineType.DEPOSIT, 700)])
    assert (later.booked, later.open_breaks) == (1, 0)
