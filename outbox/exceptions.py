"""The outbox's one exception tree.

Handlers raise ``PermanentError`` (the task is dead at once) or
``ResourceUnavailable`` (the task waits for the resource without using up an
attempt); any other exception is a failed attempt that is retried. Operator
actions raise ``TaskNotFound`` and ``TaskStateConflict``.
"""

from __future__ import annotations

from datetime import datetime


class OutboxError(Exception):
    """Base of every error the outbox raises on purpose."""


class PermanentError(OutboxError):
    """Raised by a handler when retrying cannot help: the task goes dead at once."""


class ResourceUnavailable(OutboxError):
    """Raised by a handler when a named resource (a gateway whose breaker is open,
    for example) cannot be used before ``until``: the task runs again then and the
    attempt is not counted."""

    def __init__(self, resource: str, until: datetime, reason: str = "") -> None:
        if until.tzinfo is None:
            raise ValueError("until must be an aware datetime")
        detail = f": {reason}" if reason else ""
        super().__init__(f"{resource} unavailable until {until.isoformat()}{detail}")
        self.resource = resource
        self.until = until
        self.reason = reason


class ConfigError(OutboxError, ValueError):
    """A pool or policy setting is out of range."""


class InvalidTask(OutboxError, ValueError):
    """A task cannot be enqueued as given (empty kind, no attempts allowed, ...)."""


class HandlerAlreadyRegistered(OutboxError):
    """A handler for this task kind was registered before."""


class PoolStateError(OutboxError):
    """The pool cannot do this in its current state (for example, start twice)."""


class TaskNotFound(OutboxError, LookupError):
    """No task has this id."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"outbox task {task_id} not found")
        self.task_id = task_id


class TaskStateConflict(OutboxError):
    """The action does not apply to a task in this state (replaying a done task, say)."""

    def __init__(self, task_id: int, state: str, action: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"cannot {action} outbox task {task_id}: it is {state} "
            f"(only {' or '.join(allowed)} tasks allow it)"
        )
        self.task_id = task_id
        self.state = state
        self.action = action
        self.allowed = allowed


class InvalidFilter(OutboxError, ValueError):
    """A task filter or cursor cannot be used as given."""


class LeaseLost(OutboxError):
    """This pool no longer holds the task's lease; another worker may be running it."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"lease on outbox task {task_id} was lost")
        self.task_id = task_id
