"""Read side: transactions, their timelines, ledger lines and tasks, and balances."""

from __future__ import annotations

from outbox import Task
from paycon.domain.errors import NotFound
from paycon.domain.transactions import (
    MAX_REFERENCE_CHARS,
    BalanceView,
    Transaction,
    TransactionEvent,
    is_transaction_id,
)
from paycon.storage import queries
from paycon.storage.database import Database
from paycon.storage.outbox_reads import tasks_by_dedupe_keys, transaction_dedupe_keys
from paycon.storage.queries import LedgerLineRow, TransactionFilter


class TransactionQueries:
    """What the API and the console read, through read connections only."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def transaction(self, transaction_id: str) -> tuple[Transaction, list[TransactionEvent]]:
        """The transaction with its timeline. Raises NotFound."""
        async with self._db.read() as conn:
            found = await queries.get_transaction(conn, transaction_id)
        if found is None:
            raise NotFound(f"transaction {transaction_id} does not exist")
        return found

    async def held_count(self) -> int:
        """How many payments are held for review."""
        async with self._db.read() as conn:
            return await queries.count_held(conn)

    async def transactions(
        self, where: TransactionFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[Transaction], str | None]:
        """A page of transactions, newest first, and the next page's cursor."""
        async with self._db.read() as conn:
            return await queries.list_transactions(conn, where, limit=limit, cursor=cursor)

    async def search(self, text: str, *, limit: int) -> list[Transaction]:
        """The transaction whose id is ``text``, then those whose reference is ``text``
        (newest first); at most ``limit``. Both are index lookups."""
        if not text or len(text) > MAX_REFERENCE_CHARS:
            return []
        found: list[Transaction] = []
        async with self._db.read() as conn:
            if is_transaction_id(text):
                by_id = await queries.load_transaction(conn, text)
                found += [] if by_id is None else [by_id]
            by_reference, _ = await queries.list_transactions(
                conn, TransactionFilter(reference=text), limit=limit, cursor=None
            )
        found += [t for t in by_reference if t.id != text]
        return found[:limit]

    async def ledger(self, transaction_id: str) -> list[LedgerLineRow]:
        """The balance movements the transaction made, oldest first. Raises NotFound."""
        async with self._db.read() as conn:
            if await queries.load_transaction(conn, transaction_id) is None:
                raise NotFound(f"transaction {transaction_id} does not exist")
            return await queries.transaction_ledger(conn, transaction_id)

    async def tasks(self, transaction_id: str) -> list[Task]:
        """The outbox tasks that carried the transaction, oldest first. Raises NotFound."""
        async with self._db.read() as conn:
            transaction = await queries.load_transaction(conn, transaction_id)
            if transaction is None:
                raise NotFound(f"transaction {transaction_id} does not exist")
            keys = transaction_dedupe_keys(transaction.id, transaction.route)
            return await tasks_by_dedupe_keys(conn, keys)

    async def balances(self, customer_id: str) -> list[BalanceView]:
        """The customer's balances by currency (empty if none yet)."""
        async with self._db.read() as conn:
            return await queries.customer_balances(conn, customer_id)
