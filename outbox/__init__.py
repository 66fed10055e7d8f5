"""A generic transactional outbox on SQLAlchemy.

Tasks are enqueued inside the caller's own database transaction, so a task
exists exactly when the business change that needs it was committed.
"""

from outbox.enqueue import enqueue
from outbox.schema import attempts, metadata, tasks

__all__ = ["attempts", "enqueue", "metadata", "tasks"]
