"""Retention: done tasks (and their attempts) older than a set age are deleted.

Pruning goes in small batches, each its own unit of work, so the single
writer is never held for long and payments keep committing in between.
Only ``done`` tasks are pruned: pending, running and dead ones stay whatever
their age.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection, delete, select

from outbox.counters import DONE_COUNTER, add_to_counter
from outbox.runs import utcnow
from outbox.schema import attempts, tasks
from outbox.tasks import TaskState
from outbox.writer import Writer

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


def prune_batch(conn: Connection, *, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` done tasks last updated before ``cutoff``, with
    their attempts; returns how many tasks were deleted."""
    # run_at <= updated_at for every done task, so the run_at bound only narrows
    # the index range; updated_at is the real test.
    ids = list(
        conn.execute(
            select(tasks.c.id)
            .where(
                tasks.c.state == TaskState.DONE.value,
                tasks.c.run_at < cutoff,
                tasks.c.updated_at < cutoff,
            )
            .order_by(tasks.c.run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not ids:
        return 0
    conn.execute(delete(attempts).where(attempts.c.task_id.in_(ids)))
    deleted = conn.execute(
        delete(tasks).where(tasks.c.id.in_(ids), tasks.c.state == TaskState.DONE.value)
    ).rowcount
    add_to_counter(conn, DONE_COUNTER, -deleted)
    return deleted


async def prune(
    writer: Writer,
    *,
    older_than_s: float,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
) -> int:
    """Delete every done task last updated more than ``older_than_s`` ago, with
    its attempts, ``batch_size`` per write. Returns how many tasks were deleted.

    Raises ValueError for a negative age or a batch size below 1; database
    errors propagate (what was pruned before stays pruned).
    """
    if older_than_s < 0 or batch_size < 1:
        raise ValueError("older_than_s must be >= 0 and batch_size >= 1")
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_s)
    total = 0
    while True:
        deleted = await writer.write(partial(prune_batch, cutoff=cutoff, limit=batch_size))
        total += deleted
        if deleted < batch_size:
            break
    if total:
        log.info("outbox pruned done tasks", extra={"deleted": total, "cutoff": cutoff.isoformat()})
    return total
