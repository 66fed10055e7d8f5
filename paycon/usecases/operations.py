"""Operators' view of the outbox, and their actions on it (each audited with who and why)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import func, select

import outbox
from outbox import OutboxStats, Task, TaskDetail, TaskFilter, TaskPage, TaskState
from paycon.domain.as_of import check_as_of
from paycon.domain.errors import Conflict, InvalidInput, NotFound
from paycon.domain.reasons import check_reason
from paycon.domain.review import ReviewReason
from paycon.models.outbox import OutboxCountOut
from paycon.storage.database import Database
from paycon.storage.payments import SUBMIT_TASK
from paycon.storage.review import CARRYING_TASKS, hold_stranded


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """The outbox's errors as paycon's (404, 409, 400)."""
    try:
        yield
    except outbox.TaskNotFound as exc:
        raise NotFound(str(exc)) from exc
    except outbox.TaskStateConflict as exc:
        raise Conflict(str(exc)) from exc
    except (outbox.InvalidFilter, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc


class OutboxOperations:
    """What operators read and do with the outbox (the console and the operator API)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def stats(self) -> OutboxStats:
        """Counts by state, the oldest due task's age and recent throughput."""
        return await outbox.outbox_stats(self._db.read_engine)

    async def tasks(
        self,
        *,
        state: TaskState | None,
        kind: str | None,
        limit: int,
        cursor: str | None,
        gateway: str | None = None,
    ) -> TaskPage:
        """A page of tasks, newest first; ``gateway`` selects submit tasks bound for it
        (the tasks' resource: an index range, as every other filter).

        Raises InvalidInput for a bad cursor or limit, or a gateway with another
        kind than submit.
        """
        if gateway is not None:
            if kind not in (None, SUBMIT_TASK):
                raise InvalidInput("the gateway filter selects submit tasks; leave out the kind")
            kind = SUBMIT_TASK
        async with _translated():
            return await outbox.list_tasks(
                self._db.read_engine, state=state, kind=kind, resource=gateway, limit=limit,
                cursor=cursor,
            )  # fmt: skip

    async def task(self, task_id: int) -> TaskDetail:
        """A task with its attempts and audit trail. Raises NotFound."""
        async with _translated():
            return await outbox.get_task(self._db.read_engine, task_id)

    async def replay(self, task_id: int, *, actor: str, reason: str) -> Task:
        """A dead task runs again with fresh attempts; a scheduled one runs now.

        Raises NotFound, or Conflict for a running or done task.
        """
        check_reason(reason)
        async with _translated():
            return await outbox.replay(self._db, task_id, actor=actor, reason=reason)

    async def discard(self, task_id: int, *, actor: str, reason: str) -> Task:
        """A dead task is closed as done, its last error kept. Raises NotFound, Conflict."""
        check_reason(reason)
        async with _translated():
            task = await outbox.discard(self._db, task_id, actor=actor, reason=reason)
        if task.kind in CARRYING_TASKS:
            # Nothing will carry its payment now: a person decides its outcome.
            detail = f"{task.kind} task {task.id} discarded by {actor}: {reason}"
            transaction_id = str(task.payload.get("transaction_id", ""))
            await self._db.write(
                lambda conn: hold_stranded(
                    conn, [transaction_id], ReviewReason.TASK_DISCARDED, detail, now=task.updated_at
                )
            )
        return task

    async def count_matching(
        self, *, state: TaskState, kind: str | None, gateway: str | None
    ) -> OutboxCountOut:
        """How many tasks ``replay_matching`` with the same filter would take now.

        Tasks changed after the count's ``as_of`` are left out of it, as they are
        out of a replay given that ``as_of``. Raises InvalidInput for a state
        other than dead or pending (a count of done tasks would read the whole
        table).
        """
        if state not in (TaskState.DEAD, TaskState.PENDING):
            raise InvalidInput("only dead or pending tasks can be replayed, so only they count")
        as_of = datetime.now(UTC)
        where = _filter(state, kind, gateway, as_of=as_of)
        async with _translated(), self._db.read() as conn:
            found = await conn.execute(
                select(func.count()).select_from(outbox.tasks).where(*where.conditions())
            )
            return OutboxCountOut.counted(int(found.scalar_one()), as_of)

    async def replay_matching(
        self,
        *,
        state: TaskState,
        kind: str | None,
        gateway: str | None,
        actor: str,
        reason: str,
        as_of: datetime | None = None,
    ) -> int:
        """Replay every task matching the filter, in the database; returns how many.

        ``gateway`` selects submit tasks bound for that gateway. With the
        ``as_of`` of a ``count_matching``, tasks changed since (a task that died
        after the operator saw the count) are left alone, so the replay takes at
        most the tasks counted. Raises InvalidInput for a state other than dead
        or pending, a gateway with another kind, or an ``as_of`` without a zone.
        """
        check_reason(reason)
        check_as_of(as_of)
        where = _filter(state, kind, gateway, as_of=as_of)
        async with _translated():
            return await outbox.replay_matching(self._db, where, actor=actor, reason=reason)


def _filter(
    state: TaskState, kind: str | None, gateway: str | None, *, as_of: datetime | None
) -> TaskFilter:
    """The outbox filter in operators' terms. Raises InvalidInput for a gateway and another kind."""
    if gateway is None:
        return TaskFilter(state=state, kind=kind, unchanged_since=as_of)
    if kind not in (None, SUBMIT_TASK):
        raise InvalidInput("the gateway filter selects submit tasks; leave out the kind")
    return TaskFilter(
        state=state,
        kind=SUBMIT_TASK,
        resource=gateway,
        unchanged_since=as_of,
    )
