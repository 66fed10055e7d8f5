"""The hot queries stay index lookups with a million done tasks in the table (how long they
take is a figure of ``python -m bench``)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from outbox import TaskState, claims, list_tasks, outbox_stats
from outbox.retention import prune_batch
from outbox.testing import SqliteOutboxDatabase
from tests.integration.outbox.support import add_many

# --- a million done tasks ---------------------------------------------------

MILLION = 1_000_000


def _fill(path: Path) -> None:
    """A million done tasks (three kinds) with an attempt each, written the quick way."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
            INSERT INTO outbox_tasks
                (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
            SELECT 'kind' || (i % 3), '{}', 'done', 1, 10,
                   '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000',
                   '2024-01-01 00:00:01.000000'
            FROM n;
            INSERT INTO outbox_attempts
                (task_id, number, started_at, finished_at, outcome, duration_ms)
            SELECT id, 1, created_at, updated_at, 'done', 1 FROM outbox_tasks;
            UPDATE outbox_counters SET value = 1000000 WHERE name = 'done';
            """
        )


class Plans:
    """Records every statement run on an engine, to EXPLAIN them afterwards."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if not many and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            self.statements.append((statement, params))

    def full_scans(self, path: Path) -> list[str]:
        """Plan lines that walk a whole outbox table or sort it."""
        bad = re.compile(r"^(SCAN outbox_(tasks|attempts)\b|USE TEMP B-TREE FOR ORDER BY)")
        found = []
        with contextlib.closing(sqlite3.connect(path)) as conn:
            for statement, params in self.statements:
                for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params or ()):
                    if bad.search(row[3]):
                        found.append(f"{row[3]}  <-  {statement}")
        return found


@pytest.mark.slow
async def test_claims_counts_and_lists_stay_index_lookups_with_a_million_done_tasks(
    db: SqliteOutboxDatabase, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    _fill(path)
    await add_many(db, "kind1", 200)
    writer_engine = create_engine(f"sqlite:///{path}")
    reader: AsyncEngine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    plans = Plans(writer_engine)
    plans_read = Plans(reader.sync_engine)
    try:
        with writer_engine.begin() as conn:
            claimed = claims.claim(conn, owner="t", kinds=["kind1"], limit=100, lease_s=30)
            cutoff = datetime.now(UTC) - timedelta(days=1)
            pruned = prune_batch(conn, cutoff=cutoff, limit=500)
        filters: list[dict[str, Any]] = [
            {"state": TaskState.DONE},
            {"state": TaskState.PENDING},
            {"kind": "kind2"},
            {"kind": "kind1", "state": TaskState.RUNNING},
        ]
        for listed in filters:
            await list_tasks(reader, limit=50, **listed)
        stats = await outbox_stats(reader)
    finally:
        writer_engine.dispose()
        await reader.dispose()

    assert len(claimed.tasks) == 100
    assert pruned == 500
    assert stats.counts[TaskState.DONE] == MILLION - 500
    assert stats.counts[TaskState.RUNNING] == 100
    assert plans.full_scans(path) == []
    assert plans_read.full_scans(path) == []
