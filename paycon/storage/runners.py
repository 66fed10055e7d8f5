"""How the writer reaches each database in one hop per batch.

SQLite: the statements on the loop, the COMMIT (fsync) in a thread; see
``SqliteRunner``. PostgreSQL: one async connection runs the batch's synchronous
code through SQLAlchemy's ``run_sync``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


class SqliteRunner:
    """SQLite: a batch's statements run on the event loop's thread, its COMMIT in a thread.

    Every SQLite statement is a short C call that releases the GIL. Run from a
    separate thread, each statement then waits for the busy event loop to hand
    the GIL back, which made a payment's writes markedly slower than running
    them on the loop itself (docs/architecture.md). The COMMIT is where
    SQLite fsyncs (``synchronous=FULL``), so that one call goes to a dedicated
    thread and the loop never waits on the disk: one hop per batch.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paycon-commit")
        self._conn: Connection | None = None

    async def run_in_transaction(self, batch: Callable[[Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._engine.connect()
        transaction = self._conn.begin()
        try:
            result = batch(self._conn)
        except BaseException:
            transaction.rollback()
            raise
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, _commit_or_roll_back, transaction)
        return result

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()
        self._executor.shutdown(wait=True)


def _commit_or_roll_back(transaction: RootTransaction) -> None:
    try:
        transaction.commit()
    except BaseException:
        transaction.rollback()
        raise


class AsyncRunner:
    """Runs batches on one connection of an async engine (PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run_in_transaction(self, batch: Callable[[Connection], T]) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(batch)

    async def close(self) -> None:
        await self._engine.dispose()
