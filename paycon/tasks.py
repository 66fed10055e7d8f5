"""The outbox pool inside paycon, with a handler for each task kind payments create."""

from __future__ import annotations

from outbox import Handler, Pool, PoolConfig, RetryPolicy
from paycon.config import Settings
from paycon.storage.database import Database
from paycon.storage.delivery import NOTIFY_TASK, STATUS_CHECK_TASK
from paycon.storage.payments import SUBMIT_TASK
from paycon.usecases.delivery import Delivery


def task_handlers(delivery: Delivery) -> dict[str, Handler]:
    """The handler per task kind."""
    return {
        SUBMIT_TASK: delivery.submit,
        STATUS_CHECK_TASK: delivery.status_check,
        NOTIFY_TASK: delivery.notify,
    }


def build_pool(db: Database, settings: Settings, delivery: Delivery) -> Pool:
    """The worker pool, configured from the settings."""
    config = PoolConfig(
        workers=settings.outbox.workers,
        retry=RetryPolicy(base_s=settings.outbox.retry_base_s, max_s=settings.outbox.retry_max_s),
    )
    return Pool(db, config, handlers=task_handlers(delivery))
