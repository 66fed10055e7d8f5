"""Read queries, on read connections (never the writer's). Every query is bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, FromClause, Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paycon.domain.money import Money
from paycon.domain.status import Kind, Status
from paycon.domain.transactions import BalanceView, Review, Transaction, TransactionEvent
from paycon.storage.index_hints import indexed_by
from paycon.storage.schema import balances, ledger_entries, transaction_events, transactions

MAX_EVENTS = 1000


def transaction_from_row(row: Row[Any]) -> Transaction:
    """A Transaction from a full row of the transactions table."""
    masked = None
    if row.destination_masked is not None:
        masked = {"iban": row.destination_masked, "holder": row.holder_masked or ""}
    return Transaction(
        id=row.id,
        kind=Kind(row.kind),
        status=Status(row.status),
        customer_id=row.customer_id,
        money=Money(row.amount_minor, row.currency),
        country=row.country,
        gateway=row.gateway,
        route=tuple(row.route.split(",")),
        reference=row.reference,
        notify_url=row.notify_url,
        destination_masked=masked,
        failure_reason=row.failure_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        review=None
        if row.review_reason is None
        else Review(row.review_reason, row.review_detail or "", row.review_since),
    )


@dataclass(frozen=True)
class TransactionFilter:
    status: Status | None = None
    kind: Kind | None = None
    gateway: str | None = None
    customer_id: str | None = None
    reference: str | None = None
    # Only payments held for review (their own index).
    held: bool = False


def find_transaction(conn: Connection, transaction_id: str) -> Transaction | None:
    """The transaction, or None (a primary-key lookup)."""
    row = conn.execute(select(transactions).where(transactions.c.id == transaction_id)).first()
    return None if row is None else transaction_from_row(row)


async def load_transaction(conn: AsyncConnection, transaction_id: str) -> Transaction | None:
    """The transaction, or None."""
    return await conn.run_sync(find_transaction, transaction_id)


async def get_transaction(
    conn: AsyncConnection, transaction_id: str
) -> tuple[Transaction, list[TransactionEvent]] | None:
    """The transaction and its timeline (oldest first), or None."""
    transaction = await load_transaction(conn, transaction_id)
    if transaction is None:
        return None
    events = await conn.execute(
        select(transaction_events)
        .where(transaction_events.c.transaction_id == transaction_id)
        .order_by(transaction_events.c.id)
        .limit(MAX_EVENTS)
    )
    return transaction, [
        TransactionEvent(at=e.at, type=e.type, detail=e.detail, actor=e.actor) for e in events
    ]


def transaction_page_query(
    where: TransactionFilter, *, limit: int, cursor: str | None
) -> Select[Any]:
    """One page of a transaction list, newest first, and one row more to tell if
    another page follows. ``cursor`` is the last id of the previous page.

    A reference picks a handful of rows: its index is read even beside other
    filters, whose (filter, id) indexes SQLite would otherwise prefer for the
    order and walk a whole status or gateway.
    """
    table: FromClause = transactions
    if where.reference is not None:
        table = indexed_by(transactions, "ix_transactions_reference")
    elif where.held:
        table = indexed_by(transactions, "ix_transactions_review_id")
    columns = table.c
    query = select(table).order_by(columns.id.desc()).limit(limit + 1)
    if where.status is not None:
        query = query.where(columns.status == where.status.value)
    if where.kind is not None:
        query = query.where(columns.kind == where.kind.value)
    if where.gateway is not None:
        query = query.where(columns.gateway == where.gateway)
    if where.customer_id is not None:
        query = query.where(columns.customer_id == where.customer_id)
    if where.reference is not None:
        query = query.where(columns.reference == where.reference)
    if where.held:
        query = query.where(columns.review_reason.is_not(None))
    if cursor is not None:
        query = query.where(columns.id < cursor)
    return query


async def count_held(conn: AsyncConnection) -> int:
    """How many payments are held for review (reads only the held rows' own index)."""
    table = indexed_by(transactions, "ix_transactions_review_id")
    query = select(func.count()).select_from(table).where(table.c.review_reason.is_not(None))
    return int((await conn.execute(query)).scalar_one())


async def list_transactions(
    conn: AsyncConnection, where: TransactionFilter, *, limit: int, cursor: str | None
) -> tuple[list[Transaction], str | None]:
    """Newest first. ``cursor`` is the last id of the previous page.

    Returns the page and the cursor of the next page (None at the end).
    """
    rows = (await conn.execute(transaction_page_query(where, limit=limit, cursor=cursor))).all()
    page = [transaction_from_row(row) for row in rows[:limit]]
    next_cursor = page[-1].id if len(rows) > limit else None
    return page, next_cursor


async def customer_balances(conn: AsyncConnection, customer_id: str) -> list[BalanceView]:
    """Every currency the customer holds a balance in, by currency code."""
    rows = await conn.execute(
        select(balances).where(balances.c.customer_id == customer_id).order_by(balances.c.currency)
    )
    return [
        BalanceView(
            currency=row.currency,
            available=Money(row.available_minor, row.currency),
            held=Money(row.held_minor, row.currency),
        )
        for row in rows
    ]


MAX_LEDGER_LINES = 100


@dataclass(frozen=True)
class LedgerLineRow:
    """One balance movement a transaction made."""

    at: datetime
    customer_id: str
    currency: str
    bucket: str
    delta: Money
    reason: str


async def transaction_ledger(conn: AsyncConnection, transaction_id: str) -> list[LedgerLineRow]:
    """The ledger lines of one transaction, oldest first (by the transaction_id index)."""
    rows = await conn.execute(
        select(ledger_entries)
        .where(ledger_entries.c.transaction_id == transaction_id)
        .order_by(ledger_entries.c.id)
        .limit(MAX_LEDGER_LINES)
    )
    return [
        LedgerLineRow(
            at=row.at,
            customer_id=row.customer_id,
            currency=row.currency,
            bucket=row.bucket,
            delta=Money(row.delta_minor, row.currency),
            reason=row.reason,
        )
        for row in rows
    ]
