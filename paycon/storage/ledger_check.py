"""The ledger's invariants checked on stored data (``paycon ledger verify``, the service's watch).

Three kinds of break:

- ``unbalanced_entry``: a journal entry whose postings do not sum to zero;
- ``balance_differs``: an account whose stored balance is not the sum of its
  postings (or postings on an account that does not exist);
- ``negative_balance``: a customer's ``available``, ``held`` or ``owed`` below
  zero as people read it.

A full check reads everything; an incremental one reads the entries booked
and the accounts moved at or after a moment, plus whatever was broken before
(so a break stays counted until it is repaired).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, or_, select, tuple_

from paycon.domain.balances import NEVER_NEGATIVE, Account, AccountName, Holder
from paycon.storage.schema import journal_entries, ledger_accounts, postings

UNBALANCED_ENTRY = "unbalanced_entry"
BALANCE_DIFFERS = "balance_differs"
NEGATIVE_BALANCE = "negative_balance"

_AccountKey = tuple[str, str, str, str]


@dataclass(frozen=True, order=True)
class Break:
    """One broken invariant: its kind, what it is about (an entry id or an account), and why."""

    kind: str
    subject: str
    detail: str = field(compare=False)
    entry_id: str | None = field(default=None, compare=False)
    account: _AccountKey | None = field(default=None, compare=False)

    def line(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


def _account_of(key: _AccountKey) -> Account:
    return Account(Holder(key[0]), key[1], AccountName(key[2]), key[3])


def _label(key: _AccountKey) -> str:
    return " ".join(key)


def verify(
    conn: Connection,
    *,
    since: datetime | None = None,
    recheck: Iterable[Break] = (),
    limit: int = 1000,
) -> list[Break]:
    """The ledger's breaks (at most ``limit`` of each kind), sorted.

    ``since`` None checks everything; otherwise only what was booked or moved
    at or after ``since``, and the subjects of ``recheck`` (earlier breaks).
    Its statements must see one snapshot (``Database.snapshot``): postings read
    before an entry commits and balances read after it would differ.
    """
    recheck = list(recheck)
    entries = {b.entry_id for b in recheck if b.entry_id is not None}
    accounts = {b.account for b in recheck if b.account is not None}
    found = _unbalanced(conn, since, entries, limit)
    found += _differing(conn, since, accounts, limit)
    return sorted(found)


def _unbalanced(
    conn: Connection, since: datetime | None, entries: set[str], limit: int
) -> list[Break]:
    query = (
        select(postings.c.entry_id, postings.c.currency, func.sum(postings.c.delta_minor))
        .group_by(postings.c.entry_id, postings.c.currency)
        .having(func.sum(postings.c.delta_minor) != 0)
        .limit(limit)
    )
    if since is not None:
        recent = select(journal_entries.c.id).where(journal_entries.c.at >= since)
        query = query.where(
            or_(postings.c.entry_id.in_(recent), postings.c.entry_id.in_(sorted(entries)))
        )
    return [
        Break(
            UNBALANCED_ENTRY,
            entry_id,
            f"its {currency} postings sum to {total}, not 0",
            entry_id=entry_id,
        )
        for entry_id, currency, total in conn.execute(query)
    ]


def _differing(
    conn: Connection, since: datetime | None, accounts: set[_AccountKey], limit: int
) -> list[Break]:
    key_columns = (postings.c.holder, postings.c.owner, postings.c.name, postings.c.currency)
    sums = select(*key_columns, func.sum(postings.c.delta_minor).label("posted")).group_by(
        *key_columns
    )
    stored_query = select(
        ledger_accounts.c.holder, ledger_accounts.c.owner, ledger_accounts.c.name,
        ledger_accounts.c.currency, ledger_accounts.c.balance_minor,
    )  # fmt: skip
    if since is not None:
        account_key = tuple_(
            ledger_accounts.c.holder, ledger_accounts.c.owner, ledger_accounts.c.name,
            ledger_accounts.c.currency,
        )  # fmt: skip
        # Accounts that entries booked since moved, and accounts updated since: chosen in
        # SQL, however many there are (no list of keys is sent).
        changed = (
            select(*key_columns)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(journal_entries.c.at >= since)
            .union(
                select(
                    ledger_accounts.c.holder, ledger_accounts.c.owner, ledger_accounts.c.name,
                    ledger_accounts.c.currency,
                ).where(ledger_accounts.c.updated_at >= since)
            )
        )  # fmt: skip
        rechecked = sorted(accounts)
        sums = sums.where(
            or_(tuple_(*key_columns).in_(changed), tuple_(*key_columns).in_(rechecked))
        )
        stored_query = stored_query.where(or_(account_key.in_(changed), account_key.in_(rechecked)))
    posted: dict[_AccountKey, int] = {
        (h, o, n, c): int(total) for h, o, n, c, total in conn.execute(sums)
    }
    stored: dict[_AccountKey, int] = {
        (h, o, n, c): int(balance) for h, o, n, c, balance in conn.execute(stored_query)
    }
    found: list[Break] = []
    for key in sorted(set(posted) | set(stored)):
        if len(found) >= limit:
            break
        have, want = stored.get(key), posted.get(key, 0)
        if have is None:
            if want:
                found.append(Break(BALANCE_DIFFERS, _label(key),
                                   f"no such account, yet its postings sum to {want}",
                                   account=key))  # fmt: skip
            continue
        if have != want:
            found.append(Break(BALANCE_DIFFERS, _label(key),
                               f"stored balance {have}, its postings sum to {want}",
                               account=key))  # fmt: skip
        try:
            account = _account_of(key)
        except ValueError:
            found.append(Break(BALANCE_DIFFERS, _label(key), "not an account paycon knows",
                               account=key))  # fmt: skip
            continue
        if account.name in NEVER_NEGATIVE and account.shown(have) < 0:
            found.append(Break(NEGATIVE_BALANCE, _label(key),
                               f"{account.name.value} is {account.shown(have)} (minor units)",
                               account=key))  # fmt: skip
    return found
