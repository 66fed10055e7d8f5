"""Outbox reads in paycon's terms: the tasks that carry one transaction, and
submit tasks bound for one gateway. Both stay index lookups or bounded index
ranges with a million tasks in the table.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from outbox import AttemptOutcome, Task, TaskPage, TaskState
from outbox import attempts as outbox_attempts
from outbox import tasks as outbox_tasks
from paycon.storage.delivery import NOTIFY_TASK, STATUS_CHECK_TASK
from paycon.storage.payments import SUBMIT_TASK, submit_dedupe_prefix

# How many submit tasks of one state a gateway-filtered page looks at, at most.
# A page can hold fewer matches than asked for; its cursor then goes on from
# where the look stopped, so no page ever reads more than this many index rows.
GATEWAY_SCAN_ROWS = 5000


def transaction_dedupe_keys(transaction_id: str, route: Sequence[str]) -> list[str]:
    """The dedupe keys of every task that may carry ``transaction_id``.

    One submit and one status check per gateway of its route, and the
    merchant notification (see ``paycon.storage.payments`` and ``delivery``).
    """
    keys = [submit_dedupe_prefix(gateway) + transaction_id for gateway in route]
    keys += [f"{STATUS_CHECK_TASK}:{gateway}:{transaction_id}" for gateway in route]
    keys.append(f"{NOTIFY_TASK}:{transaction_id}")
    return keys


async def tasks_by_dedupe_keys(conn: AsyncConnection, keys: Sequence[str]) -> list[Task]:
    """The tasks with these dedupe keys (the unique index), oldest first."""
    if not keys:
        return []
    rows = await conn.execute(
        select(outbox_tasks)
        .where(outbox_tasks.c.dedupe_key.in_(list(keys)))
        .order_by(outbox_tasks.c.id)
        .limit(len(keys))
    )
    return [Task.from_row(row) for row in rows.mappings()]


def _submit_task_id(conn: Connection, transaction_id: str, gateway: str) -> int | None:
    return conn.execute(
        select(outbox_tasks.c.id).where(
            outbox_tasks.c.dedupe_key == submit_dedupe_prefix(gateway) + transaction_id
        )
    ).scalar_one_or_none()


def _may_have_sent(not_reached: Collection[str]) -> ColumnElement[bool]:
    """A finished run that may have reached the gateway: any but a deferred one or one
    that failed with a ``not_reached`` error (qualified class names, as attempts store them)."""
    outcome = func.coalesce(outbox_attempts.c.outcome, "")
    stopped_before_sending = or_(
        outcome == AttemptOutcome.DEFERRED.value,
        and_(
            outcome.in_([AttemptOutcome.RETRY.value, AttemptOutcome.DEAD.value]),
            func.coalesce(outbox_attempts.c.error_class, "").in_(list(not_reached)),
        ),
    )
    return ~stopped_before_sending


def submit_never_ran_past(
    conn: Connection, transaction_id: str, gateway: str, *, not_reached: Collection[str]
) -> bool:
    """Whether the submit task bound for ``gateway`` exists and every finished run of
    it stopped before a request could reach the gateway.

    Such a run was deferred (the handler defers only when the gateway was not
    reached or refused our credentials before taking anything), or failed with
    one of the ``not_reached`` errors. Any other run — done, retried or dead
    for another error, lost with its worker, released at shutdown — may have
    sent it. Two index lookups, however many runs the task had.
    """
    task_id = _submit_task_id(conn, transaction_id, gateway)
    if task_id is None:
        return False
    other_run = conn.execute(
        select(outbox_attempts.c.id)
        .where(outbox_attempts.c.task_id == task_id, _may_have_sent(not_reached))
        .limit(1)
    ).first()
    return other_run is None


def last_send_ended_at(
    conn: Connection, transaction_id: str, gateway: str, *, not_reached: Collection[str]
) -> datetime | None:
    """When the last run of the submit task bound for ``gateway`` that may have reached
    it ended (None when no run may have)."""
    task_id = _submit_task_id(conn, transaction_id, gateway)
    if task_id is None:
        return None
    ended: datetime | None = conn.execute(
        select(func.max(outbox_attempts.c.finished_at)).where(
            outbox_attempts.c.task_id == task_id, _may_have_sent(not_reached)
        )
    ).scalar_one_or_none()
    return ended


async def gateway_task_page(
    conn: AsyncConnection,
    *,
    gateway: str,
    state: TaskState | None,
    limit: int,
    before: int | None,
) -> TaskPage:
    """Submit tasks bound for ``gateway``, newest first, of one state or any.

    Reads the (kind, state, id) index newest first, at most
    ``GATEWAY_SCAN_ROWS`` rows per state, and keeps those whose dedupe key
    names the gateway. ``next_cursor`` is None only when every state's range
    is exhausted.
    """
    prefix = submit_dedupe_prefix(gateway)
    states = [state] if state is not None else list(TaskState)
    found: list[tuple[int, str | None]] = []
    # Where each state's look stopped without reaching its end (None: it reached it).
    stops: list[int] = []
    for one_state in states:
        query = select(outbox_tasks.c.id, outbox_tasks.c.dedupe_key).where(
            outbox_tasks.c.kind == SUBMIT_TASK, outbox_tasks.c.state == one_state.value
        )
        if before is not None:
            query = query.where(outbox_tasks.c.id < before)
        rows = (
            await conn.execute(query.order_by(outbox_tasks.c.id.desc()).limit(GATEWAY_SCAN_ROWS))
        ).all()
        found += [(row.id, row.dedupe_key) for row in rows]
        if len(rows) == GATEWAY_SCAN_ROWS:
            stops.append(rows[-1].id)
    # Past the highest place a look stopped, later ids of that state were not read.
    floor = max(stops) if stops else None
    matching = sorted(
        (task_id for task_id, key in found
         if key is not None and key.startswith(prefix) and (floor is None or task_id >= floor)),
        reverse=True,
    )  # fmt: skip
    page_ids = matching[:limit]
    if len(matching) > limit:
        next_cursor: str | None = str(page_ids[-1])
    elif floor is not None:
        next_cursor = str(floor)
    else:
        next_cursor = None
    if not page_ids:
        return TaskPage(items=(), next_cursor=next_cursor)
    chosen = await conn.execute(
        select(outbox_tasks)
        .where(outbox_tasks.c.id.in_(page_ids))
        .order_by(outbox_tasks.c.id.desc())
    )
    items = tuple(Task.from_row(row) for row in chosen.mappings())
    return TaskPage(items=items, next_cursor=next_cursor)
