"""Transactions by status, counted where statuses change instead of on every read.

A unit of work that stores a transaction or moves its status calls
``status_changed``; once its writes are committed (never for a unit rolled
back) the writer hands the change to the observer the database was given
(``Database.observe_statuses``), which keeps the counts. ``count_by_status``
reads them whole, once, at start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import Connection, func, select

from outbox.writer import call_after_commit
from paycon.storage.schema import transactions

# Where a writer's connection carries the observer (``conn.info``).
STATUS_OBSERVER = "paycon_status_observer"
StatusObserver = Callable[[str | None, str], None]


def status_changed(conn: Connection, before: str | None, after: str) -> None:
    """A transaction was stored (``before`` None) or moved from ``before`` to ``after``;
    the observer hears of it once the change is committed."""
    observer: StatusObserver | None = conn.info.get(STATUS_OBSERVER)
    if observer is not None:
        call_after_commit(conn, functools.partial(observer, before, after))


def count_by_status(conn: Connection) -> dict[str, int]:
    """Transactions by status, counted over the whole table (for start-up only)."""
    rows = conn.execute(select(transactions.c.status, func.count()).group_by(transactions.c.status))
    return {status: int(n) for status, n in rows}
