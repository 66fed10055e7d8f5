"""A small outbox worker process for the crash test.

    python -m tests.integration.outbox.crash_worker DB SEEN run|drain

Runs a pool of 8 workers on DB whose ``work`` handler sleeps a few
milliseconds and then appends the task id to SEEN (one line each, appended
with a single write so a kill never leaves half a line). ``run`` works until
killed; ``drain`` stops cleanly once no task is pending or running, and exits 0.
Prints ``started`` when the pool runs.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from pathlib import Path

from outbox import Pool, PoolConfig, RetryPolicy, Task, TaskState, outbox_stats
from outbox.testing import SqliteOutboxDatabase

LEASE_S = 1.0


async def main(db_path: Path, seen_path: Path, mode: str) -> int:
    db = SqliteOutboxDatabase(db_path)
    await db.open()
    seen = os.open(seen_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def work(task: Task) -> None:
        await asyncio.sleep(random.uniform(0.005, 0.015))
        os.write(seen, f"{task.id}\n".encode())

    config = PoolConfig(
        workers=8,
        lease_s=LEASE_S,
        poll_interval_s=0.1,
        batch_size=16,
        grace_s=5.0,
        retention_s=None,
        retry=RetryPolicy(base_s=0.01, max_s=0.1),
    )
    pool = Pool(db, config, handlers={"work": work})
    await pool.start()
    print("started", flush=True)
    try:
        if mode == "run":
            await asyncio.Event().wait()
        while True:
            stats = await outbox_stats(db.read_engine)
            if stats.counts[TaskState.PENDING] == 0 and stats.counts[TaskState.RUNNING] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await pool.stop()
        await db.close()
        os.close(seen)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])))
