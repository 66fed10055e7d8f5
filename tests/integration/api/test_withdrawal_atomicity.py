"""A withdrawal is stored whole or not at all: transaction, hold, ledger, event, task, answer."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.integration.facade.support import complete, deposit
from tests.paycon_fixtures import RunningPaycon

WITHDRAWAL = {
    "customer_id": "cus_1",
    "amount": "30.00",
    "currency": "EUR",
    "country": "DE",
    "destination": {"iban": "DE89370400440532013000", "holder": "Jane Doe"},
}


def ledger_rows(db_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT * FROM postings ORDER BY id").fetchall()


async def balances(paycon: RunningPaycon) -> Any:
    status, body = await paycon.get("/v1/customers/cus_1/balances")
    assert status == 200, body
    return body["balances"]


@pytest.mark.parametrize(
    "failing_table",
    # The submit task is written after the hold and the ledger rows; the answer last.
    ["outbox_tasks", "idempotency_keys"],
)
async def test_a_withdrawal_whose_write_fails_leaves_nothing_behind(
    paycon: RunningPaycon, failing_table: str
) -> None:
    funded = await deposit(paycon, "fund-1", amount="100.00")
    await complete(paycon, funded["id"], amount="100.00")
    assert await balances(paycon) == [{"currency": "EUR", "available": "100.00", "held": "0.00"}]
    counts, ledger = paycon.counts(), ledger_rows(paycon.db_path)
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute(
            f"CREATE TRIGGER fail_write BEFORE INSERT ON {failing_table} "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )

    status, _, body = await paycon.post_json("/v1/withdrawals", WITHDRAWAL, key="payout-1")

    assert status == 500, body
    assert paycon.counts() == counts  # no transaction, event, task, answer or ledger row
    assert ledger_rows(paycon.db_path) == ledger
    assert await balances(paycon) == [{"currency": "EUR", "available": "100.00", "held": "0.00"}]
    _, listed = await paycon.get("/v1/transactions?kind=withdrawal")
    assert listed["items"] == []

    # Nothing was stored under the key, so the same request now goes through whole.
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute("DROP TRIGGER fail_write")
    status, _, body = await paycon.post_json("/v1/withdrawals", WITHDRAWAL, key="payout-1")
    assert status == 202, body
    assert await balances(paycon) == [{"currency": "EUR", "available": "70.00", "held": "30.00"}]
    after = paycon.counts()
    assert after["transactions"] == counts["transactions"] + 1
    assert after["outbox_tasks"] == counts["outbox_tasks"] + 1
    assert after["postings"] > counts["postings"]
