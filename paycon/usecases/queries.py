"""Read side: transactions, their timelines and balances."""

from __future__ import annotations

from paycon.domain.errors import NotFound
from paycon.domain.transactions import BalanceView, Transaction, TransactionEvent
from paycon.storage import queries
from paycon.storage.database import Database
from paycon.storage.queries import TransactionFilter


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

    async def transactions(
        self, where: TransactionFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[Transaction], str | None]:
        """A page of transactions, newest first, and the next page's cursor."""
        async with self._db.read() as conn:
            return await queries.list_transactions(conn, where, limit=limit, cursor=cursor)

    async def balances(self, customer_id: str) -> list[BalanceView]:
        """The customer's balances by currency (empty if none yet)."""
        async with self._db.read() as conn:
            return await queries.customer_balances(conn, customer_id)
