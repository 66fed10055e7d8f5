"""The outbox pools inside paycon, with a handler for each task kind payments create.

Gateway work (submit, status checks) and merchant notifications run on pools
of their own: each pool claims only its own kinds, so however long merchants
take to answer, they hold notification workers only, never the gateways'.
"""

from __future__ import annotations

from outbox import Handler, Pool, PoolConfig, RetryPolicy
from paycon.config import Settings
from paycon.storage.database import Database
from paycon.storage.delivery import NOTIFY_TASK, STATUS_CHECK_TASK
from paycon.storage.payments import SUBMIT_TASK
from paycon.usecases.delivery import Delivery
from paycon.usecases.notifications import Notifications


def task_handlers(delivery: Delivery) -> dict[str, Handler]:
    """The handler per gateway task kind."""
    return {
        SUBMIT_TASK: delivery.submit,
        STATUS_CHECK_TASK: delivery.status_check,
    }


def _retry(settings: Settings) -> RetryPolicy:
    return RetryPolicy(base_s=settings.outbox.retry_base_s, max_s=settings.outbox.retry_max_s)


def build_pool(db: Database, settings: Settings, delivery: Delivery) -> Pool:
    """The gateway tasks' worker pool (``outbox.workers`` workers)."""
    config = PoolConfig(
        workers=settings.outbox.workers, lease_s=settings.outbox.lease_s, retry=_retry(settings)
    )
    return Pool(db, config, handlers=task_handlers(delivery))


def build_notify_pool(db: Database, settings: Settings, notifications: Notifications) -> Pool:
    """The notifications' worker pool: ``notify.concurrency`` deliveries at once."""
    config = PoolConfig(
        workers=settings.notify.concurrency, lease_s=settings.outbox.lease_s, retry=_retry(settings)
    )
    return Pool(db, config, handlers={NOTIFY_TASK: notifications.notify})
