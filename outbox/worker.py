"""One worker: takes claimed tasks from the pool's queue and runs their handlers.

A worker never touches the database. It reports each run as a
``Completion`` (what the retry policy decided, when it started, how long it
took) and the pool commits them in batches.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from outbox.outcomes import Handler
from outbox.retry import MarkDead, RetryLater, RetryPolicy
from outbox.runs import Completion, utcnow
from outbox.tasks import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Running:
    """The task a worker is running, and since when."""

    task: Task
    started_at: datetime
    started_monotonic: float

    def elapsed_ms(self) -> int:
        return max(0, round((time.monotonic() - self.started_monotonic) * 1000))


class Worker:
    """Runs handlers one at a time until it takes ``None`` from the queue.

    Cancelling it cancels the running handler; ``current`` then still names
    the task, so the pool can give it back.
    """

    def __init__(
        self,
        name: str,
        queue: asyncio.Queue[Task | None],
        handlers: Mapping[str, Handler],
        policy: RetryPolicy,
        report: Callable[[Completion], None],
        took: Callable[[], None],
        rng: random.Random,
    ) -> None:
        self.name = name
        self.current: Running | None = None
        self._queue = queue
        self._handlers = handlers
        self._policy = policy
        self._report = report
        self._took = took
        self._rng = rng

    async def run(self) -> None:
        """Work until the pool sends ``None``. Re-raises CancelledError."""
        while True:
            task = await self._queue.get()
            if task is None:
                return
            self._took()
            await self.run_one(task)

    async def run_one(self, task: Task) -> None:
        """Run ``task``'s handler and report the decision; never raises but CancelledError."""
        running = self.current = Running(task, utcnow(), time.monotonic())
        outcome: object
        try:
            outcome = await self._handlers[task.kind](task)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outcome = exc
        self.current = None
        decision = self._policy.decide(
            outcome, attempts=task.attempts, max_attempts=task.max_attempts, rng=self._rng
        )
        if isinstance(decision, RetryLater | MarkDead):
            log.log(
                logging.WARNING if isinstance(decision, MarkDead) else logging.INFO,
                "outbox task failed",
                extra={
                    "task_id": task.id,
                    "kind": task.kind,
                    "attempt": task.attempts,
                    "max_attempts": task.max_attempts,
                    "error": decision.error.summary,
                    "outcome": "dead" if isinstance(decision, MarkDead) else "retry",
                },
            )
        self._report(Completion(task, decision, running.started_at, running.elapsed_ms()))
