"""A generic transactional outbox on SQLAlchemy.

Tasks are enqueued inside the caller's own database transaction, so a task
exists exactly when the business change that needs it was committed. A
``Pool`` claims due tasks with a lease, runs the handler registered for
their kind, and records each outcome: done (with the handler's writes in the
same transaction), retry with backoff, defer without using an attempt, or
dead. Operator actions replay, run now and discard tasks, with an audit trail.
"""

from outbox.actions import (
    TaskFilter,
    discard,
    get_task,
    list_tasks,
    replay,
    replay_matching,
    run_now,
)
from outbox.config import PoolConfig
from outbox.enqueue import enqueue
from outbox.exceptions import (
    ConfigError,
    HandlerAlreadyRegistered,
    InvalidFilter,
    InvalidTask,
    LeaseLost,
    OutboxError,
    PermanentError,
    PoolStateError,
    ResourceUnavailable,
    TaskNotFound,
    TaskStateConflict,
)
from outbox.outcomes import Defer, Done, Handler, HandlerResult, Retry
from outbox.pool import Pool, PoolSnapshot
from outbox.retention import prune
from outbox.retry import Decision, RetryPolicy
from outbox.schema import attempts, audit, counters, metadata, tasks
from outbox.stats import OutboxStats, outbox_stats
from outbox.tasks import (
    MAX_TASK_ID,
    Attempt,
    AttemptOutcome,
    AuditEntry,
    Task,
    TaskDetail,
    TaskPage,
    TaskState,
    task_id_from_text,
)
from outbox.writer import Writer

__all__ = [
    "MAX_TASK_ID",
    "Attempt",
    "AttemptOutcome",
    "AuditEntry",
    "ConfigError",
    "Decision",
    "Defer",
    "Done",
    "Handler",
    "HandlerAlreadyRegistered",
    "HandlerResult",
    "InvalidFilter",
    "InvalidTask",
    "LeaseLost",
    "OutboxError",
    "OutboxStats",
    "PermanentError",
    "Pool",
    "PoolConfig",
    "PoolSnapshot",
    "PoolStateError",
    "ResourceUnavailable",
    "Retry",
    "RetryPolicy",
    "Task",
    "TaskDetail",
    "TaskFilter",
    "TaskNotFound",
    "TaskPage",
    "TaskState",
    "TaskStateConflict",
    "Writer",
    "attempts",
    "audit",
    "counters",
    "discard",
    "enqueue",
    "get_task",
    "list_tasks",
    "metadata",
    "outbox_stats",
    "prune",
    "replay",
    "replay_matching",
    "run_now",
    "task_id_from_text",
    "tasks",
]
