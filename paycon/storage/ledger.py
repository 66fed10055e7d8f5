"""Booking journal entries: the entry, its postings and the stored account balances together.

Every booking writes one ``journal_entries`` row, its ``postings`` and moves
each account's stored balance by its postings, in the caller's transaction
(the same one that changes the payment's status). A customer's ``available``
(and ``held``, ``owed``) only goes down through a conditional UPDATE (the
balance must still cover it), so it never goes below zero under any concurrency; on PostgreSQL a
booking that depends on the balance reads it under a row lock first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from paycon.domain.balances import (
    NEEDS_BALANCES,
    NEVER_NEGATIVE,
    NORMAL_SIGN,
    Account,
    AccountName,
    CustomerBalance,
    Holder,
    JournalEntry,
    Movement,
    Payment,
    book,
)
from paycon.domain.errors import InsufficientFunds
from paycon.domain.ids import journal_ids
from paycon.storage.schema import journal_entries, ledger_accounts, postings

_KEY = ("holder", "owner", "name", "currency")


def customer_balance(
    conn: Connection, customer_id: str, currency: str, *, lock: bool = False
) -> CustomerBalance:
    """The customer's balance in ``currency`` as people read it (locked for update if asked)."""
    query = select(ledger_accounts.c.name, ledger_accounts.c.balance_minor).where(
        ledger_accounts.c.holder == Holder.CUSTOMER.value,
        ledger_accounts.c.owner == customer_id,
        ledger_accounts.c.currency == currency,
    )
    if lock:
        query = query.with_for_update()
    shown = {
        name: Account.customer(customer_id, AccountName(name), currency).shown(balance)
        for name, balance in conn.execute(query)
    }
    return CustomerBalance(
        available_minor=shown.get(AccountName.AVAILABLE.value, 0),
        held_minor=shown.get(AccountName.HELD.value, 0),
        owed_minor=shown.get(AccountName.OWED.value, 0),
    )


def book_movement(
    conn: Connection,
    movement: Movement | None,
    payment: Payment,
    *,
    transaction_id: str,
    now: datetime,
) -> JournalEntry | None:
    """Book ``movement`` of ``payment`` (nothing for None); returns the entry booked.

    Raises InsufficientFunds, writing nothing, when a withdrawal's hold is not
    covered by ``available``.
    """
    if movement is None:
        return None
    balance = (
        customer_balance(conn, payment.customer_id, payment.currency, lock=True)
        if movement in NEEDS_BALANCES
        else CustomerBalance(available_minor=payment.amount_minor)  # the UPDATE decides
    )
    entry = book(movement, payment, balance)
    write_entry(conn, entry, transaction_id=transaction_id, now=now)
    return entry


def write_entry(
    conn: Connection, entry: JournalEntry, *, transaction_id: str | None, now: datetime
) -> str:
    """Write ``entry`` and move its accounts' balances; returns the entry's id.

    Accounts are updated in one order (their key) so that concurrent bookings
    on PostgreSQL lock rows in the same order. Raises InsufficientFunds, having
    written nothing, when a customer's ``available`` does not cover a debit.
    """
    for posting in sorted(entry.postings, key=lambda p: p.account):
        _move(conn, posting.account, posting.delta_minor, now)
    entry_id = journal_ids.new()
    currency = entry.postings[0].account.currency
    conn.execute(
        insert(journal_entries),
        {"id": entry_id, "transaction_id": transaction_id, "reason": entry.reason.value,
         "currency": currency, "at": now},
    )  # fmt: skip
    conn.execute(
        insert(postings),
        [
            {"entry_id": entry_id, "holder": p.account.holder.value, "owner": p.account.owner,
             "name": p.account.name.value, "currency": p.account.currency,
             "delta_minor": p.delta_minor}
            for p in entry.postings
        ],
    )  # fmt: skip
    return entry_id


def _move(conn: Connection, account: Account, delta_minor: int, now: datetime) -> None:
    table = ledger_accounts
    if account.name in NEVER_NEGATIVE and account.shown(delta_minor) < 0:
        # Less of what may never go below zero: only while the account covers it (an
        # UPDATE, never an upsert, whose proposed row the CHECK would refuse).
        moved = conn.execute(
            update(table)
            .where(
                table.c.holder == account.holder.value,
                table.c.owner == account.owner,
                table.c.name == account.name.value,
                table.c.currency == account.currency,
                table.c.balance_minor * NORMAL_SIGN[account.name] >= account.shown(-delta_minor),
            )
            .values(balance_minor=table.c.balance_minor + delta_minor, updated_at=now)
        ).rowcount
        if moved == 0:
            if account.name is AccountName.AVAILABLE:
                raise InsufficientFunds("the available balance does not cover this withdrawal")
            raise ValueError(
                f"{account.label()} does not cover {delta_minor}: ledger rules violated"
            )
        return
    conn.execute(_upsert(conn, account, delta_minor, now))


def _upsert(conn: Connection, account: Account, delta_minor: int, now: datetime) -> Insert:
    values: dict[str, Any] = {
        "holder": account.holder.value, "owner": account.owner, "name": account.name.value,
        "currency": account.currency, "balance_minor": delta_minor, "updated_at": now,
    }  # fmt: skip
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(ledger_accounts).values(values)
        return pg.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={"balance_minor": ledger_accounts.c.balance_minor + pg.excluded.balance_minor,
                  "updated_at": pg.excluded.updated_at},
        )  # fmt: skip
    lite = sqlite.insert(ledger_accounts).values(values)
    return lite.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={"balance_minor": ledger_accounts.c.balance_minor + lite.excluded.balance_minor,
              "updated_at": lite.excluded.updated_at},
    )  # fmt: skip
