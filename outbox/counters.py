"""Running totals that would otherwise need a count over millions of rows."""

from __future__ import annotations

from sqlalchemy import Connection, Integer, String, bindparam, func, insert, select, update

from outbox.schema import counters, tasks
from outbox.tasks import TaskState

DONE_COUNTER = "done"

_ADD_TO_COUNTER = (
    update(counters)
    .where(counters.c.name == bindparam("counter", type_=String))
    .values(value=counters.c.value + bindparam("delta", type_=Integer))
)


def add_to_counter(conn: Connection, name: str, delta: int) -> None:
    """Add ``delta`` to a running total (creating it from a count if missing)."""
    if delta == 0:
        return
    result = conn.execute(_ADD_TO_COUNTER, {"counter": name, "delta": delta})
    if result.rowcount == 0 and name == DONE_COUNTER:
        # A schema made without the migration's seed row: count once.
        total = conn.execute(
            select(func.count()).where(tasks.c.state == TaskState.DONE.value)
        ).scalar_one()
        conn.execute(insert(counters), {"name": name, "value": total})
