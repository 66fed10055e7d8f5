"""The outbox on a plain SQLite file, with no application around it: for the
outbox's own tests, and for users trying it out or testing their handlers.

``SqliteOutboxDatabase`` is a ``Writer`` (one unit of work per transaction,
committed one at a time on a worker thread, after-commit callbacks run on the
event loop) with a read engine beside it. The tables come from
``outbox.metadata``; an application keeps its own migrations.

    db = SqliteOutboxDatabase(tmp_path / "outbox.db")
    await db.open()
    await db.write(lambda conn: enqueue(conn, "ping", {}))
    async with Pool(db, handlers={"ping": ping}):
        ...
    await db.close()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from outbox.counters import DONE_COUNTER
from outbox.schema import counters, metadata, tasks
from outbox.tasks import TaskState
from outbox.writer import AFTER_COMMIT

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


def _pragmas(*, read_only: bool) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return on_connect


class SqliteOutboxDatabase:
    """A SQLite file with the outbox tables: ``write`` (the ``Writer``), ``read`` and
    ``read_engine`` (for ``list_tasks``, ``get_task``, ``outbox_stats``).

    Two instances on one file are two writers, as two processes would have:
    SQLite's write lock serialises them.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._read_engine: AsyncEngine | None = None
        self._lock = asyncio.Lock()

    @property
    def read_engine(self) -> AsyncEngine:
        if self._read_engine is None:
            raise RuntimeError("the database is not open")
        return self._read_engine

    async def open(self) -> None:
        """Create the file and the outbox tables (if missing), and connect."""
        await asyncio.to_thread(self._open)
        self._read_engine = create_async_engine(f"sqlite+aiosqlite:///{self.path}")
        event.listen(self._read_engine.sync_engine, "connect", _pragmas(read_only=True))

    def _open(self) -> None:
        engine = create_engine(
            f"sqlite+pysqlite:///{self.path}",
            poolclass=NullPool,
            connect_args={"check_same_thread": False},
        )
        event.listen(engine, "connect", _pragmas(read_only=False))

        # pysqlite's own transaction handling breaks SAVEPOINT (which ``Done(writes=...)``
        # uses); take it over, and take the write lock at BEGIN.
        @event.listens_for(engine, "connect")
        def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        self._engine = engine
        self._conn = engine.connect()
        with self._conn.begin():
            metadata.create_all(self._conn)
            self._seed_counters(self._conn)

    @staticmethod
    def _seed_counters(conn: Connection) -> None:
        """The done counter, as a migration would seed it."""
        found = conn.execute(select(counters.c.name).where(counters.c.name == DONE_COUNTER))
        if found.first() is None:
            done = select(func.count()).where(tasks.c.state == TaskState.DONE.value)
            conn.execute(
                insert(counters), {"name": DONE_COUNTER, "value": conn.execute(done).scalar_one()}
            )

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction of its own and commit; then call the callbacks it
        asked for (``outbox.writer.call_after_commit``). Raises what ``work`` raised
        (nothing of it kept)."""
        async with self._lock:
            result, hooks = await asyncio.to_thread(self._run, work)
        for hook in hooks:
            hook()
        return result

    def _run(self, work: Callable[[Connection], T]) -> tuple[T, list[Callable[[], None]]]:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the database is not open")
        hooks: list[Callable[[], None]] = conn.info.setdefault(AFTER_COMMIT, [])
        hooks.clear()
        with conn.begin():
            result = work(conn)
        done = list(hooks)
        hooks.clear()
        return result, done

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection."""
        async with self.read_engine.connect() as conn:
            yield conn

    async def close(self) -> None:
        """Wait for the write under way, then close every connection."""
        async with self._lock:
            if self._conn is not None:
                await asyncio.to_thread(self._conn.close)
                self._conn = None
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
        if self._read_engine is not None:
            await self._read_engine.dispose()
            self._read_engine = None
