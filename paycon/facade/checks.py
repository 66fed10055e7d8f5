"""Checks both operator facades make before they read or act, so both refuse the same things."""

from __future__ import annotations

from paycon.domain.errors import InvalidInput, NotFound
from paycon.models.queries import TaskQuery

MAX_SEARCH_RESULTS = 200
# Task ids are positive 64-bit integers (the API's path pattern allows 18 digits).
MAX_TASK_ID = 10**18 - 1


# The task states a replay takes (outbox.TaskState values).
REPLAYABLE_STATES = ("dead", "pending")


def replayable_state(query: TaskQuery) -> str:
    """The query's state when replays may take it (dead or pending); else InvalidInput."""
    if query.state not in REPLAYABLE_STATES:
        raise InvalidInput("only dead or pending tasks can be replayed: choose one of them")
    return query.state


def check_search_limit(limit: int) -> None:
    """InvalidInput unless 1 <= ``limit`` <= MAX_SEARCH_RESULTS."""
    if not 1 <= limit <= MAX_SEARCH_RESULTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_SEARCH_RESULTS}")


def check_task_id(task_id: int) -> None:
    """NotFound for an id no task can have (zero, negative, beyond 64 bits)."""
    if not 1 <= task_id <= MAX_TASK_ID:
        raise NotFound(f"outbox task {task_id} not found")
