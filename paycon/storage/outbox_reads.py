"""Outbox reads in paycon's terms: the tasks that carry one transaction, and what
the runs of its submit task prove about reaching the gateway. Index lookups,
with a million tasks in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from outbox import Task
from outbox import attempts as outbox_attempts
from outbox import tasks as outbox_tasks
from paycon.storage.delivery import NOTIFY_TASK, STATUS_CHECK_TASK
from paycon.storage.payments import submit_dedupe_prefix


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


# A run that may have reached the gateway: any whose attempt does not say it provably
# did not (``touched`` false: the handler deferred, or nothing was sent). A run lost
# with its worker, released at shutdown or still unfinished says nothing: it may have.
_MAY_HAVE_SENT = outbox_attempts.c.touched.is_not(False)


def submit_never_ran_past(conn: Connection, transaction_id: str, gateway: str) -> bool:
    """Whether the submit task bound for ``gateway`` exists and every run of it
    stopped before a request could reach the gateway (each attempt says so).

    Two index lookups, however many runs the task had.
    """
    task_id = _submit_task_id(conn, transaction_id, gateway)
    if task_id is None:
        return False
    other_run = conn.execute(
        select(outbox_attempts.c.id)
        .where(outbox_attempts.c.task_id == task_id, _MAY_HAVE_SENT)
        .limit(1)
    ).first()
    return other_run is None


def last_send_ended_at(conn: Connection, transaction_id: str, gateway: str) -> datetime | None:
    """When the last run of the submit task bound for ``gateway`` that may have reached
    it ended (None when no run may have)."""
    task_id = _submit_task_id(conn, transaction_id, gateway)
    if task_id is None:
        return None
    ended: datetime | None = conn.execute(
        select(func.max(outbox_attempts.c.finished_at)).where(
            outbox_attempts.c.task_id == task_id, _MAY_HAVE_SENT
        )
    ).scalar_one_or_none()
    return ended
