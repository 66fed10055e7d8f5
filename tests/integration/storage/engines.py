"""The storage tests' databases: a SQLite file, or a PostgreSQL database of the test's own.

``Store.run(work)`` runs ``work(conn)`` in one transaction on either engine
(PostgreSQL through asyncpg and ``run_sync``, as paycon itself reaches it).
The PostgreSQL server is the machine's on 127.0.0.1:5432; without one the
tests skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from paycon.storage.migrate import upgrade_to_head

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
ENGINES = ("sqlite", "postgresql")
T = TypeVar("T")


class Store:
    """One migrated database and a way to run work in one transaction on it."""

    def __init__(self, engine_name: str, directory: Path, *, migrate: bool = True) -> None:
        self.engine_name = engine_name
        self._runner: asyncio.Runner | None = None
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None
        self._database: str | None = None
        if engine_name == "sqlite":
            self._sync = sqlite_engine(directory / "ledger.db")
        else:
            self._runner = asyncio.Runner()
            self._database = f"paycon_ledger_{uuid.uuid4().hex[:12]}"
            try:
                self._runner.run(_create_database(self._database))
            except BaseException:  # a skip or a failure: nothing was created
                self._runner.close()
                raise
            self._async = create_async_engine(f"{POSTGRES_URL}/{self._database}")
        if migrate:
            self.run(upgrade_to_head)

    def run(self, work: Callable[[Connection], T]) -> T:
        if self._sync is not None:
            with self._sync.begin() as conn:
                return work(conn)
        assert self._runner is not None
        assert self._async is not None
        engine = self._async

        async def in_transaction() -> T:
            async with engine.begin() as conn:
                return await conn.run_sync(work)

        return self._runner.run(in_transaction())

    def close(self) -> None:
        if self._sync is not None:
            self._sync.dispose()
            return
        assert self._runner is not None
        assert self._async is not None
        self._runner.run(self._async.dispose())
        assert self._database is not None
        self._runner.run(_drop_database(self._database))
        self._runner.close()


def sqlite_engine(path: Path) -> Engine:
    """A SQLite engine as paycon's writer sets it up: foreign keys on, explicit BEGIN."""
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
        dbapi_conn.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


async def _create_database(name: str) -> None:
    admin = create_async_engine(f"{POSTGRES_URL}/test", isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OperationalError, OSError) as exc:
        if os.environ.get("CI"):
            raise  # the test machines run PostgreSQL on 127.0.0.1:5432
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    finally:
        await admin.dispose()


async def _drop_database(name: str) -> None:
    admin = create_async_engine(f"{POSTGRES_URL}/test", isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def store_fixture(
    request: pytest.FixtureRequest, directory: Path, **kwargs: bool
) -> Iterator[Store]:
    """A Store on ``request.param``'s engine, closed (and dropped) afterwards."""
    store = Store(str(request.param), directory, **kwargs)
    try:
        yield store
    finally:
        store.close()
