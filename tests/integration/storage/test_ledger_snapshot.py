"""The ledger check on a live database: a payment booked while it reads is no break.

The check reads the accounts' postings, then their stored balances. A deposit
completed between the two reads (through paycon's own writer) moves both; a
check whose reads saw different moments would report the account's balance as
differing from its postings. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.util import await_only

from paycon.cli import ledger as ledger_cli
from paycon.cli.tasks import EXIT_OK
from paycon.config import DatabaseSettings
from paycon.domain.ids import transaction_ids
from paycon.domain.money import Money
from paycon.domain.status import Kind, Status
from paycon.domain.transactions import Transaction
from paycon.models.transactions import TransactionOut
from paycon.storage.database import Database
from paycon.storage.migrate import upgrade_to_head
from paycon.storage.payments import Acceptance, accept_payment
from paycon.storage.status_changes import change_status
from paycon.usecases.ledger_watch import LedgerWatch
from tests.integration.storage.engines import (
    ENGINES,
    POSTGRES_URL,
    _create_database,
    _drop_database,
)


@pytest.fixture(params=ENGINES)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'paycon.db'}"
    else:
        name = f"paycon_snapshot_{uuid.uuid4().hex[:12]}"
        await _create_database(name)
        url = f"{POSTGRES_URL}/{name}"
    database = Database(DatabaseSettings(url=url))
    await database.open()
    try:
        await database.write(upgrade_to_head)
        yield database
    finally:
        await database.close()
        if name is not None:
            await _drop_database(name)


def accept_deposit(conn: Connection) -> str:
    now = datetime.now(UTC)
    tx = Transaction(
        id=transaction_ids.new(), kind=Kind.DEPOSIT, status=Status.PENDING,
        customer_id="cus_42", money=Money(1050, "EUR"), country="DE", gateway="gateway_a",
        route=("gateway_a",), reference=None, notify_url=None, destination_masked=None,
        failure_reason=None, created_at=now, updated_at=now,
    )  # fmt: skip
    shown = TransactionOut.of(tx).model_dump_json()
    accept_payment(
        conn,
        Acceptance(
            "client", f"key-{tx.id}", "hash", tx, None, "t", max_attempts=3, accepted_answer=shown
        ),
    )
    return tx.id


def complete(tx_id: str) -> Callable[[Connection], None]:
    def work(conn: Connection) -> None:
        assert change_status(conn, tx_id, Status.COMPLETED, actor="t", now=datetime.now(UTC))

    return work


def between_postings_and_balances(db: Database, work: Callable[[Connection], None]) -> list[str]:
    """Run ``work`` through the writer once, right after the check has read the accounts'
    postings and before it reads their balances; returns what it ran (for the test)."""
    ran: list[str] = []

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not ran and "GROUP BY postings.holder" in statement:
            ran.append(statement)
            await_only(db.write(work))  # the check waits while the writer commits

    event.listen(db.read_engine.sync_engine, "after_cursor_execute", after)
    return ran


async def test_a_payment_booked_between_the_checks_reads_is_no_break(db: Database) -> None:
    first = await db.write(accept_deposit)
    await db.write(complete(first))
    second = await db.write(accept_deposit)
    watch = LedgerWatch(db, lambda _count: None)
    ran = between_postings_and_balances(db, complete(second))

    assert await watch.look() == []
    assert ran, "the deposit was not completed while the check read"
    assert await watch.look() == []  # and the next look sees it booked, clean


async def test_paycon_ledger_verify_reports_no_break_for_a_payment_booked_while_it_reads(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    first = await db.write(accept_deposit)
    await db.write(complete(first))
    second = await db.write(accept_deposit)
    ran = between_postings_and_balances(db, complete(second))

    assert await ledger_cli.verify_ledger(db, shown=20) == EXIT_OK
    assert ran, "the deposit was not completed while the check read"
    assert capsys.readouterr().out.startswith("ledger clean")
