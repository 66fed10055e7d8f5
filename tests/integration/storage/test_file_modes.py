"""The database's files are readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from paycon.config import DatabaseSettings
from paycon.storage.database import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(folder: Path) -> dict[str, int]:
    return {path.name: _mode(path) for path in folder.iterdir()}


def _chmod_all(folder: Path, mode: int) -> None:
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual 022, so only paycon's own care makes the files private."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
async def test_a_new_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "paycon.db"
    db = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
    await db.open()
    try:
        await db.write(lambda conn: conn.execute(text("CREATE TABLE probe (x)")))
        assert _mode(path.parent) == 0o700
        for name in ("paycon.db", "paycon.db-wal", "paycon.db-shm"):
            assert _mode(path.parent / name) == 0o600, name
    finally:
        await db.close()


@pytest.mark.usefixtures("open_umask")
async def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "paycon.db"
    db = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
    await db.open()
    await db.close()
    _chmod_all(tmp_path, 0o644)
    await db.open()
    try:
        await db.write(lambda conn: conn.execute(text("SELECT 1")))
        assert _mode(path) == 0o600
        assert set(_modes(tmp_path).values()) == {0o600}
        assert _mode(tmp_path) == 0o755  # a folder paycon did not create keeps its mode
    finally:
        await db.close()
