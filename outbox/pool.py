"""The worker pool: claims due tasks, runs them on N workers, records outcomes.

The pool owns every asyncio task it starts, each named ``outbox-<role>``:

- the **fetcher** claims due tasks in batches (one write claims up to
  ``batch_size``) when the pool has room, and otherwise sleeps until a commit
  wakes it, the next known task is due, or the poll interval passes;
- **workers** take claimed tasks from an in-memory queue and run handlers;
- the **completer** commits the workers' outcomes in batches (one write for
  everything reported since the previous one, shared with whatever else the
  group-commit writer is committing);
- the **lease keeper** extends the leases of every task the pool holds, so a
  lease only expires when the process died or stalled;
- the **pruner** deletes old done tasks (when retention is set).

``stop()`` lets running handlers finish within the grace period, cancels the
rest, gives back every task it holds (pending again, attempt not counted) and
waits for the last outcomes to commit: no task stays ``running`` after a
clean stop. ``abort()`` just cancels everything, as a crash would.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from collections import Counter
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import partial
from types import TracebackType
from typing import Any

from outbox import claims, completions, retention, wakeup
from outbox.config import PoolConfig
from outbox.exceptions import HandlerAlreadyRegistered, PoolStateError
from outbox.outcomes import Handler
from outbox.runs import Completion, Release, utcnow
from outbox.tasks import Task
from outbox.worker import Worker
from outbox.writer import Writer

log = logging.getLogger(__name__)

# Most outcomes committed in one write; more wait for the next one.
MAX_COMPLETIONS_PER_WRITE = 2000


class _Phase(Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


@dataclass(frozen=True)
class PoolSnapshot:
    """What a pool is doing now, and how its runs ended since it started
    (``outcomes`` by attempt outcome: done, retry, deferred, dead, released)."""

    owner: str
    workers: int
    running: int
    queued: int
    held: int
    outcomes: Mapping[str, int]


def default_owner() -> str:
    """``host:pid:random`` — unique among live pools, readable in the console."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{secrets.token_hex(3)}"


class Pool:
    """Runs the handlers registered for each task kind on ``config.workers`` workers.

    ``writer`` is where every state change goes (paycon's ``Database``).
    Register handlers, then ``await start()``; ``await stop()`` to end. Also an
    async context manager.
    """

    def __init__(
        self,
        writer: Writer,
        config: PoolConfig | None = None,
        *,
        handlers: Mapping[str, Handler] | None = None,
        hub: wakeup.WakeupHub | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or PoolConfig()
        self.owner = self.config.owner or default_owner()
        self._writer = writer
        self._hub = hub or wakeup.hub
        self._rng = rng or random.Random()
        self._handlers: dict[str, Handler] = {}
        self._phase = _Phase.NEW
        for kind, handler in (handlers or {}).items():
            self.register(kind, handler)
        self._queue: asyncio.Queue[Task | None] = asyncio.Queue()
        self._workers: list[Worker] = []
        self._held: dict[int, Task] = {}
        self._completions: list[Completion] = []
        self._outcomes: Counter[str] = Counter()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._completions_ready = asyncio.Event()
        self._workers_ended = False
        self._stopping = asyncio.Event()
        self._closing = asyncio.Event()
        self._stopped = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._low_water = self.config.batch_size // 2
        self._next_recovery = 0.0

    # --- lifecycle ------------------------------------------------------

    def register(self, kind: str, handler: Handler) -> Handler:
        """Run ``handler`` for tasks of ``kind``; returns it (usable as a decorator
        body). Raises HandlerAlreadyRegistered, or PoolStateError once started."""
        if self._phase is not _Phase.NEW:
            raise PoolStateError("register handlers before the pool starts")
        if kind in self._handlers:
            raise HandlerAlreadyRegistered(f"a handler for {kind!r} is already registered")
        self._handlers[kind] = handler
        return handler

    @property
    def kinds(self) -> tuple[str, ...]:
        """The task kinds this pool claims."""
        return tuple(self._handlers)

    async def start(self) -> None:
        """Start the workers and background jobs; returns at once.

        Raises PoolStateError if already started or without any handler.
        """
        if self._phase is not _Phase.NEW:
            raise PoolStateError(f"the pool is {self._phase.value}; a pool starts once")
        if not self._handlers:
            raise PoolStateError("register at least one handler before starting the pool")
        self._phase = _Phase.RUNNING
        for index in range(self.config.workers):
            worker = Worker(
                name=f"outbox-worker-{index}",
                queue=self._queue,
                handlers=self._handlers,
                policy=self.config.retry,
                report=self._report,
                took=self._took,
                rng=self._rng,
            )
            self._workers.append(worker)
            self._spawn(worker.name, worker.run())
        self._spawn("outbox-completer", self._complete_loop())
        self._spawn("outbox-lease-keeper", self._renew_loop())
        self._spawn("outbox-fetcher", self._fetch_loop())
        if self.config.retention_s is not None:
            self._spawn("outbox-pruner", self._prune_loop(self.config.retention_s))
        self._hub.subscribe(self.wake)
        log.info(
            "outbox pool started",
            extra={"owner": self.owner, "workers": self.config.workers, "kinds": self.kinds},
        )

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop cleanly: claim nothing more, let running handlers finish within
        ``grace_s`` (default ``config.grace_s``), cancel the rest, give back
        every held task and commit the last outcomes. Idempotent."""
        if self._phase is _Phase.STOPPING:
            await self._stopped.wait()
            return
        if self._phase is not _Phase.RUNNING:
            return
        self._phase = _Phase.STOPPING
        self._hub.unsubscribe(self.wake)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.grace_s if grace_s is None else grace_s)
        try:
            await self._shut_down(deadline)
        finally:
            # Interrupted (the caller was cancelled): end what is left as abort would.
            await self._cancel_all()
            self._phase = _Phase.STOPPED
            self._stopped.set()
        log.info(
            "outbox pool stopped", extra={"owner": self.owner, "outcomes": dict(self._outcomes)}
        )

    async def _shut_down(self, deadline: float) -> None:
        self._stopping.set()
        self._wake.set()
        self._room.set()
        # A claim in flight is let finish whatever the grace period: cancelling
        # it would leave its tasks leased to no one until the leases expire.
        await self._end(self._tasks.pop("outbox-fetcher"), self.config.lease_s)
        self._give_back_queued()
        await self._end_workers(deadline)
        # Only now can no more outcomes come: the completer may finish.
        self._workers_ended = True
        self._completions_ready.set()
        await self._end(self._tasks.pop("outbox-completer"), self.config.lease_s)
        self._closing.set()
        for name in list(self._tasks):
            await self._end(self._tasks.pop(name), self.config.lease_s)

    async def abort(self) -> None:
        """Cancel everything at once and write nothing, as a crash would: held
        tasks stay ``running`` until their leases expire. For emergencies (the
        database is gone) and for tests."""
        if self._phase in (_Phase.NEW, _Phase.STOPPED):
            self._phase = _Phase.STOPPED
            return
        self._phase = _Phase.STOPPED
        self._stopped.set()
        self._hub.unsubscribe(self.wake)
        await self._cancel_all()
        log.warning("outbox pool aborted", extra={"owner": self.owner, "held": len(self._held)})

    async def _cancel_all(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Pool:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def wake(self) -> None:
        """Look for due tasks now (called after commits that enqueue)."""
        self._wake.set()

    def snapshot(self) -> PoolSnapshot:
        """Counts for metrics and the console."""
        return PoolSnapshot(
            owner=self.owner,
            workers=self.config.workers,
            running=sum(1 for worker in self._workers if worker.current is not None),
            queued=self._queue.qsize(),
            held=len(self._held),
            outcomes=dict(self._outcomes),
        )

    # --- the fetcher ------------------------------------------------------

    async def _fetch_loop(self) -> None:
        while not self._stopping.is_set():
            want = self._want()
            if want == 0:
                self._room.clear()
                if self._want() == 0:
                    await self._room.wait()
                continue
            self._wake.clear()
            recover = self._recovery_due()
            try:
                result = await self._writer.write(
                    partial(
                        claims.claim,
                        owner=self.owner,
                        kinds=self.kinds,
                        limit=want,
                        lease_s=self.config.lease_s,
                        recover=recover,
                    )
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox claim failed; retrying after the poll interval")
                await self._sleep(self._wake, self.config.poll_interval_s)
                continue
            for task in result.tasks:
                if task.id in self._held:
                    # Its lease expired while a worker here still ran it (the
                    # renewals failed); the run in progress is now stale.
                    log.warning(
                        "outbox task reclaimed while still running here",
                        extra={"task_id": task.id, "owner": self.owner},
                    )
                self._held[task.id] = task
                self._queue.put_nowait(task)
            if len(result.tasks) < want:
                await self._sleep(self._wake, self._idle_timeout_s(result.next_due_at))

    def _recovery_due(self) -> bool:
        """Whether this claim should also look for expired leases. A lease lasts
        ``lease_s``, so looking a few times per lease (and at least once per
        poll) finds them soon enough without a query on every claim."""
        now = time.monotonic()
        if now < self._next_recovery:
            return False
        self._next_recovery = now + min(self.config.poll_interval_s, self.config.lease_s / 4)
        return True

    def _want(self) -> int:
        """How many tasks to claim now: none while enough are queued."""
        queued = self._queue.qsize()
        if queued > self._low_water:
            return 0
        running = sum(1 for worker in self._workers if worker.current is not None)
        capacity = self.config.workers + self.config.batch_size - queued - running
        return max(0, min(self.config.batch_size, capacity))

    def _idle_timeout_s(self, next_due_at: datetime | None) -> float:
        """Until the next pending task is due, at most the poll interval.

        A task already due that the claim did not get is locked by another
        process (PostgreSQL): wait the full interval rather than spin.
        """
        timeout_s = self.config.poll_interval_s
        if next_due_at is not None:
            due_in_s = (next_due_at - utcnow()).total_seconds()
            if due_in_s > 0:
                timeout_s = min(timeout_s, due_in_s)
        return timeout_s

    def _took(self) -> None:
        if self._queue.qsize() <= self._low_water:
            self._room.set()

    async def _sleep(self, event: asyncio.Event, timeout_s: float) -> None:
        """Until ``event`` is set or ``timeout_s`` passed."""
        try:
            async with asyncio.timeout(timeout_s):
                await event.wait()
        except TimeoutError:
            pass

    # --- the completer ----------------------------------------------------

    def _report(self, completion: Completion) -> None:
        if not self._holds(completion.task):
            log.warning(
                "outbox outcome of a superseded claim dropped",
                extra={"task_id": completion.task.id, "attempt": completion.task.attempts},
            )
            return
        self._completions.append(completion)
        self._completions_ready.set()

    async def _complete_loop(self) -> None:
        while True:
            if not self._completions:
                if self._workers_ended:
                    return
                self._completions_ready.clear()
                await self._completions_ready.wait()
                continue
            batch = self._completions[:MAX_COMPLETIONS_PER_WRITE]
            del self._completions[:MAX_COMPLETIONS_PER_WRITE]
            await self._commit(batch)

    async def _commit(self, batch: list[Completion]) -> None:
        try:
            report = await self._writer.write(
                partial(
                    completions.complete,
                    owner=self.owner,
                    completions=batch,
                    policy=self.config.retry,
                    rng=self._rng,
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            # The tasks stay leased to us in the database; forgetting them
            # stops the renewals, so they run again once the leases expire.
            log.exception(
                "outbox completion failed; the tasks will run again after their leases expire",
                extra={"task_ids": [c.task.id for c in batch]},
            )
        else:
            self._outcomes.update(report.outcomes)
        for completion in batch:
            if self._holds(completion.task):
                del self._held[completion.task.id]

    def _holds(self, task: Task) -> bool:
        """True if ``task`` is this pool's current claim of it (not an older one)."""
        held = self._held.get(task.id)
        return held is not None and held.attempts == task.attempts

    # --- stopping ---------------------------------------------------------

    def _give_back_queued(self) -> None:
        while not self._queue.empty():
            task = self._queue.get_nowait()
            if task is not None:
                self._report(Completion(task, Release(started=False), utcnow(), 0))
        for _ in self._workers:
            self._queue.put_nowait(None)

    async def _end_workers(self, deadline: float) -> None:
        tasks = [self._tasks.pop(worker.name) for worker in self._workers]
        timeout_s = max(0.0, deadline - asyncio.get_running_loop().time())
        _, late = await asyncio.wait(tasks, timeout=timeout_s) if tasks else (set(), set())
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for worker in self._workers:
            if worker.current is not None:
                running = worker.current
                worker.current = None
                self._report(
                    Completion(
                        running.task,
                        Release(started=True),
                        running.started_at,
                        running.elapsed_ms(),
                    )
                )
        if late:
            log.warning(
                "outbox handlers cancelled at stop; their tasks were given back",
                extra={"workers": len(late)},
            )

    async def _end(self, task: asyncio.Task[None], timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for ``task`` to return by itself, then cancel it."""
        done, _ = await asyncio.wait([task], timeout=timeout_s)
        if not done:
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        except Exception:  # noqa: S110 - logged by _check_ended when it ended
            pass

    # --- lease keeper and pruner -----------------------------------------

    async def _renew_loop(self) -> None:
        while not self._closing.is_set():
            await self._sleep(self._closing, self.config.renew_interval_s)
            ids = list(self._held)
            if not ids or self._closing.is_set():
                continue
            try:
                still = await self._writer.write(
                    partial(
                        claims.renew_leases,
                        owner=self.owner,
                        task_ids=ids,
                        lease_s=self.config.lease_s,
                    )
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox lease renewal failed")
                continue
            gone = [task_id for task_id in ids if task_id not in still and task_id in self._held]
            if gone:
                log.warning(
                    "outbox leases lost before completion",
                    extra={"task_ids": gone, "owner": self.owner},
                )

    async def _prune_loop(self, retention_s: float) -> None:
        while not self._closing.is_set():
            await self._sleep(self._closing, self.config.retention_interval_s)
            if self._closing.is_set():
                return
            try:
                await retention.prune(
                    self._writer,
                    older_than_s=retention_s,
                    batch_size=self.config.retention_batch_size,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox pruning failed; will try again")

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._check_ended)
        self._tasks[name] = task

    def _check_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.error(
            "outbox pool task crashed",
            exc_info=task.exception(),
            extra={"task": task.get_name(), "owner": self.owner},
        )
