"""Read queries, on read connections (never the writer's). Every query is bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, FromClause, Row, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from paycon.domain.balances import Account, AccountName, Holder
from paycon.domain.money import Money
from paycon.domain.status import Kind, Status
from paycon.domain.transactions import BalanceView, Review, Transaction, TransactionEvent
from paycon.storage.index_hints import indexed_by
from paycon.storage.schema import (
    journal_entries,
    ledger_accounts,
    postings,
    transaction_events,
    transactions,
)

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
    """Every currency the customer holds a balance in, by currency code (from the
    customer's ledger accounts, by their primary key)."""
    rows = await conn.execute(
        select(ledger_accounts.c.currency, ledger_accounts.c.name, ledger_accounts.c.balance_minor)
        .where(
            ledger_accounts.c.holder == Holder.CUSTOMER.value,
            ledger_accounts.c.owner == customer_id,
        )
        .order_by(ledger_accounts.c.currency)
    )
    shown: dict[str, dict[str, int]] = {}
    for currency, name, balance in rows:
        account = Account.customer(customer_id, AccountName(name), currency)
        shown.setdefault(currency, {})[name] = account.shown(balance)
    return [
        BalanceView(
            currency=currency,
            available=Money(names.get(AccountName.AVAILABLE.value, 0), currency),
            held=Money(names.get(AccountName.HELD.value, 0), currency),
            owed=Money(names.get(AccountName.OWED.value, 0), currency),
        )
        for currency, names in shown.items()
    ]


MAX_LEDGER_LINES = 100


@dataclass(frozen=True)
class LedgerLineRow:
    """One posting a transaction's journal entries made, on the account it moved."""

    at: datetime
    entry_id: str
    customer_id: str  # the transaction's customer
    account: Account
    posting_minor: int  # debit positive
    reason: str

    @property
    def delta(self) -> Money:
        """The change of the account's balance as people read it."""
        return Money(self.account.shown(self.posting_minor), self.account.currency)


async def transaction_ledger(conn: AsyncConnection, transaction_id: str) -> list[LedgerLineRow]:
    """The postings of one transaction, oldest first (by the transaction_id and entry indexes)."""
    rows = await conn.execute(
        select(
            journal_entries.c.at, journal_entries.c.id.label("entry_id"),
            journal_entries.c.reason, transactions.c.customer_id, postings.c.holder,
            postings.c.owner, postings.c.name, postings.c.currency, postings.c.delta_minor,
        )
        .join(postings, postings.c.entry_id == journal_entries.c.id)
        .join(transactions, transactions.c.id == journal_entries.c.transaction_id)
        .where(journal_entries.c.transaction_id == transaction_id)
        .order_by(journal_entries.c.id, postings.c.id)
        .limit(MAX_LEDGER_LINES)
    )  # fmt: skip
    return [
        LedgerLineRow(
            at=row.at,
            entry_id=row.entry_id,
            customer_id=row.customer_id,
            account=Account(Holder(row.holder), row.owner, AccountName(row.name), row.currency),
            posting_minor=row.delta_minor,
            reason=row.reason,
        )
        for row in rows
    ]


# --- the ledger, for operators ------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    """One ledger account with its stored (debit-positive) balance."""

    account: Account
    balance_minor: int
    updated_at: datetime


@dataclass(frozen=True)
class AccountFilter:
    holder: Holder | None = None
    owner: str | None = None
    name: AccountName | None = None
    currency: str | None = None


AccountKey = tuple[str, str, str, str]


async def ledger_account_page(
    conn: AsyncConnection, where: AccountFilter, *, limit: int, after: AccountKey | None
) -> tuple[list[AccountRow], AccountKey | None]:
    """Accounts in key order (holder, owner, name, currency), after ``after``; returns the
    page and the key to continue after (None at the end). Reads the primary key."""
    table = ledger_accounts
    key = (table.c.holder, table.c.owner, table.c.name, table.c.currency)
    query = select(table).order_by(*key).limit(limit + 1)
    for column, value in zip(
        key,
        (
            where.holder and where.holder.value,
            where.owner,
            where.name and where.name.value,
            where.currency,
        ),
        strict=True,
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(tuple_(*key) > tuple_(*after))
    rows = (await conn.execute(query)).all()
    page = [
        AccountRow(
            Account(Holder(r.holder), r.owner, AccountName(r.name), r.currency),
            r.balance_minor,
            r.updated_at,
        )
        for r in rows[:limit]
    ]
    last = page[-1].account if page else None
    more = len(rows) > limit and last is not None
    return page, (
        (last.holder.value, last.owner, last.name.value, last.currency)
        if more and last is not None
        else None
    )


@dataclass(frozen=True)
class JournalRow:
    """One journal entry with its postings."""

    id: str
    transaction_id: str | None
    reason: str
    currency: str
    at: datetime
    postings: tuple[tuple[Account, int], ...]


@dataclass(frozen=True)
class JournalFilter:
    transaction_id: str | None = None
    holder: Holder | None = None
    owner: str | None = None
    reason: str | None = None


async def journal_page(
    conn: AsyncConnection, where: JournalFilter, *, limit: int, cursor: str | None
) -> tuple[list[JournalRow], str | None]:
    """Journal entries newest first (ids sort by time), before ``cursor``; with their
    postings. Returns the page and the next cursor (None at the end)."""
    query = select(journal_entries).order_by(journal_entries.c.id.desc()).limit(limit + 1)
    if where.transaction_id is not None:
        query = query.where(journal_entries.c.transaction_id == where.transaction_id)
    if where.reason is not None:
        query = query.where(journal_entries.c.reason == where.reason)
    if where.holder is not None or where.owner is not None:
        touching = select(postings.c.entry_id)
        if where.holder is not None:
            touching = touching.where(postings.c.holder == where.holder.value)
        if where.owner is not None:
            touching = touching.where(postings.c.owner == where.owner)
        query = query.where(journal_entries.c.id.in_(touching))
    if cursor is not None:
        query = query.where(journal_entries.c.id < cursor)
    rows = (await conn.execute(query)).all()[: limit + 1]
    page_rows = rows[:limit]
    lines: dict[str, list[tuple[Account, int]]] = {row.id: [] for row in page_rows}
    if page_rows:
        found = await conn.execute(
            select(postings).where(postings.c.entry_id.in_(list(lines))).order_by(postings.c.id)
        )
        for p in found:
            lines[p.entry_id].append(
                (Account(Holder(p.holder), p.owner, AccountName(p.name), p.currency),
                 p.delta_minor)
            )  # fmt: skip
    page = [
        JournalRow(r.id, r.transaction_id, r.reason, r.currency, r.at, tuple(lines[r.id]))
        for r in page_rows
    ]
    return page, (page[-1].id if len(rows) > limit and page else None)
