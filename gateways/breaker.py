"""One circuit breaker per gateway: pybreaker's state machine, usable around awaits.

``GatewayBreaker.guard()`` wraps one call. Inside it runs
``with breaker.calling():``, which pybreaker allows around any code, awaits
included, so an async call counts exactly like a sync one. What counts:

- a failure: anything that escapes the call except a decline or a refused
  request — not reached, transient, ambiguous (a 5xx included), a garbled
  answer, refused credentials (401/403), and a cancellation (the caller gave up
  waiting, which is what a slow gateway looks like);
- a success: an answer, a 404 on status, a decline, a refused request (the
  gateway worked; it said no to this request, not to every request).

Refused credentials count as failures on purpose: the breaker protects against
a gateway we cannot use, and one that refuses our credentials is exactly that,
for every payment alike, until someone fixes them. Opening it stops us
presenting refused credentials on every task (a provider may lock an account
that keeps failing to authenticate) and gives callers a time to wait until
(``may_half_open_at``); the half-open trial finds out when they work again.

While open, calls are refused at once with ``GatewayBreakerOpen`` carrying
``retry_at``. After ``reset_timeout_s`` one trial call is let through
(half-open); others are refused until it ends, so a recovering gateway is not
hit by the whole backlog at once. The trial's success closes the breaker; its
failure opens it again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import pybreaker

from gateways.errors import (
    GatewayBreakerOpen,
    GatewayDeclined,
    GatewayError,
    GatewayRequestRefused,
    Operation,
)

logger = logging.getLogger(__name__)

BreakerStateName = Literal["closed", "open", "half_open"]
_STATE_NAMES: dict[str, BreakerStateName] = {
    pybreaker.STATE_CLOSED: "closed",
    pybreaker.STATE_OPEN: "open",
    pybreaker.STATE_HALF_OPEN: "half_open",
}
# While a half-open trial is in flight, others come back this soon at most.
_TRIAL_WAIT_S = 1.0
# Coherent refusals of one request: the gateway is working.
_ANSWERED_NO: tuple[type[GatewayError], ...] = (GatewayDeclined, GatewayRequestRefused)


@dataclass(frozen=True)
class BreakerState:
    """A snapshot of one gateway's breaker.

    ``failures`` counts consecutive failures (failed trials go on counting past
    ``fail_max``); ``opened_at`` is when it last opened (``None`` while closed),
    again after each failed trial; ``may_half_open_at`` is when an open breaker
    lets a trial call through (``None`` unless open). ``open_since`` is when it
    first opened and has not closed since, and ``failed_trials`` how many trial
    calls failed since then (``None`` and 0 while closed). Times are aware UTC.
    """

    state: BreakerStateName
    failures: int
    fail_max: int
    reset_timeout_s: float
    opened_at: datetime | None
    may_half_open_at: datetime | None
    open_since: datetime | None = None
    failed_trials: int = 0


class GatewayBreaker:
    """A ``pybreaker.CircuitBreaker`` named after the gateway, with async-aware guarding.

    Raises ``ValueError`` if ``fail_max`` < 1 or ``reset_timeout_s`` <= 0.
    """

    def __init__(self, name: str, *, fail_max: int, reset_timeout_s: float) -> None:
        if fail_max < 1:
            raise ValueError("fail_max must be at least 1")
        if reset_timeout_s <= 0:
            raise ValueError("reset_timeout_s must be positive")
        self.name = name
        # Kept to read when it opened without reaching into the breaker's privates.
        self._storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._streak = _OpenStreak(self._storage)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout_s,
            state_storage=self._storage,
            listeners=[_LoggingListener(), self._streak],
            name=name,
            # The call that trips the breaker raises its own error: the caller must
            # still know whether that request was ambiguous.
            throw_new_error_on_trip=False,
        )
        self._trial_in_flight = False

    @contextlib.asynccontextmanager
    async def guard(self, operation: Operation) -> AsyncIterator[None]:
        """Run the body as one call through the breaker.

        Raises ``GatewayBreakerOpen`` before the body runs if the breaker is open
        (or a half-open trial is already in flight); otherwise re-raises whatever
        the body raises, after counting it.
        """
        trial = self._breaker.current_state != pybreaker.STATE_CLOSED
        if trial and self._trial_in_flight:
            raise self._open_error(operation, _now() + timedelta(seconds=self._trial_wait_s))
        declined: GatewayError | None = None
        # No await between the check above and entering the breaker: in asyncio
        # that makes "check, then claim the trial" atomic.
        if trial:
            self._trial_in_flight = True
        try:
            with contextlib.ExitStack() as stack:
                try:
                    stack.enter_context(self._breaker.calling())
                except pybreaker.CircuitBreakerError as exc:
                    raise self._open_error(operation, self._retry_at()) from exc
                try:
                    yield
                except _ANSWERED_NO as exc:
                    declined = exc  # a coherent "no" leaves the breaker as a success
        finally:
            if trial:
                self._trial_in_flight = False
        if declined is not None:
            raise declined

    def snapshot(self) -> BreakerState:
        """The breaker's state now."""
        state = _STATE_NAMES[self._breaker.current_state]
        opened_at = self._storage.opened_at if state != "closed" else None
        return BreakerState(
            state=state,
            failures=self._breaker.fail_counter,
            fail_max=self._breaker.fail_max,
            reset_timeout_s=self._breaker.reset_timeout,
            opened_at=opened_at,
            may_half_open_at=self._retry_at() if state == "open" else None,
            open_since=(self._streak.since or opened_at) if state != "closed" else None,
            failed_trials=self._streak.failed_trials if state != "closed" else 0,
        )

    @property
    def _trial_wait_s(self) -> float:
        return min(self._breaker.reset_timeout, _TRIAL_WAIT_S)

    def _retry_at(self) -> datetime:
        opened_at = self._storage.opened_at or _now()
        return opened_at + timedelta(seconds=self._breaker.reset_timeout)

    def _open_error(self, operation: Operation, retry_at: datetime) -> GatewayBreakerOpen:
        return GatewayBreakerOpen(
            f"{self.name}: circuit breaker open until {retry_at.isoformat()}",
            gateway=self.name,
            operation=operation,
            retry_at=retry_at,
        )


class _OpenStreak(pybreaker.CircuitBreakerListener):
    """Since when the breaker has been open without closing, and how many trials failed."""

    def __init__(self, storage: pybreaker.CircuitMemoryStorage) -> None:
        self._storage = storage  # pybreaker sets its opened_at before telling listeners
        self.since: datetime | None = None
        self.failed_trials = 0

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        old = old_state.name if old_state else None
        if new_state.name == pybreaker.STATE_CLOSED:
            self.since, self.failed_trials = None, 0
        elif new_state.name == pybreaker.STATE_OPEN:
            if old == pybreaker.STATE_HALF_OPEN and self.since is not None:
                self.failed_trials += 1
            elif self.since is None:
                self.since, self.failed_trials = self._storage.opened_at or _now(), 0


class _LoggingListener(pybreaker.CircuitBreakerListener):
    """Logs every state change: operators need to see a gateway drop out and come back."""

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        old = _STATE_NAMES.get(old_state.name, old_state.name) if old_state else None
        new = _STATE_NAMES.get(new_state.name, new_state.name)
        level = logging.WARNING if new == "open" else logging.INFO
        logger.log(
            level,
            "%s circuit breaker %s -> %s",
            cb.name,
            old,
            new,
            extra={
                "gateway": cb.name,
                "breaker_from": old,
                "breaker_to": new,
                "failures": cb.fail_counter,
            },
        )


def _now() -> datetime:
    return datetime.now(UTC)
