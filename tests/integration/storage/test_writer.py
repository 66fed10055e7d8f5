"""The group-commit writer on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from paycon.config import DatabaseSettings
from paycon.storage.database import Database


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{db_path}"))
    await database.open()
    try:
        await database.write(lambda conn: conn.execute(text("CREATE TABLE t (v INTEGER UNIQUE)")))
        yield database
    finally:
        await database.close()


def insert(value: int) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        return value

    return work


def values(db_path: Path) -> list[int]:
    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute("SELECT v FROM t ORDER BY v")]


async def test_concurrent_units_share_commits(db: Database, db_path: Path) -> None:
    batches_before = db.writer.batches
    results = await asyncio.gather(*(db.write(insert(i)) for i in range(500)))
    assert results == list(range(500))
    assert values(db_path) == list(range(500))
    assert db.writer.batches - batches_before < 50


async def test_a_failing_unit_rolls_back_alone(db: Database, db_path: Path) -> None:
    def half_then_fail(conn: Connection) -> None:
        conn.execute(text("INSERT INTO t (v) VALUES (1000)"))
        raise RuntimeError("unit failed")

    outcomes = await asyncio.gather(
        db.write(insert(1)),
        db.write(half_then_fail),
        db.write(insert(2)),
        db.write(insert(1)),  # violates UNIQUE
        return_exceptions=True,
    )
    first, failed, second, duplicate = outcomes
    assert (first, second) == (1, 2)
    assert isinstance(failed, RuntimeError)
    assert "UNIQUE" in str(duplicate)
    assert values(db_path) == [1, 2]


async def test_after_commit_hooks_run_only_for_committed_units(db: Database) -> None:
    called: list[str] = []

    def with_hook(name: str, fail: bool) -> Callable[[Connection], None]:
        def work(conn: Connection) -> None:
            conn.info["after_commit"].append(lambda: called.append(name))
            if fail:
                raise RuntimeError(name)

        return work

    await asyncio.gather(
        db.write(with_hook("kept", False)),
        db.write(with_hook("dropped", True)),
        return_exceptions=True,
    )
    assert called == ["kept"]


async def test_close_commits_what_was_queued(db_path: Path) -> None:
    database = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{db_path}"))
    await database.open()
    await database.write(lambda conn: conn.execute(text("CREATE TABLE t (v INTEGER)")))
    pending = [asyncio.ensure_future(database.write(insert(i))) for i in range(50)]
    await asyncio.sleep(0)  # let every write reach the queue
    await database.close()
    with pytest.raises(RuntimeError, match="not open"):
        await database.write(insert(99))
    assert [await p for p in pending] == list(range(50))
    assert values(db_path) == list(range(50))


async def test_database_runs_with_wal_and_full_sync(db: Database, db_path: Path) -> None:
    def pragmas(conn: Connection) -> tuple[str, int, int]:
        journal = conn.execute(text("PRAGMA journal_mode")).scalar_one()
        synchronous = conn.execute(text("PRAGMA synchronous")).scalar_one()
        foreign_keys = conn.execute(text("PRAGMA foreign_keys")).scalar_one()
        return journal, synchronous, foreign_keys

    assert await db.write(pragmas) == ("wal", 2, 1)
    async with db.read() as conn:
        assert (await conn.execute(text("PRAGMA query_only"))).scalar_one() == 1
