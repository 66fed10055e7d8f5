"""What the outbox needs from the database's write path.

Every state change is a *unit of work*: a synchronous function that gets an
open ``Connection`` inside a transaction and does its writes. A ``Writer``
runs it and returns its result once it is committed (paycon's group-commit
``Database`` is one). A unit may ask for callbacks after the commit by
appending zero-argument callables to ``conn.info["after_commit"]``; the writer
calls them on the event loop and drops those of a unit that rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")

AFTER_COMMIT = "after_commit"

UnitOfWork = Callable[[Connection], T]


class Writer(Protocol):
    """Runs a unit of work in a transaction and answers once it is committed."""

    async def write(self, work: Callable[[Connection], T]) -> T: ...


def call_after_commit(conn: Connection, callback: Callable[[], None]) -> None:
    """Ask the writer to call ``callback`` once ``conn``'s transaction commits.

    Registers it at most once per transaction, so a unit that enqueues a
    thousand tasks still wakes the workers once.
    """
    hooks: list[Callable[[], None]] = conn.info.setdefault(AFTER_COMMIT, [])
    if callback not in hooks:
        hooks.append(callback)
