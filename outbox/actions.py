"""Operator actions: look at tasks, replay, run now, discard. Every change is audited.

Reads take an ``AsyncEngine`` (read-only connections); changes go through the
``Writer`` as units of work, so they commit with the rest of the process's
writes. Actions that make a task due wake this process's idle pools.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from outbox import wakeup
from outbox.counters import DONE_COUNTER, add_to_counter
from outbox.exceptions import InvalidFilter, TaskNotFound, TaskStateConflict
from outbox.runs import utcnow
from outbox.schema import attempts, audit, tasks
from outbox.tasks import (
    Attempt,
    AuditEntry,
    Task,
    TaskDetail,
    TaskPage,
    TaskState,
    task_id_from_text,
)
from outbox.writer import Writer, call_after_commit

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
# Bulk replays commit this many tasks per write, so the writer is never held long.
REPLAY_CHUNK = 1000
MAX_ACTOR_CHARS = 64


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks a bulk replay takes; every field is matched without reading payloads.

    ``state`` is ``dead`` (replayed with fresh attempts) or ``pending`` (made
    due now). ``resource`` matches the resource named at enqueue (an index
    range); ``dedupe_key_prefix`` the start of the dedupe key;
    ``error_contains`` a substring of the last error;
    ``unchanged_since`` leaves out tasks changed after that moment, so a replay
    bound to the moment of a count never takes a task that died since.
    """

    state: TaskState = TaskState.DEAD
    kind: str | None = None
    resource: str | None = None
    dedupe_key_prefix: str | None = None
    error_contains: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    unchanged_since: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions on ``outbox_tasks``."""
        found: list[ColumnElement[bool]] = [tasks.c.state == self.state.value]
        if self.kind is not None:
            found.append(tasks.c.kind == self.kind)
        if self.resource is not None:
            found.append(tasks.c.resource == self.resource)
        if self.dedupe_key_prefix is not None:
            found.append(tasks.c.dedupe_key.startswith(self.dedupe_key_prefix, autoescape=True))
        if self.error_contains is not None:
            found.append(tasks.c.last_error.contains(self.error_contains, autoescape=True))
        if self.created_after is not None:
            found.append(tasks.c.created_at >= self.created_after)
        if self.created_before is not None:
            found.append(tasks.c.created_at < self.created_before)
        if self.unchanged_since is not None:
            found.append(tasks.c.updated_at <= self.unchanged_since)
        return found

    def describe(self) -> str:
        """The filter as JSON, for the audit trail."""
        fields = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps(fields, default=str, sort_keys=True)


# --- reading ----------------------------------------------------------------


async def get_task(engine: AsyncEngine, task_id: int) -> TaskDetail:
    """The task with its attempts and audit trail, oldest first.

    Raises TaskNotFound.
    """
    async with engine.connect() as conn:
        row = (await conn.execute(select(tasks).where(tasks.c.id == task_id))).mappings().first()
        if row is None:
            raise TaskNotFound(task_id)
        runs = await conn.execute(
            select(attempts).where(attempts.c.task_id == task_id).order_by(attempts.c.id)
        )
        trail = await conn.execute(
            select(audit).where(audit.c.task_id == task_id).order_by(audit.c.id)
        )
        return TaskDetail(
            task=Task.from_row(row),
            attempts=tuple(Attempt.from_row(r) for r in runs.mappings()),
            audit=tuple(AuditEntry.from_row(r) for r in trail.mappings()),
        )


async def list_tasks(
    engine: AsyncEngine,
    *,
    state: TaskState | None = None,
    kind: str | None = None,
    resource: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> TaskPage:
    """A page of tasks, newest first, optionally of one state, kind and/or resource.

    Every page is an index range of at most ``limit + 1`` rows (per state when
    no state is given), whatever the table's size; with both a kind and a
    resource, the resource's range is read and other kinds skipped. Raises
    InvalidFilter for a limit outside 1..500 or a cursor this function did not
    hand out.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidFilter(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    before = _parse_cursor(cursor)
    async with engine.connect() as conn:
        if (kind is not None or resource is not None) and state is None:
            # The (kind, state, id) and (resource, state, id) indexes order by id
            # within one state: read each state's newest and merge.
            pages = [await _page(conn, s, kind, resource, before, limit + 1) for s in TaskState]
            rows = list(heapq.merge(*pages, key=lambda t: t.id, reverse=True))[: limit + 1]
        else:
            rows = await _page(conn, state, kind, resource, before, limit + 1)
    items = tuple(rows[:limit])
    next_cursor = str(items[-1].id) if len(rows) > limit else None
    return TaskPage(items=items, next_cursor=next_cursor)


def _parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    before = task_id_from_text(cursor)
    if before is None:
        raise InvalidFilter("cursor is not one this list handed out")
    return before


async def _page(
    conn: AsyncConnection,
    state: TaskState | None,
    kind: str | None,
    resource: str | None,
    before: int | None,
    size: int,
) -> list[Task]:
    stmt: Select[Any] = select(tasks)
    if state is not None:
        stmt = stmt.where(tasks.c.state == state.value)
    if kind is not None:
        stmt = stmt.where(tasks.c.kind == kind)
    if resource is not None:
        stmt = stmt.where(tasks.c.resource == resource)
    if before is not None:
        stmt = stmt.where(tasks.c.id < before)
    stmt = stmt.order_by(tasks.c.id.desc()).limit(size)
    return [Task.from_row(row) for row in (await conn.execute(stmt)).mappings()]


# --- changing ---------------------------------------------------------------


async def replay(writer: Writer, task_id: int, *, actor: str, reason: str) -> Task:
    """Make a task run again: a dead one from scratch (attempts back to 0), a
    pending one now. Wakes idle pools. Audited.

    Raises TaskNotFound, TaskStateConflict for a running or done task, and
    ValueError for an empty actor.
    """
    _check_actor(actor)
    return await writer.write(partial(_replay_one, task_id=task_id, actor=actor, reason=reason))


async def run_now(writer: Writer, task_id: int, *, actor: str, reason: str) -> Task:
    """Make a pending (scheduled or waiting on a retry) task due now. Audited.

    Raises TaskNotFound, TaskStateConflict when the task is not pending, and
    ValueError for an empty actor.
    """
    _check_actor(actor)
    return await writer.write(partial(_run_now_one, task_id=task_id, actor=actor, reason=reason))


async def discard(writer: Writer, task_id: int, *, actor: str, reason: str) -> Task:
    """Close a dead task as done without running it (someone dealt with it by
    hand). Its last error is kept. Audited.

    Raises TaskNotFound, TaskStateConflict when the task is not dead, and
    ValueError for an empty actor or reason.
    """
    _check_actor(actor)
    if not reason.strip():
        raise ValueError("a discard needs a reason")
    return await writer.write(partial(_discard_one, task_id=task_id, actor=actor, reason=reason))


async def replay_matching(
    writer: Writer, task_filter: TaskFilter, *, actor: str, reason: str
) -> int:
    """Replay every task the filter matches, in the database, without loading
    them: dead ones from scratch, pending ones now. Returns how many. Each task
    gets an audit entry, and the whole action one more (with the filter and
    count). Commits in chunks of 1,000; tasks that stop matching meanwhile
    (a dead task someone replayed) are skipped.

    Raises InvalidFilter for a state other than dead or pending, and
    ValueError for an empty actor.
    """
    _check_actor(actor)
    if task_filter.state not in (TaskState.DEAD, TaskState.PENDING):
        raise InvalidFilter("only dead or pending tasks can be replayed")
    total = 0
    after = 0
    while True:
        count, after = await writer.write(
            partial(
                _replay_chunk,
                task_filter=task_filter,
                after_id=after,
                actor=actor,
                reason=reason,
            )
        )
        total += count
        if count < REPLAY_CHUNK:
            break
    await writer.write(
        partial(
            _audit,
            task_id=None,
            action="replay_matching",
            actor=actor,
            reason=reason,
            detail=json.dumps({"filter": json.loads(task_filter.describe()), "count": total}),
        )
    )
    return total


def _check_actor(actor: str) -> None:
    if not 0 < len(actor.strip()) <= MAX_ACTOR_CHARS:
        raise ValueError(f"actor must be 1 to {MAX_ACTOR_CHARS} characters")


def _load(conn: Connection, task_id: int) -> Task:
    row = (
        conn.execute(select(tasks).where(tasks.c.id == task_id).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        raise TaskNotFound(task_id)
    return Task.from_row(row)


def _refuse(task: Task, action: str, allowed: Sequence[TaskState]) -> None:
    if task.state not in allowed:
        raise TaskStateConflict(task.id, task.state.value, action, tuple(s.value for s in allowed))


def _replay_one(conn: Connection, *, task_id: int, actor: str, reason: str) -> Task:
    task = _load(conn, task_id)
    _refuse(task, "replay", (TaskState.DEAD, TaskState.PENDING))
    now = utcnow()
    changes = _replay_values(task.state, now)
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(**changes))
    _audit(
        conn,
        task_id=task_id,
        action="replay",
        actor=actor,
        reason=reason,
        detail=f"was {task.state.value}",
    )
    call_after_commit(conn, wakeup.notify)
    return task.evolve(**changes)


def _run_now_one(conn: Connection, *, task_id: int, actor: str, reason: str) -> Task:
    task = _load(conn, task_id)
    _refuse(task, "run now", (TaskState.PENDING,))
    now = utcnow()
    changes = _replay_values(TaskState.PENDING, now)
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(**changes))
    _audit(conn, task_id=task_id, action="run_now", actor=actor, reason=reason, detail=None)
    call_after_commit(conn, wakeup.notify)
    return task.evolve(**changes)


def _discard_one(conn: Connection, *, task_id: int, actor: str, reason: str) -> Task:
    task = _load(conn, task_id)
    _refuse(task, "discard", (TaskState.DEAD,))
    changes = {"state": TaskState.DONE, "updated_at": utcnow()}
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(**changes))
    add_to_counter(conn, DONE_COUNTER, 1)
    _audit(conn, task_id=task_id, action="discard", actor=actor, reason=reason, detail=None)
    return task.evolve(**changes)


def _replay_values(state: TaskState, now: datetime) -> dict[str, Any]:
    """A dead task starts over; a pending one is just made due."""
    changes: dict[str, Any] = {"run_at": now, "updated_at": now}
    if state is TaskState.DEAD:
        changes.update(state=TaskState.PENDING, attempts=0, lease_owner=None, lease_expires_at=None)
    return changes


def _replay_chunk(
    conn: Connection, *, task_filter: TaskFilter, after_id: int, actor: str, reason: str
) -> tuple[int, int]:
    """Replay the next chunk of matching tasks with ids above ``after_id``;
    returns (how many, the last id seen)."""
    ids = list(
        conn.execute(
            select(tasks.c.id)
            .where(*task_filter.conditions(), tasks.c.id > after_id)
            .order_by(tasks.c.id)
            .limit(REPLAY_CHUNK)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not ids:
        return 0, after_id
    now = utcnow()
    conn.execute(
        update(tasks).where(tasks.c.id.in_(ids)).values(**_replay_values(task_filter.state, now))
    )
    detail = f"{task_filter.state.value}; bulk {task_filter.describe()}"
    conn.execute(
        insert(audit),
        [
            {
                "at": now,
                "actor": actor,
                "action": "replay",
                "task_id": task_id,
                "reason": reason,
                "detail": detail,
            }
            for task_id in ids
        ],
    )
    call_after_commit(conn, wakeup.notify)
    return len(ids), ids[-1]


def _audit(
    conn: Connection,
    *,
    task_id: int | None,
    action: str,
    actor: str,
    reason: str,
    detail: str | None,
) -> None:
    conn.execute(
        insert(audit),
        {
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "task_id": task_id,
            "reason": reason,
            "detail": detail,
        },
    )
