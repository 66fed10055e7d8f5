"""How the outbox's hot queries scale: each with a million done tasks kept, against the same
query over a table with a thousand, in one run.

Both tables hold 200 pending tasks and done tasks (three kinds) with an attempt row each,
written the quick way: a thousand in the baseline, a million in the other. The queries are
those a pool and the console run all the time: claiming a batch, pruning done tasks past
retention, the outbox's figures, and the task lists by state and kind. A ratio near 1 means
an index lookup; a table scan shows as hundreds. The test beside it
(``tests/integration/outbox/test_million_tasks``) checks the query plans; the times are here.

Run with ``make bench`` or ``python -m bench.hot_queries [--done N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from outbox import TaskState, claims, enqueue, list_tasks, outbox_stats
from outbox.retention import prune_batch
from outbox.testing import SqliteOutboxDatabase

TARGET_RATIO = 5.0
PENDING = 200
LISTS: dict[str, dict[str, Any]] = {
    "list done": {"state": TaskState.DONE},
    "list pending": {"state": TaskState.PENDING},
    "list by kind": {"kind": "kind2"},
    "list kind and state": {"kind": "kind1", "state": TaskState.RUNNING},
}


async def _create(path: Path, done: int) -> None:
    db = SqliteOutboxDatabase(path)
    await db.open()
    try:
        await db.write(lambda conn: [enqueue(conn, "kind1", {}) for _ in range(PENDING)])
    finally:
        await db.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {done})
            INSERT INTO outbox_tasks
                (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
            SELECT 'kind' || (i % 3), '{{}}', 'done', 1, 10,
                   '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000',
                   '2024-01-01 00:00:01.000000'
            FROM n;
            INSERT INTO outbox_attempts
                (task_id, number, started_at, finished_at, outcome, duration_ms)
            SELECT id, 1, created_at, updated_at, 'done', 1 FROM outbox_tasks
            WHERE state = 'done';
            UPDATE outbox_counters SET value = {done} WHERE name = 'done';
            """  # noqa: S608 (done is an int)
        )


def _ms(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


async def _ms_async(call: Callable[[], Awaitable[object]]) -> float:
    began = time.perf_counter()
    await call()
    return (time.perf_counter() - began) * 1000


async def measure(path: Path, repeat: int) -> dict[str, float]:
    """The median time of each hot query, in ms (claims of 10, prunes of 50 per repeat)."""
    timings: dict[str, list[float]] = {}
    writer = create_engine(f"sqlite:///{path}")
    reader = create_async_engine(f"sqlite+aiosqlite:///{path}")
    cutoff = datetime.now(UTC) - timedelta(days=1)
    try:
        for _ in range(repeat):
            with writer.begin() as conn:
                timings.setdefault("claim 10", []).append(
                    _ms(
                        lambda: claims.claim(conn, owner="b", kinds=["kind1"], limit=10, lease_s=30)
                    )
                )
                timings.setdefault("prune 50", []).append(
                    _ms(lambda: prune_batch(conn, cutoff=cutoff, limit=50))
                )
            timings.setdefault("outbox figures", []).append(
                await _ms_async(lambda: outbox_stats(reader))
            )
            for name, filters in LISTS.items():
                timings.setdefault(name, []).append(
                    await _ms_async(lambda f=filters: list_tasks(reader, limit=50, **f))  # type: ignore[misc]
                )
    finally:
        writer.dispose()
        await reader.dispose()
    return {name: statistics.median(samples) for name, samples in timings.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_queries", description=__doc__)
    parser.add_argument("--done", type=int, default=1_000_000, help="done tasks in the table")
    parser.add_argument("--baseline", type=int, default=1000, help="done tasks, baseline")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each query")
    args = parser.parse_args(argv)
    print(
        f"outbox hot queries: {args.done:,} done tasks against {args.baseline:,}, "
        f"median of {args.repeat}"
    )
    with tempfile.TemporaryDirectory(prefix="outbox-hot-") as tmp:
        asyncio.run(_create(Path(tmp) / "small.db", args.baseline))
        asyncio.run(_create(Path(tmp) / "full.db", args.done))
        empty = asyncio.run(measure(Path(tmp) / "small.db", args.repeat))
        full = asyncio.run(measure(Path(tmp) / "full.db", args.repeat))
    small, large = f"{args.baseline:,} ms", f"{args.done:,} ms"
    print(f"  {'query':24} {small:>12} {large:>14} {'ratio':>7}  target")
    worst = 0.0
    for name, baseline_ms in empty.items():
        ratio = full[name] / baseline_ms
        worst = max(worst, ratio)
        verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        print(
            f"  {name:24} {baseline_ms:12.2f} {full[name]:14.2f} {ratio:7.2f}"
            f"  <= {TARGET_RATIO:.0f}  {verdict}"
        )
    print(f"  worst ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
