"""``/healthz`` says the process serves; ``/readyz`` whether it can take payments now."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests.paycon_fixtures import RunningPaycon


def checks(body: dict[str, Any]) -> dict[str, bool]:
    return {check["name"]: check["ok"] for check in body["checks"]}


@contextmanager
def write_locked(db_path: Path) -> Iterator[None]:
    """Another connection holding the database's write lock (as a stuck writer would)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def test_liveness_makes_no_database_call(paycon: RunningPaycon) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = paycon.service.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with write_locked(paycon.db_path):
            status, body = await paycon.get("/healthz", token=None)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (status, body) == (200, {"status": "ok"})
    assert statements == []


async def test_ready_lists_each_check(paycon: RunningPaycon) -> None:
    status, body = await paycon.get("/readyz", token=None)
    assert status == 200
    assert body["status"] == "ready"
    assert checks(body) == {"database": True, "migrations": True, "shutdown": True}


async def test_unready_while_the_database_is_write_locked_and_ready_after(
    paycon: RunningPaycon,
) -> None:
    with write_locked(paycon.db_path):
        status, body = await paycon.get("/readyz", token=None)
        assert status == 503
        assert body["status"] == "unready"
        assert checks(body) == {"database": False, "migrations": True, "shutdown": True}
        # Alive all the same: an orchestrator takes it out of rotation, not restarts it.
        assert (await paycon.get("/healthz", token=None))[0] == 200
    status, body = await paycon.get("/readyz", token=None)
    assert (status, body["status"]) == (200, "ready")


async def test_unready_when_the_database_is_at_another_migration(paycon: RunningPaycon) -> None:
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    status, body = await paycon.get("/readyz", token=None)
    assert status == 503
    assert checks(body)["migrations"] is False


async def test_unready_once_shutting_down(paycon: RunningPaycon) -> None:
    assert paycon.service.context is not None
    paycon.service.context.stopping.set()
    status, body = await paycon.get("/readyz", token=None)
    assert status == 503
    assert checks(body) == {"database": True, "migrations": True, "shutdown": False}
