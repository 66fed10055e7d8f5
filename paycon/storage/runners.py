"""How the writer reaches each database in one hop per batch.

SQLite: a dedicated thread owns one synchronous connection; a batch is one
call into that thread. PostgreSQL: one async connection runs the batch's
synchronous code through SQLAlchemy's ``run_sync``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


class ThreadRunner:
    """Runs batches in one thread on one long-lived connection (SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paycon-writer")
        self._conn: Connection | None = None

    def _in_thread(self, batch: Callable[[Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._engine.connect()
        with self._conn.begin():
            return batch(self._conn)

    async def run_in_transaction(self, batch: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._in_thread, batch)

    def _close_in_thread(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_in_thread)
        self._executor.shutdown(wait=True)


class AsyncRunner:
    """Runs batches on one connection of an async engine (PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run_in_transaction(self, batch: Callable[[Connection], T]) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(batch)

    async def close(self) -> None:
        await self._engine.dispose()
