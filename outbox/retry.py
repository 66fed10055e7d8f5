"""The retry policy: what becomes of a task after a run. Pure, no I/O.

``RetryPolicy.decide`` turns what a handler returned or raised into a
``Decision``: mark it done, retry it later (exponential backoff with jitter,
capped), defer it to a resource's time without counting the attempt, or mark
it dead (permanent error, or attempts exhausted).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from outbox.exceptions import ConfigError, PermanentError, ResourceUnavailable
from outbox.outcomes import Defer, Done, Retry

# Stored messages are for people reading a console, not for log archaeology.
MAX_ERROR_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class ErrorInfo:
    """An error as stored: its class's qualified name and its message (truncated)."""

    class_name: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        kind = type(exc)
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        return cls(class_name=name, message=str(exc)[:MAX_ERROR_MESSAGE_CHARS])

    @property
    def summary(self) -> str:
        """``Class: message``, as kept in a task's ``last_error``."""
        return f"{self.class_name}: {self.message}" if self.message else self.class_name


@dataclass(frozen=True)
class MarkDone:
    """Complete the task, committing ``writes`` in the same transaction."""

    writes: Callable[[Connection], object] | None = None
    touched: bool | None = None


@dataclass(frozen=True)
class RetryLater:
    """Run again after ``delay_s``; the attempt counted."""

    delay_s: float
    error: ErrorInfo
    touched: bool | None = None


@dataclass(frozen=True)
class DeferUntil:
    """Run again at ``until``, when ``resource`` may be usable; the attempt not counted."""

    until: datetime
    resource: str
    reason: str
    touched: bool | None = False


@dataclass(frozen=True)
class MarkDead:
    """Stop trying. ``exhausted`` tells attempts ran out, else the error was permanent."""

    error: ErrorInfo
    exhausted: bool
    touched: bool | None = None


Decision = MarkDone | RetryLater | DeferUntil | MarkDead

_module_rng = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter between ``base_s`` and ``max_s``.

    After the n-th counted attempt failed, the delay is drawn uniformly from
    ``[base_s, min(max_s, base_s * 2**n)]``: never sooner than ``base_s``, never
    later than ``max_s``, and spread out so that tasks failing together do not
    come back together.
    """

    base_s: float = 1.0
    max_s: float = 300.0

    def __post_init__(self) -> None:
        if not self.base_s > 0:
            raise ConfigError(f"retry base_s must be > 0, got {self.base_s}")
        if not self.max_s >= self.base_s:
            raise ConfigError(f"retry max_s ({self.max_s}) must be >= base_s ({self.base_s})")

    def ceiling_s(self, attempts: int) -> float:
        """The longest delay after ``attempts`` counted attempts (at least ``base_s``)."""
        if attempts >= 64:  # 2**64 * base_s is past any sane max_s
            return self.max_s
        return min(self.max_s, self.base_s * 2.0 ** max(attempts, 0))

    def backoff_s(self, attempts: int, rng: random.Random | None = None) -> float:
        """A jittered delay in ``[base_s, ceiling_s(attempts)]``."""
        return (rng or _module_rng).uniform(self.base_s, self.ceiling_s(attempts))

    def decide(
        self,
        outcome: object,
        *,
        attempts: int,
        max_attempts: int,
        rng: random.Random | None = None,
    ) -> Decision:
        """What to do with a task after a run.

        ``outcome`` is what the handler returned (``Done``, ``Defer``, ``Retry`` or
        ``None``) or the exception it raised; ``attempts`` counts the attempts used
        so far, this run included. The decision carries the outcome's ``touched``.
        Never raises.
        """
        touched: bool | None = None
        if outcome is None:
            return MarkDone()
        if isinstance(outcome, Done):
            return MarkDone(outcome.writes, outcome.touched)
        if isinstance(outcome, Defer):
            return DeferUntil(outcome.until, outcome.resource, outcome.reason, outcome.touched)
        if isinstance(outcome, ResourceUnavailable):
            return DeferUntil(outcome.until, outcome.resource, outcome.reason)
        if isinstance(outcome, Retry):
            touched = outcome.touched
            outcome = outcome.error
        if not isinstance(outcome, BaseException):
            outcome = TypeError(
                f"handler returned {type(outcome).__name__}, not Done, Defer or Retry"
            )
        error = ErrorInfo.of(outcome)
        if isinstance(outcome, PermanentError):
            return MarkDead(error, exhausted=False, touched=touched)
        if attempts >= max_attempts:
            return MarkDead(error, exhausted=True, touched=touched)
        return RetryLater(self.backoff_s(attempts, rng), error, touched)
