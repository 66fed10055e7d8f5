"""What a handler returns, and the shape of a handler.

A handler is ``async def handle(task: Task) -> Done | Defer | None``:

- return ``Done()`` (or ``None``) when the work is done; ``Done(writes=unit)``
  commits the unit's domain writes and the task's completion in ONE
  transaction (if either fails, neither is kept and the task is retried);
- return ``Defer(resource, until)`` (or raise ``ResourceUnavailable``) when a
  named resource is unavailable: the task runs again at ``until`` and the
  attempt is not counted;
- raise ``PermanentError`` when retrying cannot help: the task is dead;
- raise anything else to retry with backoff (dead once attempts run out).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from outbox.tasks import Task


@dataclass(frozen=True)
class Done:
    """The task succeeded; ``writes`` (if any) commits together with its completion."""

    writes: Callable[[Connection], object] | None = None


@dataclass(frozen=True)
class Defer:
    """``resource`` cannot be used before ``until``; run again then, attempt not counted."""

    resource: str
    until: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if self.until.tzinfo is None:
            raise ValueError("until must be an aware datetime")


HandlerResult = Done | Defer | None
Handler = Callable[[Task], Awaitable[HandlerResult]]
