"""What a handler returns, and the shape of a handler.

A handler is ``async def handle(task: Task) -> Done | Defer | None``:

- return ``Done()`` (or ``None``) when the work is done; ``Done(writes=unit)``
  commits the unit's domain writes and the task's completion in ONE
  transaction (if either fails, neither is kept and the task is retried);
- return ``Defer(resource, until)`` (or raise ``ResourceUnavailable``) when a
  named resource is unavailable: the task runs again at ``until`` and the
  attempt is not counted;
- raise ``PermanentError`` when retrying cannot help: the task is dead;
- raise anything else to retry with backoff (dead once attempts run out), or
  return ``Retry(error)`` to say more about the run than an exception can.

Each outcome can carry ``touched``: whether the run reached the outside
resource it works on (``False``: provably not — nothing was sent; ``True``:
it did; ``None``: unknown). It is stored with the run's attempts row, so a
later run can ask whether any earlier one may have reached the resource. A
deferral is recorded as not touched unless the handler says otherwise.
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
    touched: bool | None = None


@dataclass(frozen=True)
class Defer:
    """``resource`` cannot be used before ``until``; run again then, attempt not counted."""

    resource: str
    until: datetime
    reason: str = ""
    touched: bool | None = False

    def __post_init__(self) -> None:
        if self.until.tzinfo is None:
            raise ValueError("until must be an aware datetime")


@dataclass(frozen=True)
class Retry:
    """The run failed with ``error``: as if the handler raised it (retried with backoff,
    dead when it is a ``PermanentError`` or attempts ran out), with ``touched`` recorded."""

    error: BaseException
    touched: bool | None = None


HandlerResult = Done | Defer | Retry | None
Handler = Callable[[Task], Awaitable[HandlerResult]]
