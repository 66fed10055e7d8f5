"""Group commit: one writer commits the writes of all concurrent requests together.

Each request hands over a *unit of work*: a plain function that receives an
open SQLAlchemy ``Connection`` and does its writes. The writer collects the
units that arrive while the previous batch is being committed, runs the whole
batch in one hop to the database, and commits once. One unit's failure rolls
back only that unit (see ``run_units``). Every caller is
answered only after the commit that holds its writes: nothing is acknowledged
that is not durable.

A unit may ask for work to happen once its writes are committed by appending
a zero-argument callable to ``conn.info["after_commit"]`` (the outbox does
this to wake its workers). The callables of a unit that rolled back are
dropped; the others run on the event loop after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from paycon.storage.prepared import raw

log = logging.getLogger(__name__)

T = TypeVar("T")
UnitOfWork = Callable[[Connection], T]


class BatchRunner(Protocol):
    """Runs a function with an open transaction's connection and commits."""

    async def run_in_transaction(self, batch: Callable[[Connection], T]) -> T: ...

    async def close(self) -> None: ...


@dataclass
class _Pending:
    work: UnitOfWork[Any]
    future: asyncio.Future[Any]


@dataclass(frozen=True)
class _Done:
    result: Any = None
    error: BaseException | None = None


AFTER_COMMIT = "after_commit"


@dataclass(frozen=True)
class _BatchResult:
    outcomes: list[_Done]
    after_commit: list[Callable[[], None]]


def run_units(
    conn: Connection, units: list[UnitOfWork[Any]], *, info: Mapping[str, Any] | None = None
) -> _BatchResult:
    """Run the units on ``conn``; the caller commits. ``info`` goes into ``conn.info``
    first (what the units may look up there, such as an observer).

    Optimistic: the whole batch runs in one savepoint. If a unit raises, the
    batch is undone and run again with each unit in its own savepoint, so only
    the failing unit's writes are lost. A unit may therefore run twice before
    its batch commits; it must do nothing but write through ``conn``.
    """
    if info:
        conn.info.update(info)
    hooks: list[Callable[[], None]] = conn.info.setdefault(AFTER_COMMIT, [])
    hooks.clear()
    raw(conn, "SAVEPOINT batch")
    try:
        results = [work(conn) for work in units]
    except Exception:
        raw(conn, "ROLLBACK TO SAVEPOINT batch")
        raw(conn, "RELEASE SAVEPOINT batch")
        hooks.clear()
        return _run_isolated(conn, units, hooks)
    raw(conn, "RELEASE SAVEPOINT batch")
    return _BatchResult([_Done(result=result) for result in results], list(hooks))


def _run_isolated(
    conn: Connection, units: list[UnitOfWork[Any]], hooks: list[Callable[[], None]]
) -> _BatchResult:
    outcomes: list[_Done] = []
    for work in units:
        raw(conn, "SAVEPOINT unit")
        hooks_before = len(hooks)
        try:
            result = work(conn)
        except Exception as exc:
            raw(conn, "ROLLBACK TO SAVEPOINT unit")
            del hooks[hooks_before:]
            outcomes.append(_Done(error=exc))
        else:
            outcomes.append(_Done(result=result))
        raw(conn, "RELEASE SAVEPOINT unit")
    return _BatchResult(outcomes, list(hooks))


class GroupCommitWriter:
    """The single writer. ``submit`` returns once the unit's writes are committed."""

    def __init__(
        self,
        runner: BatchRunner,
        *,
        max_batch: int = 128,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        """``info`` is put into each batch's ``conn.info`` (see ``run_units``)."""
        self._runner = runner
        self._max_batch = max_batch
        self._info = info
        # None is the stop signal: everything queued before it is still committed.
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.units = 0

    @property
    def running(self) -> bool:
        """Whether the writer takes work (started, not stopping, not crashed)."""
        return self._task is not None and not self._task.done() and not self._closing

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="paycon-group-commit-writer")

    async def submit(self, work: UnitOfWork[T]) -> T:
        """Run ``work`` in the next batch and return its result once committed.

        Raises whatever ``work`` raised (its writes rolled back), or the commit's
        error (then no unit of that batch was committed).
        """
        if self._task is None or self._task.done() or self._closing:
            raise RuntimeError("the writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(work, future))
        return await future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            items = [await self._queue.get()]
            while len(items) < self._max_batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            # ``submit`` refuses work once closing, so nothing follows the stop signal.
            stopping = None in items
            batch = [item for item in items if item is not None]
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        units = [pending.work for pending in batch]
        try:
            done = await self._runner.run_in_transaction(
                lambda conn: run_units(conn, units, info=self._info)
            )
        except asyncio.CancelledError:
            for pending in batch:
                pending.future.cancel()
            raise
        except Exception as exc:
            log.exception("group commit failed", extra={"batch_size": len(batch)})
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        self.batches += 1
        self.units += len(batch)
        for hook in done.after_commit:
            try:
                hook()
            except Exception:
                log.exception("after-commit hook failed")
        for pending, outcome in zip(batch, done.outcomes, strict=True):
            if pending.future.done():  # the caller gave up waiting
                continue
            if outcome.error is not None:
                pending.future.set_exception(outcome.error)
            else:
                pending.future.set_result(outcome.result)

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        self._closing = True
        self._queue.put_nowait(None)
        try:
            await self._task
        finally:
            self._task = None
            await self._runner.close()
