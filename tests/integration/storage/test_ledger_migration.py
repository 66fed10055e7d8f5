"""Migration 0006 converts a ledger made by the previous schema (balances and ledger_entries)
without losing an entry, with every balance unchanged, on SQLite and PostgreSQL; and
``ledger verify`` finds a posting altered by hand."""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

from paycon.cli.main import main
from paycon.config import ensure_config_file
from paycon.domain.ids import transaction_ids
from paycon.storage.ledger import customer_balance
from paycon.storage.ledger_check import BALANCE_DIFFERS, UNBALANCED_ENTRY, verify
from paycon.storage.migrate import alembic_config, upgrade_to_head
from tests.integration.storage.engines import ENGINES, Store, store_fixture

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=ENGINES)
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A database at migration 0005: the schema before the double-entry ledger."""
    store_iter = store_fixture(request, tmp_path, migrate=False)
    store = next(store_iter)
    store.run(lambda conn: command.upgrade(alembic_config(conn), "0005"))
    yield store
    with contextlib.suppress(StopIteration):
        next(store_iter)


class OldLedger:
    """The previous schema's write path (paycon.storage.ledger.apply_entries at 0005):
    a running balance row per customer and currency, and one entry per bucket change."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.clock = T0

    def payment(self, kind: str, status: str, customer: str, minor: int, gateway: str) -> str:
        self.clock += timedelta(seconds=1)
        tx_id = transaction_ids.new()
        self.conn.execute(
            text(
                "INSERT INTO transactions (id, kind, status, customer_id, amount_minor, currency,"
                " country, gateway, route, client_id, created_at, updated_at) VALUES (:id, :k,"
                " :s, :c, :m, 'EUR', 'DE', :g, :g, 'client', :at, :at)"
            ),
            {"id": tx_id, "k": kind, "s": status, "c": customer, "m": minor, "g": gateway,
             "at": self.clock.replace(tzinfo=None)},
        )  # fmt: skip
        return tx_id

    def apply(self, tx_id: str, customer: str, entries: list[tuple[str, int, str]]) -> None:
        self.clock += timedelta(seconds=1)
        at = self.clock.replace(tzinfo=None)
        available = sum(d for b, d, _ in entries if b == "available")
        held = sum(d for b, d, _ in entries if b == "held")
        moved = self.conn.execute(
            text(
                "UPDATE balances SET available_minor = available_minor + :a, "
                "held_minor = held_minor + :h, updated_at = :at "
                "WHERE customer_id = :c AND currency = 'EUR'"
            ),
            {"a": available, "h": held, "at": at, "c": customer},
        ).rowcount
        if moved == 0:
            self.conn.execute(
                text(
                    "INSERT INTO balances (customer_id, currency, available_minor, held_minor,"
                    " updated_at) VALUES (:c, 'EUR', :a, :h, :at)"
                ),
                {"c": customer, "a": available, "h": held, "at": at},
            )
        for bucket, delta, reason in entries:
            self.conn.execute(
                text(
                    "INSERT INTO ledger_entries (customer_id, currency, bucket, delta_minor,"
                    " reason, transaction_id, at) VALUES (:c, 'EUR', :b, :d, :r, :t, :at)"
                ),
                {"c": customer, "b": bucket, "d": delta, "r": reason, "t": tx_id, "at": at},
            )


def build_old_ledger(conn: Connection) -> None:
    """Deposits (completed, failed), withdrawals pending, completed and failed, two customers."""
    old = OldLedger(conn)
    for customer, gateway in (("alice", "gateway_a"), ("bob", "gateway_b")):
        dep = old.payment("deposit", "completed", customer, 10_000, gateway)
        old.apply(dep, customer, [("available", 10_000, "deposit_credit")])
        old.payment("deposit", "failed", customer, 500, gateway)
        for status, minor in (("pending", 1_000), ("completed", 2_000), ("failed", 3_000)):
            tx_id = old.payment("withdrawal", status, customer, minor, gateway)
            old.apply(tx_id, customer, [("available", -minor, "withdrawal_hold"),
                                        ("held", minor, "withdrawal_hold")])  # fmt: skip
            if status == "completed":
                old.apply(tx_id, customer, [("held", -minor, "withdrawal_settle")])
            if status == "failed":
                release = "withdrawal_release"
                old.apply(tx_id, customer, [("held", -minor, release),
                                            ("available", minor, release)])  # fmt: skip
    # A completed deposit an operator reversed (status reversed: its credit taken back).
    dep = old.payment("deposit", "reversed", "alice", 700, "gateway_a")
    old.apply(dep, "alice", [("available", 700, "deposit_credit")])
    old.apply(dep, "alice", [("available", -700, "deposit_reversal")])


def old_figures(conn: Connection) -> tuple[dict[str, tuple[int, int]], int]:
    balances = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            text("SELECT customer_id, available_minor, held_minor FROM balances")
        )
    }
    entries = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
    return balances, entries


def test_the_old_ledger_converts_with_every_balance_unchanged(old_store: Store) -> None:
    old_store.run(build_old_ledger)
    balances, entries = old_store.run(old_figures)
    assert balances == {"alice": (7_000, 1_000), "bob": (7_000, 1_000)}
    old_store.run(upgrade_to_head)

    def converted(conn: Connection) -> dict[str, tuple[int, int, int]]:
        return {
            customer: (b.available_minor, b.held_minor, b.owed_minor)
            for customer in balances
            for b in [customer_balance(conn, customer, "EUR")]
        }

    assert old_store.run(converted) == {c: (*b, 0) for c, b in balances.items()}
    customer_postings = old_store.run(
        lambda conn: conn.execute(
            text("SELECT count(*) FROM postings WHERE holder = 'customer'")
        ).scalar_one()
    )
    assert customer_postings == entries  # not one entry lost
    assert old_store.run(verify) == []
    # The other side of each movement in or out is the payment's gateway's clearing account:
    # 100.00 credited, 20.00 paid out, 7.00 credited and taken back.
    clearing: dict[str, int] = dict(
        old_store.run(
            lambda conn: conn.execute(
                text(
                    "SELECT owner, balance_minor FROM ledger_accounts "
                    "WHERE holder = 'gateway' AND name = 'clearing'"
                )
            ).all()
        )
    )
    assert clearing == {"gateway_a": 8_000, "gateway_b": 8_000}


def test_a_balance_that_disagrees_with_its_entries_stops_the_migration(old_store: Store) -> None:
    old_store.run(build_old_ledger)
    nudge = "UPDATE balances SET available_minor = available_minor + 1 WHERE customer_id = 'bob'"
    old_store.run(lambda conn: conn.execute(text(nudge)))
    with pytest.raises(RuntimeError, match="customer bob EUR available"):
        old_store.run(upgrade_to_head)
    assert old_store.run(old_figures)[0]["bob"] == (7_001, 1_000)  # nothing converted


def alter_one_posting(conn: Connection) -> None:
    first = conn.execute(
        text("SELECT min(id) FROM postings WHERE holder = 'customer'")
    ).scalar_one()
    conn.execute(
        text("UPDATE postings SET delta_minor = delta_minor - 1 WHERE id = :i"), {"i": first}
    )


def test_verify_finds_a_posting_altered_by_hand(old_store: Store) -> None:
    old_store.run(build_old_ledger)
    old_store.run(upgrade_to_head)
    assert old_store.run(verify) == []
    old_store.run(alter_one_posting)
    found = old_store.run(verify)
    assert sorted(b.kind for b in found) == [BALANCE_DIFFERS, UNBALANCED_ENTRY]
    # Incrementally: what was booked since a moment, and earlier breaks still open.
    assert old_store.run(functools.partial(verify, since=T0)) == found
    later = T0 + timedelta(days=1)
    assert old_store.run(functools.partial(verify, since=later)) == []
    assert old_store.run(functools.partial(verify, since=later, recheck=found)) == found


def verify_command(config: Path, env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["ledger", "verify", "--config", str(config)], env)
    return status, out.getvalue(), err.getvalue()


def test_ledger_verify_exits_0_when_clean_and_1_listing_the_breaks(tmp_path: Path) -> None:
    store = Store("sqlite", tmp_path, migrate=False)
    try:
        store.run(lambda conn: command.upgrade(alembic_config(conn), "0005"))
        store.run(build_old_ledger)
        store.run(upgrade_to_head)
    finally:
        store.close()
    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    env = {"PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"}
    status, out, err = verify_command(config, env)
    assert (status, err) == (0, ""), out
    assert out.startswith("ledger clean")
    store = Store("sqlite", tmp_path, migrate=False)
    try:
        store.run(alter_one_posting)
    finally:
        store.close()
    status, out, err = verify_command(config, env)
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith("balance_differs: customer alice available EUR: stored balance")
    assert lines[1].startswith("unbalanced_entry: jrn_")
    assert "2 break(s)" in err
