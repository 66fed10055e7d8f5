"""The ledger's invariants, checked in the service: every minute, on what changed.

The first look checks the whole ledger; each later one the entries booked and
the accounts moved since the previous look began (less an overlap, for
writes that committed after a look read past them), plus every break still
open (so a break is counted until it is repaired). The count goes to
``paycon_ledger_breaks`` and to the console's overview.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from paycon.storage.database import Database
from paycon.storage.ledger_check import Break, verify

log = logging.getLogger(__name__)

# A write is committed well within this after it took its time stamp.
OVERLAP = timedelta(seconds=60)


class LedgerWatch:
    """Looks for ledger breaks; ``breaks`` are the ones found by the last look."""

    def __init__(
        self,
        db: Database,
        report: Callable[[int], None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._report = report
        self._clock = clock
        self._last_look: datetime | None = None
        self.breaks: list[Break] = []

    async def look(self) -> list[Break]:
        """One check (whole the first time, then incremental); reports and returns the breaks."""
        started = self._clock()
        since = None if self._last_look is None else self._last_look - OVERLAP
        known = list(self.breaks)

        def check(conn: Connection) -> list[Break]:
            return verify(conn, since=since, recheck=known)

        async with self._db.snapshot() as conn:  # its statements must agree
            found = await conn.run_sync(check)
        new = [b for b in found if b not in known]
        for broken in new:
            log.error("ledger break: %s", broken.line())
        self.breaks = found
        self._last_look = started
        self._report(len(found))
        return found

    async def keep_watching(self, stop: asyncio.Event, *, every_s: float) -> None:
        """Look every ``every_s`` until ``stop`` is set; a failed look is logged and retried."""
        while not stop.is_set():
            try:
                await self.look()
            except Exception:
                log.exception("ledger watch: a look failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
