"""Payments that need a person: the review list, resolving one, and the watch that
holds stranded payments (a dead or discarded task, in flight too long)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection

from paycon.domain.errors import InvalidInput
from paycon.domain.ids import id_bound_at
from paycon.domain.reasons import check_reason
from paycon.domain.review import ReviewReason
from paycon.domain.status import Status
from paycon.domain.transactions import Transaction
from paycon.storage import queries
from paycon.storage.database import Database
from paycon.storage.review import (
    DeadTask,
    ResolveRequest,
    dead_carrying_tasks,
    hold_stranded,
    in_flight_before,
    resolve_held,
)

log = logging.getLogger(__name__)

# How many stranded payments one look of the watch holds at most (the next look goes on).
WATCH_BATCH = 500


def _now() -> datetime:
    return datetime.now(UTC)


class ReviewDesk:
    """Operators' decisions on payments held for review."""

    def __init__(
        self, db: Database, *, max_attempts: int, clock: Callable[[], datetime] = _now
    ) -> None:
        self._db = db
        self._max_attempts = max_attempts
        self._clock = clock

    async def resolve(
        self, transaction_id: str, status: Status, *, reason: str, actor: str
    ) -> Transaction:
        """Book ``status`` as the held payment's outcome, lift the hold, audited; returns
        the payment as it is now.

        Raises InvalidInput for a blank or unprintable reason or a status other
        than completed or failed, NotFound, and Conflict when the payment is not
        held (already resolved) or the booking is refused (see
        ``paycon.storage.review.resolve_held``).
        """
        check_reason(reason)
        if status not in (Status.COMPLETED, Status.FAILED):
            raise InvalidInput("a held payment is resolved as completed or failed")
        request = ResolveRequest(transaction_id, status, reason, actor)
        now = self._clock()
        await self._db.write(
            lambda conn: resolve_held(conn, request, now=now, max_attempts=self._max_attempts)
        )
        transaction = await self._db.lookup(
            lambda conn: queries.find_transaction(conn, transaction_id)
        )
        assert transaction is not None  # it was just resolved
        log.info(
            "held payment resolved",
            extra={"transaction_id": transaction_id, "status": transaction.status.value,
                   "actor": actor},
        )  # fmt: skip
        return transaction


def _hold_for_dead_task(conn: Connection, *, task: DeadTask, now: datetime) -> int:
    detail = f"{task.kind} task {task.task_id} is dead: {task.last_error or 'no error'}"
    return hold_stranded(conn, [task.transaction_id], ReviewReason.TASK_DEAD, detail, now=now)


class ReviewWatch:
    """Holds payments nothing else will move: the task carrying them died (or was
    discarded), or they have been in flight longer than ``in_flight_max_age_s``.

    One look reads two indexed ranges; run it every ``every_s`` with ``keep_watching``.
    """

    def __init__(
        self,
        db: Database,
        *,
        in_flight_max_age_s: float,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._max_age = timedelta(seconds=in_flight_max_age_s)
        self._clock = clock
        # Dead tasks changed after this were not looked at yet (per process; holding is
        # idempotent, so another process looking too is harmless).
        self._dead_seen_until: datetime | None = None

    async def look(self) -> int:
        """Hold what is stranded now; returns how many payments became held."""
        now = self._clock()
        dead = await self._db.lookup(
            lambda conn: dead_carrying_tasks(
                conn, changed_since=self._dead_seen_until, limit=WATCH_BATCH
            )
        )
        held = 0
        for task in dead:
            held += await self._db.write(partial(_hold_for_dead_task, task=task, now=now))
        if dead:
            self._dead_seen_until = dead[-1].updated_at
        bound = id_bound_at(now - self._max_age)
        old = await self._db.lookup(lambda conn: in_flight_before(conn, bound, limit=WATCH_BATCH))
        if old:
            detail = f"still in flight {self._max_age.total_seconds():.0f} s after acceptance"
            held += await self._db.write(
                lambda conn: hold_stranded(
                    conn, old, ReviewReason.IN_FLIGHT_TOO_LONG, detail, now=now
                )
            )
        if held:
            log.warning("payments held for review", extra={"held": held})
        return held

    async def keep_watching(self, stop: asyncio.Event, *, every_s: float) -> None:
        """Look every ``every_s`` until ``stop`` is set; a failed look is logged and retried."""
        while not stop.is_set():
            try:
                await self.look()
            except Exception:
                log.exception("review watch: a look failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
