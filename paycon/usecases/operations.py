"""Operators' view of the outbox."""

from __future__ import annotations

from outbox import OutboxStats, outbox_stats
from paycon.storage.database import Database


class OutboxOperations:
    """What operators read and do with the outbox (the console and the operator API)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def stats(self) -> OutboxStats:
        """Counts by state, the oldest due task's age and recent throughput."""
        return await outbox_stats(self._db.read_engine)
