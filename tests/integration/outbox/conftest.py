"""Fixtures: a real SQLite file through ``outbox.testing``, and pools that stop themselves."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest

from outbox import Handler, Pool
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.support import FAST


class MakePool(Protocol):
    def __call__(
        self,
        handlers: Mapping[str, Handler],
        *,
        db: SqliteOutboxDatabase | None = None,
        **config: Any,
    ) -> Pool: ...


def database(path: Path) -> SqliteOutboxDatabase:
    return SqliteOutboxDatabase(path)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteOutboxDatabase]:
    """A SQLite database in tmp_path with the outbox tables, and its writer."""
    database_ = database(tmp_path / "outbox.db")
    await database_.open()
    yield database_
    await database_.close()


@pytest.fixture
async def make_pool(db: SqliteOutboxDatabase) -> AsyncIterator[MakePool]:
    """Build pools with the FAST config (overridable); every pool is stopped after the test."""
    made: list[Pool] = []

    default_db = db

    def make(
        handlers: Mapping[str, Handler], *, db: SqliteOutboxDatabase | None = None, **config: Any
    ) -> Pool:
        pool = Pool(db or default_db, dataclasses.replace(FAST, **config), handlers=handlers)
        made.append(pool)
        return pool

    yield make
    for pool in made:
        await pool.stop(grace_s=0)
