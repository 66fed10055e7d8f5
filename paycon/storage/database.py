"""The database: one group-commit writer and a pool of read connections."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from paycon.config import DatabaseSettings
from paycon.storage.migrate import current_revision, head_revision, upgrade_to_head
from paycon.storage.runners import AsyncRunner, SqliteRunner
from paycon.storage.status_counts import STATUS_OBSERVER, StatusObserver, count_by_status
from paycon.storage.writer import BatchRunner, GroupCommitWriter

log = logging.getLogger(__name__)

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened."""


def _sqlite_pragmas(settings: DatabaseSettings, *, read_only: bool) -> Callable[..., None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        # WAL lets readers run beside the single writer; FULL survives power loss.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return on_connect


def _sqlite_path(url: URL) -> Path | None:
    if url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


# The database folder when paycon creates it, and the database files (SQLite gives
# its -wal and -shm files the main file's mode).
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _private_database_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable by the owner only, or make it so.

    A folder that already exists keeps its mode (it may be /tmp or a shared
    volume); the database file and its side files are set to 0600 either way.
    """
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE))
    for candidate in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if candidate.stat().st_mode & 0o777 == PRIVATE_FILE_MODE:
                continue
            try:
                candidate.chmod(PRIVATE_FILE_MODE)
            except PermissionError:  # another user's file, shared on purpose: say so, go on
                log.warning("cannot make the database file private", extra={"file": candidate})


def _sqlite_write_probe(path: Path, timeout_s: float) -> bool:
    """Take SQLite's write lock on ``path`` (waiting up to ``timeout_s``), then let it go."""
    try:
        conn = sqlite3.connect(
            path.resolve().as_uri() + "?mode=rw", uri=True, timeout=timeout_s,
            isolation_level=None,
        )  # fmt: skip
    except sqlite3.Error:
        return False
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return True


class Database:
    """Owns the engines. Writes go through ``write``; reads through ``read``."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.url = make_url(settings.url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._read_engine: AsyncEngine | None = None
        self._writer: GroupCommitWriter | None = None
        self._lookup_engine: Engine | None = None
        self._lookup_conn: Connection | None = None
        # What each write batch's connection carries in ``conn.info``.
        self._writer_info: dict[str, Any] = {}

    @property
    def writer(self) -> GroupCommitWriter:
        if self._writer is None:
            raise RuntimeError("the database is not open")
        return self._writer

    @property
    def read_engine(self) -> AsyncEngine:
        if self._read_engine is None:
            raise RuntimeError("the database is not open")
        return self._read_engine

    async def open(self) -> None:
        """Connect, apply migrations and start the writer.

        Raises DatabaseUnavailable with a message that says what to check.
        """
        try:
            runner = self._make_runner()
        except OSError as exc:  # the file or its folder cannot be created
            raise DatabaseUnavailable(f"cannot open database {self.safe_url()}: {exc}") from exc
        try:
            await runner.run_in_transaction(upgrade_to_head)
        except (SQLAlchemyError, OSError) as exc:
            await runner.close()
            raise DatabaseUnavailable(f"cannot open database {self.safe_url()}: {exc}") from exc
        self._writer = GroupCommitWriter(
            runner, max_batch=self.settings.max_batch, info=self._writer_info
        )
        self._writer.start()
        self._read_engine = self._make_read_engine()
        if self.is_sqlite:
            self._lookup_engine = create_engine(
                self.url.set(drivername="sqlite+pysqlite"), poolclass=NullPool
            )
            event.listen(
                self._lookup_engine, "connect", _sqlite_pragmas(self.settings, read_only=True)
            )
            self._lookup_conn = self._lookup_engine.connect()
        log.info("database open", extra={"database": self.safe_url()})

    def safe_url(self) -> str:
        """The database URL without its password, for messages and titles."""
        return self.url.render_as_string(hide_password=True)

    def _make_runner(self) -> BatchRunner:
        if not self.is_sqlite:
            engine = create_async_engine(self.url, pool_size=1, max_overflow=0)
            return AsyncRunner(engine)
        path = _sqlite_path(self.url)
        if path is not None:
            _private_database_file(path)
        # One connection, used by the loop and (for COMMIT) the commit thread, never at once.
        sync_engine = create_engine(
            self.url.set(drivername="sqlite+pysqlite"),
            poolclass=NullPool,
            connect_args={"check_same_thread": False},
        )
        event.listen(sync_engine, "connect", _sqlite_pragmas(self.settings, read_only=False))

        # pysqlite's own transaction handling breaks SAVEPOINT; take it over and
        # take the write lock at BEGIN so a batch never waits half-way through.
        @event.listens_for(sync_engine, "connect")
        def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(sync_engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return SqliteRunner(sync_engine)

    def _make_read_engine(self) -> AsyncEngine:
        if not self.is_sqlite:
            return create_async_engine(self.url, pool_size=self.settings.read_pool_size)
        engine = create_async_engine(
            self.url,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=self.settings.read_pool_size,
            max_overflow=0,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(self.settings, read_only=True))
        return engine

    def observe_statuses(self, observer: StatusObserver) -> None:
        """Call ``observer(before, after)`` for each committed status change (see
        ``paycon.storage.status_counts``); ``before`` is None for a new transaction."""
        self._writer_info[STATUS_OBSERVER] = observer

    async def count_by_status(self) -> dict[str, int]:
        """Transactions by status, over the whole table: for start-up, not per request."""
        async with self.read() as conn:
            return await conn.run_sync(count_by_status)

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in the next group commit; see GroupCommitWriter.submit."""
        return await self.writer.submit(work)

    async def lookup(self, query: Callable[[Connection], T]) -> T:
        """A small indexed read (a primary-key lookup), answered at once.

        On SQLite it runs on the event loop's own thread, on a read-only
        connection of its own: a trip through aiosqlite's thread would wait
        behind the busy loop at every hop, far longer than the lookup itself.
        Elsewhere it uses a pooled read connection.
        """
        if self._lookup_conn is not None:
            try:
                return query(self._lookup_conn)
            finally:
                self._lookup_conn.rollback()  # end the read snapshot
        async with self.read() as conn:
            return await conn.run_sync(query)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read connection from the pool (never the writer's)."""
        async with self.read_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read connection whose statements all see one snapshot of the database, for
        a read of several statements that must agree with each other (the ledger check).

        One read transaction, rolled back at the end: on PostgreSQL REPEATABLE READ
        and read only; on SQLite an explicit BEGIN, since the driver runs each SELECT
        outside a transaction, each on the newest commit.
        """
        async with self.read() as conn:
            if self.is_sqlite:
                await conn.exec_driver_sql("BEGIN")
            else:
                await conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            try:
                yield conn
            finally:
                await conn.rollback()

    async def ping(self) -> bool:
        """True when a read connection answers."""
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def writable(self, timeout_s: float) -> bool:
        """Whether a write could start now: the writer runs, and the database grants a
        write transaction within ``timeout_s`` (taken and rolled back at once, beside
        the writer, never queued behind its batches; the event loop never waits).
        """
        if self._writer is None or not self._writer.running:
            return False
        path = _sqlite_path(self.url) if self.is_sqlite else None
        if path is not None:
            return await asyncio.to_thread(_sqlite_write_probe, path, timeout_s)
        try:
            async with asyncio.timeout(timeout_s), self.read() as conn:
                if self.is_sqlite:  # in memory: the writer's own database
                    return True
                # A PostgreSQL standby answers reads but refuses writes.
                in_recovery = await conn.execute(text("SELECT pg_is_in_recovery()"))
                return not in_recovery.scalar()
        except (SQLAlchemyError, OSError, TimeoutError):
            return False

    async def migration_state(self) -> tuple[str | None, str | None]:
        """(the database's migration, the newest this code knows); equal when current.

        Raises DatabaseUnavailable when the database cannot be read.
        """
        try:
            async with self.read() as conn:
                current = await conn.run_sync(current_revision)
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseUnavailable(f"cannot read database {self.safe_url()}: {exc}") from exc
        return current, head_revision()

    async def close(self) -> None:
        """Commit what is queued, stop the writer and close every connection."""
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._read_engine is not None:
            await self._read_engine.dispose()
            self._read_engine = None
        if self._lookup_conn is not None:
            self._lookup_conn.close()
            self._lookup_conn = None
        if self._lookup_engine is not None:
            self._lookup_engine.dispose()
            self._lookup_engine = None
