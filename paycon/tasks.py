"""The outbox pool inside paycon, and the handlers this build has for its task kinds."""

from __future__ import annotations

import logging

from outbox import Done, Handler, Pool, PoolConfig, RetryPolicy, Task
from paycon.config import Settings
from paycon.storage.database import Database
from paycon.storage.payments import SUBMIT_TASK

log = logging.getLogger(__name__)


async def drain_submit(task: Task) -> Done:
    """Development only: complete a ``submit`` task without contacting any gateway.

    The transaction is left as it is (``pending``): nothing about a gateway is
    pretended. Exists so the pool and the outbox can be exercised end to end
    before gateway delivery is part of the build.
    """
    log.info(
        "submit task drained without a gateway",
        extra={"task_id": task.id, "transaction_id": task.payload.get("transaction_id")},
    )
    return Done()


def task_handlers(settings: Settings) -> dict[str, Handler]:
    """The handler per task kind this build runs."""
    handlers: dict[str, Handler] = {}
    if settings.outbox.drain_submit_tasks:
        handlers[SUBMIT_TASK] = drain_submit
    return handlers


def build_pool(db: Database, settings: Settings) -> Pool | None:
    """The worker pool for the configured handlers, or None when there are none."""
    handlers = task_handlers(settings)
    if not handlers:
        log.info("outbox: no task handlers in this build; queued tasks wait in the database")
        return None
    if settings.outbox.drain_submit_tasks:
        log.warning("outbox.drain_submit_tasks is on: submit tasks complete without a gateway")
    config = PoolConfig(
        workers=settings.outbox.workers,
        retry=RetryPolicy(base_s=settings.outbox.retry_base_s, max_s=settings.outbox.retry_max_s),
    )
    return Pool(db, config, handlers=handlers)
